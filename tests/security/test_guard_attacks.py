"""The guard's attack list: each way past an adapter that a review found,
run against every adapter it applies to, with real signatures.

(1) dot segments: test_guard_paths.py, against real servers; (8) a refused
Host and (9) a collation loop are Django's own: tests/django/test_django_guard.py.
"""

from __future__ import annotations

import json
import time
from typing import Annotated, Any

import pytest
from cachelib import FileSystemCache
from fastapi import APIRouter, Depends, FastAPI, WebSocket
from flask import Flask, session
from flask_session import Session
from starlette.applications import Starlette
from starlette.authentication import requires
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect
from starsessions import InMemoryStore, SessionAutoloadMiddleware
from starsessions import SessionMiddleware as ServerSideSessions
from werkzeug.test import EnvironBuilder, run_wsgi_app
from wsgi_kit import Visitor
from wsgi_kit import build as build_wsgi

from raven import pending
from raven.asgi import RavenMiddleware as AsgiMiddleware
from raven.asgi import RavenUser, raven_user
from raven.flask_glue import AuthDecorator
from raven.flow import State
from raven.guard import LoginCookie
from raven.settings import ConfigurationError
from raven.testing import login, make_response
from raven.wsgi import RavenMiddleware as WsgiMiddleware

from ..asgi.conftest import Browser as AsgiBrowser
from ..asgi.conftest import settings_dict
from ..conftest import BASE, LOCAL_WLS, Browser, build_app

SECRET = "guard attack secret, long enough"
HOST = "www.example.cam.ac.uk"
WS = "wss://www.example.cam.ac.uk/ws"


def asgi_site(*routes: Any, session: bool = False, **options: Any) -> Starlette:
    """Starlette behind the ASGI middleware: / protected, the rest as asked."""
    async def home(request: Any) -> PlainTextResponse:
        return PlainTextResponse("home of " + request.user.display_name)

    async def whoami(request: Any) -> JSONResponse:
        user = request.user
        return JSONResponse({"user": user.display_name if user.is_authenticated else None})

    options.setdefault("protect", ["/home"])
    middleware = [Middleware(AsgiMiddleware, **({"session": True} if session else
                                                 {"secret_key": SECRET}),
                             **settings_dict(), **options)]
    return Starlette(routes=[Route("/home", home), Route("/public", whoami), *routes],
                     middleware=middleware)


def wsgi_site(**options: Any) -> WsgiMiddleware:
    options.setdefault("protect", ["/home"])
    return build_wsgi(secret_key=SECRET, **options)


# --- 2 and 3: websockets --------------------------------------------------------------


async def hello(websocket: Any) -> None:
    await websocket.accept()
    user = websocket.user
    await websocket.send_text("hello " + (user.display_name if user.is_authenticated
                                          else "nobody"))
    await websocket.close()


def _fastapi_sockets() -> FastAPI:
    app = FastAPI()

    @app.websocket("/ws")
    async def any_login(websocket: WebSocket,
                        user: Annotated[RavenUser, Depends(raven_user)]) -> None:
        await websocket.accept()
        await websocket.send_text("hello " + user.principal)
        await websocket.close()

    @app.websocket("/ws-staff")
    async def staff(websocket: WebSocket,
                    user: Annotated[RavenUser, Depends(raven_user(require_ptags={"staff"}))]
                    ) -> None:
        await websocket.accept()
        await websocket.send_text("staff " + user.principal)
        await websocket.close()

    router = APIRouter(dependencies=[Depends(raven_user)])

    @router.websocket("/ws-router")
    async def routed(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("routed " + websocket.user.display_name)
        await websocket.close()

    @app.get("/home")
    def home(user: Annotated[RavenUser, Depends(raven_user)]) -> str:
        return "home of " + user.principal

    app.include_router(router)
    app.add_middleware(AsgiMiddleware, secret_key=SECRET, protect=(), **settings_dict())
    return app


def _socket(browser: AsgiBrowser, path: str, origin: str | None) -> str:
    headers = {"cookie": f"__Host-raven={browser.cookie}"} if browser.cookie else {}
    if origin is not None:
        headers["origin"] = origin
    with browser.client.websocket_connect(BASE.replace("https", "wss") + path,
                                          headers=headers) as ws:
        return str(ws.receive_text())


@pytest.mark.parametrize("path", ["/ws", "/ws-staff", "/ws-router"])
@pytest.mark.parametrize("origin", [None, "https://evil.cam.ac.uk", "null", BASE + ":444"])
def test_2_a_websocket_dependency_admits_no_one_anonymous_or_cross_site(path, origin):
    anonymous = AsgiBrowser(_fastapi_sockets())
    with pytest.raises(WebSocketDisconnect) as closed:
        _socket(anonymous, path, BASE)
    assert closed.value.code == 1008
    browser = AsgiBrowser(_fastapi_sockets())
    assert browser.login("/home", ptags={"current", "staff"}).status_code == 200
    with pytest.raises(WebSocketDisconnect) as closed:
        _socket(browser, path, origin)  # the cookie alone, from another page
    assert closed.value.code == 1008


def test_2_a_websocket_dependency_lets_in_its_own_sites_pages_by_the_routes_rules():
    browser = AsgiBrowser(_fastapi_sockets())
    assert browser.login("/home").status_code == 200  # current, not staff
    assert _socket(browser, "/ws", BASE) == "hello test0001"
    assert _socket(browser, "/ws-router", BASE) == "routed test0001"
    with pytest.raises(WebSocketDisconnect) as closed:
        _socket(browser, "/ws-staff", BASE)
    assert closed.value.code == 1008
    staff = AsgiBrowser(_fastapi_sockets())
    staff.login("/home", ptags={"current", "staff"})
    assert _socket(staff, "/ws-staff", BASE) == "staff test0001"


@pytest.mark.parametrize(("origin", "seen"), [
    (BASE, "hello test0001"), ("https://evil.cam.ac.uk", "hello nobody"),
    ("null", "hello nobody"), (None, "hello nobody"),
])
def test_3_a_cross_site_websocket_carries_no_identity_on_any_path(origin, seen):
    browser = AsgiBrowser(asgi_site(WebSocketRoute("/ws", hello)))  # /ws not protected
    browser.login("/home")
    assert _socket(browser, "/ws", origin) == seen


# --- 4: a planted login cookie ---------------------------------------------------------


def _genuine_cookie_of(site: Any, principal: str, client_for: Any) -> str:
    """What an attacker gets by logging in to the site themselves."""
    attacker = client_for(site)
    attacker.login("/home", principal=principal)
    return str(attacker.cookie.value if hasattr(attacker.cookie, "value") else attacker.cookie)


@pytest.mark.parametrize("adapter", ["wsgi", "asgi"])
def test_4_no_sibling_site_can_plant_or_shadow_the_login_cookie(adapter):
    if adapter == "wsgi":
        site, visitor_for = wsgi_site(), Visitor
    else:
        site, visitor_for = asgi_site(), AsgiBrowser
    victim = visitor_for(site)
    url, params, _ = victim.start("/home")
    answer = victim.come_back(url, make_response(url, params=params))
    headers = getattr(answer.headers, "getlist", None) or answer.headers.get_list
    names = [header.partition("=")[0] for header in headers("set-cookie")]
    assert sorted(names)[0] == "__Host-raven", names
    assert pending.params_for(sorted(names)[1].removeprefix("__Host-raven-login-")) == params
    for header in headers("set-cookie"):
        # https: __Host- cookies, which no other host can set or shadow
        assert "; Secure" in header and "Domain" not in header
    mine = victim.cookie.value if adapter == "wsgi" else victim.cookie
    planted = _genuine_cookie_of(site, "test0666", visitor_for)
    # Two genuine cookies of the name (the site's own, and one a sibling
    # planted where a browser would send it first): neither is trusted.
    both = f"__Host-raven={planted}; __Host-raven={mine}"
    assert _sent(site, "/public", both) == (200, None)
    assert _sent(site, "/home", both)[0] == 303
    # the control: the site's own cookie alone is the victim's login
    assert _sent(site, "/public", f"__Host-raven={mine}") == (200, "test0001")


def _sent(site: Any, path: str, cookie: str) -> tuple[int, str | None]:
    """(status, user shown) for a request carrying exactly ``cookie``."""
    if isinstance(site, WsgiMiddleware):
        environ = EnvironBuilder(path, base_url=BASE, headers={"Cookie": cookie}).get_environ()
        body, status, _ = run_wsgi_app(site, environ)
        data = b"".join(body)
        user = json.loads(data)["remote_user"] if status.startswith("200") else None
        return int(status[:3]), user
    answer = TestClient(site, base_url=BASE, follow_redirects=False).get(
        path, headers={"Cookie": cookie})
    return answer.status_code, answer.json()["user"] if answer.status_code == 200 else None


# --- 5: a login never keeps a session id that existed before it ----------------------


def test_5a_asgi_server_side_session_gets_a_new_id_at_login():
    async def whoami(request: Any) -> JSONResponse:
        return JSONResponse({"user": request.user.display_name})

    async def visit(request: Any) -> JSONResponse:  # a page that keeps a session
        request.session["visited"] = True
        return JSONResponse({})

    store = InMemoryStore()
    app = Starlette(routes=[Route("/home", whoami), Route("/visit", visit)], middleware=[
        Middleware(ServerSideSessions, store=store, cookie_https_only=True),
        Middleware(SessionAutoloadMiddleware),
        Middleware(AsgiMiddleware, session=True, protect=["/home"], **settings_dict()),
    ])
    browser = AsgiBrowser(app)
    browser.get("/visit")  # a session id, as an attacker would get one to plant
    planted = browser.client.cookies.get("session")
    assert planted is not None
    assert browser.login("/home").json() == {"user": "test0001"}
    now = browser.client.cookies.get("session")
    assert now is not None and now != planted
    # The planted id holds no login: whoever kept it is still anonymous.
    attacker = AsgiBrowser(app)
    attacker.client.cookies.set("session", planted, domain=HOST)
    assert attacker.get("/home").status_code == 303


class ClearingDecorator(AuthDecorator):
    """docs/flask.md's own session_new(): clears the previous user's data."""

    def session_new(self) -> None:
        session.clear()


def test_5b_flask_server_side_session_gets_a_new_id_even_when_session_new_clears(tmp_path):
    app, _ = build_app(ClearingDecorator(), SESSION_TYPE="cachelib",
                       SESSION_CACHELIB=FileSystemCache(str(tmp_path)), SESSION_USE_SIGNER=False)
    Session(app)
    browser = Browser(app)
    planted = browser.with_session()  # as an attacker would plant it
    assert browser.login("/").get_data(as_text=True) == "You are test0001"
    first = browser.client.get_cookie("session", domain=HOST).value
    assert first != planted
    attacker = Browser(app)
    attacker.client.set_cookie("session", planted, domain=HOST)
    assert attacker.get("/").status_code == 303
    # The same user logging in again (the login expired, or a fresher one
    # was wanted) gets a new id too: whoever learnt the first keeps nothing.
    browser.edit_state(issue=int(time.time()) - 7200)
    assert browser.login("/").get_data(as_text=True) == "You are test0001"
    assert browser.client.get_cookie("session", domain=HOST).value not in (planted, first)


def test_5_a_flask_session_without_regenerate_is_refused_at_start_up():
    class IdsWithoutRegenerate:  # a server-side store that cannot change an id
        pass

    app = Flask(__name__)
    app.config.update(SECRET_KEY="k", TRUSTED_HOSTS=[HOST], RAVEN_WLS=LOCAL_WLS)
    app.session_interface = IdsWithoutRegenerate()  # type: ignore[assignment]
    with pytest.raises(ConfigurationError, match="regenerate"):
        AuthDecorator(app=app)


# --- 6: every answer built for an identity is private -------------------------------


def test_6_flask_an_undecorated_page_that_shows_the_user_is_private():
    app, _ = build_app()
    browser = Browser(app)
    assert browser.get("/public").headers.get("Cache-Control") is None  # nobody: no change
    browser.login("/")
    r = browser.get("/public")
    assert (r.json["principal"], r.headers["Cache-Control"]) == ("test0001", "private")


def test_6_wsgi_an_unprotected_page_for_a_logged_in_user_is_private():
    visitor = Visitor(wsgi_site())
    assert "Cache-Control" not in visitor.get("/public").headers
    visitor.login("/home")
    r = visitor.get("/public")
    assert (r.json["remote_user"], r.headers["Cache-Control"]) == ("test0001", "private")


def test_6_asgi_a_page_outside_the_protected_paths_built_for_the_user_is_private():
    async def members(request: Any) -> PlainTextResponse:
        return PlainTextResponse("members: " + request.user.display_name,
                                 headers={"Cache-Control": "public, max-age=600"})

    browser = AsgiBrowser(asgi_site(Route("/members", requires("authenticated")(members))))
    browser.login("/home")
    r = browser.get("/members")
    assert (r.text, r.headers["cache-control"]) == ("members: test0001", "private, max-age=600")
    assert "cache-control" not in AsgiBrowser(asgi_site()).get("/public").headers


# --- 7: a user the site refuses is nobody anywhere -----------------------------------


def test_7_flask_a_refused_user_is_nobody_on_undecorated_views():
    app, _ = build_app(AuthDecorator(require_principal={"test0002"}))
    browser = Browser(app)
    assert browser.login("/").status_code == 403
    assert browser.get("/public").json["principal"] is None


def test_7_wsgi_a_refused_user_is_nobody_on_unprotected_paths():
    class OnlyTest0002(WsgiMiddleware):
        def check_authorised(self, principal: str, ptags: frozenset[str]) -> bool:
            return principal == "test0002"

    visitor = Visitor(OnlyTest0002(
        wsgi_site().app, secret_key=SECRET, wls=LOCAL_WLS, origin=BASE, protect=["/home"]))
    assert visitor.login("/home").status_code == 403
    assert visitor.get("/public").json["remote_user"] is None


def test_7_asgi_a_refused_user_is_nobody_on_unprotected_paths():
    browser = AsgiBrowser(asgi_site(require_principal={"test0002"}))
    assert browser.login("/home").status_code == 403
    assert browser.get("/public").json() == {"user": None}


# --- 10: weak cookie keys ---------------------------------------------------------------


@pytest.mark.parametrize("key", [None, "", "k", "password", "x" * 32])
@pytest.mark.parametrize("adapter", ["wsgi", "asgi"])
def test_10_every_adapter_refuses_a_missing_or_weak_key_at_start_up(adapter, key):
    with pytest.raises(ConfigurationError, match="secret_key is (missing|too weak)"):
        if adapter == "wsgi":
            WsgiMiddleware(lambda e, s: [], secret_key=key, wls=LOCAL_WLS, origin=BASE)
        else:
            AsgiMiddleware(Starlette(), secret_key=key, **settings_dict())


# --- 11: an override point runs once a request -----------------------------------------


def test_11_flask_check_authorised_runs_once_on_a_refused_request():
    calls: list[str] = []

    class Counting(AuthDecorator):
        def check_authorised(self, principal: str, ptags: frozenset[str]) -> bool:
            calls.append(principal)
            return False

    app, auth = build_app(Counting())
    browser = Browser(app)
    assert browser.login("/").status_code == 403
    calls.clear()
    assert browser.get("/").status_code == 403
    assert calls == ["test0001"]
    calls.clear()
    browser.get("/public")  # its properties read the login five times
    assert calls == ["test0001"]


def test_11_wsgi_check_authorised_runs_once_a_request():
    calls: list[str] = []

    class Counting(WsgiMiddleware):
        def check_authorised(self, principal: str, ptags: frozenset[str]) -> bool:
            calls.append(principal)
            return principal == "test0001"

    visitor = Visitor(Counting(wsgi_site().app, secret_key=SECRET, wls=LOCAL_WLS, origin=BASE,
                               protect=["/home"]))
    visitor.login("/home")
    for path in ("/home", "/public"):
        calls.clear()
        assert visitor.get(path).status_code == 200
        assert calls == ["test0001"]


def test_11_asgi_authorise_runs_once_a_request_with_a_routes_dependency():
    calls: list[str] = []

    def authorise(principal: str, ptags: frozenset[str]) -> bool:
        calls.append(principal)
        return principal == "test0001"

    app = FastAPI()

    @app.get("/home")
    def home(user: Annotated[RavenUser, Depends(raven_user(require_ptags={"current"}))]) -> str:
        return user.principal

    app.add_middleware(AsgiMiddleware, secret_key=SECRET, protect=["/home"],
                       authorise=authorise, **settings_dict())
    browser = AsgiBrowser(app)
    browser.login("/home")
    calls.clear()
    assert browser.get("/home").json() == "test0001"
    assert calls == ["test0001"]


# --- the state the cookie holds, read back -------------------------------------------


def test_a_cookie_written_by_one_middleware_is_read_by_the_same_rule():
    """WSGI and ASGI share one codec: a cookie from one with the same secret
    and name is good in the other (so both follow one rule, not two)."""
    wsgi = wsgi_site()
    asgi = AsgiMiddleware(Starlette(), secret_key=SECRET, **settings_dict())
    assert isinstance(wsgi.cookie, LoginCookie) and isinstance(asgi.cookie, LoginCookie)
    value = wsgi.cookie.dumps(State(("t",)), time.time())
    assert asgi.cookie is not None
    assert State.load(asgi.cookie.loads(value, time.time())).tokens == ("t",)


def test_login_helper_sees_the_same_pages_in_every_adapter():
    assert login(TestClient(asgi_site(), base_url=BASE), BASE + "/home").text == \
        "home of test0001"
    assert Visitor(wsgi_site()).login("/home").status_code == 200
    assert SessionMiddleware is not None  # Starlette's own session: test_asgi_flow.py


@pytest.mark.parametrize("rule", ["require_ptags", "require_principal"])
def test_a_route_rule_that_cannot_loosen_the_sites_is_refused_at_start_up(rule):
    with pytest.raises(ConfigurationError, match=f"{rule}=None cannot loosen"):
        raven_user(**{rule: None})


# --- a request that is not a page visit: 401, not a redirect (every adapter) -----------

FETCHES = [  # (headers, method): what scripts and API clients send
    ({"Sec-Fetch-Mode": "cors", "Sec-Fetch-Dest": "empty"}, "GET"),
    ({"Accept": "application/json"}, "GET"),
    ({"Content-Type": "application/json"}, "POST"),
]
PAGES = [  # what a person's browser sends
    ({"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}, "GET"),
    ({"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}, "POST"),
    ({"Accept": "text/html,*/*;q=0.8"}, "GET"),
    ({}, "GET"),  # a link followed by a client that says nothing
]


def _answer(adapter: str, headers: dict[str, str], method: str, **settings: Any) -> Any:
    if adapter == "flask":
        app, _ = build_app(**{f"RAVEN_{k.upper()}": v for k, v in settings.items()})
        return Browser(app).open("/page", method=method, headers=headers)
    if adapter == "wsgi":
        return Visitor(wsgi_site(**settings)).open("/home", method=method, headers=headers)
    return AsgiBrowser(asgi_site(**settings)).request(method, "/home", headers=headers)


def _json(answer: Any) -> Any:
    return answer.json if isinstance(answer.json, dict) else answer.json()


@pytest.mark.parametrize("adapter", ["flask", "wsgi", "asgi"])
@pytest.mark.parametrize(("headers", "method"), FETCHES)
def test_a_script_gets_401_with_where_to_log_in(adapter, headers, method):
    r = _answer(adapter, headers, method)
    assert r.status_code == 401
    body = _json(r)
    assert body["error"] == "login_required"
    assert body["login_url"].startswith(BASE + "/")
    assert r.headers["WWW-Authenticate"].startswith('Raven realm="Test site", login_url="')
    assert r.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in r.headers  # no login was started


@pytest.mark.parametrize("adapter", ["flask", "wsgi", "asgi"])
@pytest.mark.parametrize(("headers", "method"), PAGES)
def test_a_page_visit_still_goes_to_the_wls(adapter, headers, method):
    r = _answer(adapter, headers, method)
    assert r.status_code == 303 and r.headers["Location"].startswith(LOCAL_WLS)
    # It sets the login's cookie: a cache that kept it would share the login.
    assert r.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("adapter", ["flask", "wsgi", "asgi"])
def test_a_site_may_send_scripts_to_the_wls_too(adapter):
    r = _answer(adapter, {"Accept": "application/json"}, "GET", api_401=False)
    assert r.status_code == 303 and r.headers["Location"].startswith(LOCAL_WLS)


def test_one_flask_view_may_send_scripts_to_the_wls():
    app, _ = build_app(AuthDecorator(api_401=False))
    assert Browser(app).get("/page", headers={"Accept": "application/json"}).status_code == 303


def test_the_demo_key_warning_is_said_once_not_per_route_rule(caplog):
    import logging

    app = _fastapi_sockets()  # the middleware and two route rule sets
    with caplog.at_level(logging.WARNING, logger="raven"):
        browser = AsgiBrowser(app)
        browser.login("/home", ptags={"current", "staff"})
        _socket(browser, "/ws-staff", BASE)
    # once, from the middleware's own settings (built on the first request)
    assert len([r for r in caplog.records if "demo key" in r.getMessage()]) == 1


# --- a logged-in request at a host or port the site does not answer to ------------------

WRONG_HOSTS = ["www.example.cam.ac.uk:8443", "evil.example.com", "WWW.EXAMPLE.CAM.AC.UK:444"]


@pytest.mark.parametrize("host", WRONG_HOSTS)
@pytest.mark.parametrize("adapter", ["flask", "wsgi", "asgi"])
def test_a_logged_in_request_at_another_host_is_refused(adapter, host):
    if adapter == "flask":
        # RAVEN_ORIGIN alone (no TRUSTED_HOSTS, which Werkzeug itself enforces)
        app, _ = build_app(RAVEN_ORIGIN=BASE, TRUSTED_HOSTS=None)
        visitor: Any = Browser(app)
        visitor.login("/")
        r = visitor.client.get("/page", base_url=BASE, headers={"Host": host})
        assert visitor.client.get("/page", base_url=BASE).status_code == 200  # the control
    elif adapter == "wsgi":
        visitor = Visitor(wsgi_site())
        visitor.login("/home")
        r = visitor.get("/home", headers={"Host": host})
        assert visitor.get("/home").status_code == 200
    else:
        visitor = AsgiBrowser(asgi_site())
        visitor.login("/home")
        r = visitor.get("/home", headers={"Host": host})
        assert visitor.get("/home").status_code == 200
    assert r.status_code == 400
    text = r.get_data(as_text=True) if hasattr(r, "get_data") else r.text
    assert "Check that failed: host" in text


# --- a response seen in a URL (a log, a history) used from another browser ---------------


def _browsers(adapter: str) -> tuple[Any, Any, str]:
    """A victim and an attacker at one site, and its protected path."""
    if adapter == "flask":
        app, _ = build_app()
        return Browser(app), Browser(app), "/"
    if adapter == "wsgi":
        site = wsgi_site()
        return Visitor(site), Visitor(site), "/home"
    app = asgi_site()
    return AsgiBrowser(app), AsgiBrowser(app), "/home"


def _plant(browser: Any, name: str, value: str) -> None:
    if isinstance(browser, AsgiBrowser):
        browser.client.cookies.set(name, value, domain=HOST)
    else:
        browser.client.set_cookie(name, value, domain=HOST, secure=True)


@pytest.mark.parametrize("adapter", ["flask", "wsgi", "asgi"])
def test_a_leaked_response_is_no_login_in_another_browser(adapter):
    """Whoever sees a response knows its params; a cookie they name after
    them in their own browser binds nothing: only a digest of the token
    travels."""
    victim, attacker, path = _browsers(adapter)
    url, params, _ = victim.start(path)
    leaked = make_response(url, params=params)
    attacker.start(path)  # a login of the attacker's own under way, too
    _plant(attacker, f"__Host-raven-login-{params}", str(int(time.time())))
    r = attacker.come_back(url, leaked)
    assert r.status_code == 400 and "Check that failed: params" in r.text
    assert attacker.get(path).status_code == 303  # not logged in
    assert victim.come_back(url, leaked).status_code == 303  # the victim's own: logged in
    assert victim.get(path).status_code == 200


@pytest.mark.parametrize("adapter", ["flask", "wsgi", "asgi"])
def test_a_tab_left_at_the_wls_does_not_log_in_again_after_a_logout(adapter):
    browser, _, path = _browsers(adapter)
    url, params, _ = browser.start(path)  # tab 1, left at the WLS
    browser.login(path)  # tab 2 logs in
    if adapter == "flask":
        out = browser.get("/logout")
    elif adapter == "wsgi":
        out = browser.logout()
    else:
        out = browser.client.post("/raven/logout", headers={"Origin": BASE})
    assert out.status_code == 303
    r = browser.come_back(url, make_response(url, "test0002", params=params))
    # The logout deleted every cookie of ours: none came back with it.
    assert r.status_code == 403 and "Check that failed: cookies" in r.text
    assert browser.get(path).status_code == 303


def _names(browser: Any) -> list[str]:
    if isinstance(browser, AsgiBrowser):
        return list(browser.client.cookies.keys())
    return [cookie.key for cookie in browser.client._cookies.values()]


def _cookies_set(r: Any) -> set[str]:
    headers = r.headers
    lines = headers.get_list("set-cookie") if hasattr(headers, "get_list") else (
        headers.getlist("Set-Cookie"))
    return {line.split("=", 1)[0] for line in lines}


@pytest.mark.parametrize("adapter", ["flask", "wsgi", "asgi"])
@pytest.mark.parametrize(("fields", "status", "spent"), [
    ({"status": 410}, 401, True),  # a WLS's answer to this login: its token is spent
    ({"params": "another tab's"}, 400, False),  # no login of this browser's: nothing spent
    ({"for_url": BASE + "/x"}, 400, False),
])
def test_a_refused_login_makes_no_session_for_a_visitor_without_one(adapter, fields, status,
                                                                    spent):
    browser, _, path = _browsers(adapter)
    url, params, _ = browser.start(path)
    [token] = [name for name in _names(browser) if name.startswith("__Host-raven-login-")]
    fields = {"params": params, **fields}
    r = browser.come_back(url, make_response(fields.pop("for_url", url), **fields))
    assert r.status_code == status
    # Only the login under way may be written (spent): no session, no login cookie.
    assert _cookies_set(r) == ({token} if spent else set())
