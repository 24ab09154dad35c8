"""Every decision of the flow through RavenMiddleware and raven_user, over
Starlette's TestClient, with responses signed for real with the demo key."""

from __future__ import annotations

import logging
from urllib.parse import parse_qs, urlsplit

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocket, WebSocketDisconnect

from raven import pending
from raven.asgi import SESSION_KEY, ConfigurationError, RavenMiddleware
from raven.testing import LoginFlowError, make_response

BASE = "https://www.example.cam.ac.uk"  # as in conftest.py
SECRET = "another test secret, long enough"
WS = "wss://www.example.cam.ac.uk/ws"


def test_protected_page_sends_the_browser_to_the_wls(browser):
    url, params, query = browser.start("/")
    assert url == BASE + "/"
    assert query["desc"] == "Test site"
    # The token is kept in a cookie of its own (raven.pending), not the login
    # cookie; only its digest travels.
    [token] = browser.state["tokens"]
    assert params == pending.params_for(token) != token
    [morsel] = list(browser.client.cookies.jar)
    assert morsel.name == f"__Host-raven-login-{token}" and morsel.secure


def test_set_cookie_flags(browser):
    url, params, _ = browser.start("/")
    r = browser.come_back(url, make_response(url, params=params))  # the login cookie
    [header] = [h for h in r.headers.get_list("set-cookie") if h.startswith("__Host-raven=")]
    for flag in ("HttpOnly", "SameSite=Lax", "Secure", "Path=/"):
        assert flag in header
    assert "Max-Age" not in header and "Expires" not in header  # ends with the browser


def test_login_then_the_page(browser, raven_log):
    url, params, _ = browser.start("/page?x=1")
    r = browser.come_back(url, make_response(url, params=params))
    assert r.status_code == 303
    assert r.headers["location"] == BASE + "/page?x=1"
    assert browser.state["principal"] == "test0001"
    assert browser.state["tokens"] == []
    page = browser.get("/page?x=1")
    assert page.text == "You are test0001"
    assert page.headers["cache-control"] == "private"
    assert "logged in" in raven_log(logging.INFO)[-1].getMessage()


def test_identity_in_the_scope(browser):
    assert browser.get("/public").json() == {
        "authenticated": False, "name": "", "scopes": [],
        "raven": {"principal": None, "ptags": [], "expires": None},
    }
    browser.login("/", ptags={"current", "staff"})
    seen = browser.get("/public").json()
    assert seen["authenticated"] is True
    assert seen["name"] == "test0001"
    assert seen["scopes"] == ["authenticated", "ptag:current", "ptag:staff"]
    assert seen["raven"]["ptags"] == ["current", "staff"]
    assert seen["raven"]["expires"] == browser.state["issue"] + 7200


def test_login_rotates_the_cookie(browser):
    browser.start("/")
    before = browser.cookie
    browser.login("/")
    assert browser.cookie != before


def test_not_authorised_is_403(browser_for, starlette_app, raven_log):
    browser = browser_for(starlette_app(require_ptags={"staff"}))
    r = browser.login("/")
    assert r.status_code == 403
    assert "You may not see this page" in r.text
    assert "test0001" in r.text
    # the same page as every adapter's: a log-out button (POST, this site)
    assert '<form method="post" action="/raven/logout">' in r.text
    assert r.headers["cache-control"] == "no-store"
    assert "not authorised" in raven_log(logging.INFO)[-1].getMessage()


def test_authorise_callable(browser_for, starlette_app):
    browser = browser_for(starlette_app(authorise=lambda principal, ptags: principal == "abc12"))
    assert browser.login("/").status_code == 403
    other = browser_for(starlette_app(authorise=lambda principal, ptags: principal == "abc12"))
    assert other.login("/", principal="abc12").text == "You are abc12"


def test_wls_failure_is_401_and_no_loop(browser, raven_log):
    url, params, _ = browser.start("/")
    r = browser.come_back(url, make_response(url, status=410, params=params))
    assert r.status_code == 401
    assert "location" not in r.headers
    assert browser.state is None  # the token spent, and no session made for it


def test_expired_login_goes_back_to_the_wls(browser_for, starlette_app):
    browser = browser_for(starlette_app(max_life=60))
    from datetime import timedelta

    from raven.response import utcnow

    url, params, _ = browser.start("/")
    old = make_response(url, params=params, issue=utcnow() - timedelta(seconds=10))
    assert browser.come_back(url, old).status_code == 303
    assert browser.get("/").status_code == 200
    browser2 = browser_for(starlette_app(max_life=5, issue_bounds=(30, 5)))
    url, params, _ = browser2.start("/")
    r = browser2.come_back(url, make_response(url, params=params,
                                              issue=utcnow() - timedelta(seconds=10)))
    assert r.status_code == 403  # expired on arrival: refused, not kept
    assert "principal" not in (browser2.state or {})


def test_unprotected_paths_pass_and_exempt_wins(browser, browser_for, starlette_app):
    assert browser.get("/public").status_code == 200
    only_page = browser_for(starlette_app(protect=["/page"], exempt=()))
    assert only_page.get("/").status_code == 200
    assert only_page.get("/page").status_code == 303
    assert only_page.get("/pages").status_code == 404  # a prefix is a path segment


def test_logout_forgets_and_goes_to_the_wls_logout(browser):
    browser.login("/")
    r = browser.request("POST", "/logout", headers={"Origin": BASE})
    assert r.status_code == 303
    # the local test WLS's logout page links back to the site
    assert r.headers["location"] == "http://127.0.0.1:5001/auth/logout.html?return=https%3A%2F%2Fwww.example.cam.ac.uk%2F"
    assert browser.cookie is None
    assert browser.get("/").status_code == 303


def test_post_needing_a_login_is_a_redirect_with_a_warning(browser, raven_log):
    r = browser.request("POST", "/page", data={"a": "1"},  # a form, as a browser sends it
                        headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert r.status_code == 303
    assert "data it carried is lost" in raven_log()[0].getMessage()


def test_session_middleware_holds_the_login_when_installed(browser_for, starlette_app):
    browser = browser_for(starlette_app(session=True))
    assert browser.login("/").text == "You are test0001"
    assert browser.cookie is None  # nothing of ours beside the session
    assert browser.client.cookies.get("session") is not None
    assert browser.request("POST", "/logout", headers={"Origin": BASE}).status_code == 303
    assert browser.get("/").status_code == 303


def test_session_cleared_for_a_new_user(browser_for, raven_settings):
    from starlette.middleware import Middleware
    from starlette.middleware.sessions import SessionMiddleware
    from starlette.responses import JSONResponse

    async def put(request):
        request.session["cart"] = "previous user's"
        return JSONResponse(dict(request.session))

    async def show(request):
        return JSONResponse(sorted(request.session))

    app = Starlette(routes=[Route("/put", put), Route("/", show)], middleware=[
        Middleware(SessionMiddleware, secret_key="s", https_only=True),
        Middleware(RavenMiddleware, session=True, protect=["/"], exempt=["/put"],
                   **raven_settings()),
    ])
    browser = browser_for(app)
    browser.get("/put")
    assert browser.login("/").json() == [SESSION_KEY]


def test_bad_configuration_fails_at_start_up():
    with pytest.raises(ConfigurationError, match="RAVEN_ORIGIN"):
        RavenMiddleware(Starlette(), secret_key=SECRET, wls="demo")
    with pytest.raises(ConfigurationError, match="unknown Raven setting"):
        RavenMiddleware(Starlette(), secret_key=SECRET, origin=BASE, colour="red")
    with pytest.raises(ConfigurationError, match="require_ptags"):
        RavenMiddleware(Starlette(), secret_key=SECRET, origin=BASE, require_ptags="")
    with pytest.raises(ConfigurationError, match="starting with"):
        RavenMiddleware(Starlette(), secret_key=SECRET, origin=BASE, protect=["admin"])


def test_settings_from_a_mapping_with_keywords_winning():
    app = Starlette(routes=[Route("/", lambda r: None)], middleware=[])
    middleware = RavenMiddleware(app, secret_key=SECRET, settings={
        "RAVEN_ORIGIN": BASE, "RAVEN_DESC": "from the mapping", "RAVEN_WLS": "demo",
    }, desc="from code")
    assert middleware.settings.desc == "from code"
    assert middleware.settings.origins == frozenset({BASE})


def test_no_secret_and_no_session_is_an_error_at_start_up(raven_settings):
    app = Starlette(routes=[], middleware=[])
    with pytest.raises(ConfigurationError, match="secret_key is missing"):
        RavenMiddleware(app, **raven_settings())


@pytest.mark.parametrize(("key", "problem"), [
    ("", "missing"), (b"", "missing"), ("short", "too weak"), ("a" * 40, "too weak"),
    (b"0101010101010101", "too weak"), (12345678901234567890, "missing"),
])
def test_a_weak_secret_is_an_error_at_start_up(raven_settings, key, problem):
    with pytest.raises(ConfigurationError, match=f"secret_key is {problem}"):
        RavenMiddleware(Starlette(), secret_key=key, **raven_settings())


def test_the_secret_may_come_from_the_settings_mapping(raven_settings):
    middleware = RavenMiddleware(Starlette(), settings={"RAVEN_SECRET_KEY": SECRET},
                                 **raven_settings())
    assert middleware.cookie is not None and middleware.cookie.name == "__Host-raven"


@pytest.mark.parametrize(("old", "new"), [("paths", "protect"), ("max_age", "cookie_max_age"),
                                          ("https_only", "cookie_secure"),
                                          ("template_dir", "template_dirs")])
def test_a_retired_argument_names_its_replacement(raven_settings, old, new):
    with pytest.raises(ConfigurationError, match=f"{old}= is now {new}="):
        RavenMiddleware(Starlette(), secret_key=SECRET, **{old: None}, **raven_settings())


def test_http_origin_gets_no_secure_flag(browser_for, starlette_app):
    browser = browser_for(starlette_app(origin="http://127.0.0.1:8000"), "http://127.0.0.1:8000")
    assert "Secure" not in browser.get("/").headers["set-cookie"]
    assert browser.login("/").text == "You are test0001"


def test_websocket_on_a_protected_path_needs_a_login(browser_for, starlette_app):
    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("hello " + websocket.user.display_name)
        await websocket.close()

    app = starlette_app()
    app.router.routes.append(WebSocketRoute("/ws", echo))
    browser = browser_for(app)
    with pytest.raises(WebSocketDisconnect) as closed, browser.client.websocket_connect(WS):
        pass
    assert closed.value.code == 1008
    browser.login("/")
    cookie = {"cookie": f"__Host-raven={browser.cookie}", "origin": BASE}  # sent by hand here
    with browser.client.websocket_connect(WS, headers=cookie) as ws:
        assert ws.receive_text() == "hello test0001"
    # the cookie alone is not enough: any *.cam.ac.uk page is the same site
    for origin in ("https://other.cam.ac.uk", "null", None):
        headers = {"cookie": cookie["cookie"], **({"origin": origin} if origin else {})}
        with pytest.raises(WebSocketDisconnect) as closed, \
                browser.client.websocket_connect(WS, headers=headers):
            pass
        assert closed.value.code == 1008


# --- FastAPI ------------------------------------------------------------------------


@pytest.fixture
def api(browser_for, fastapi_app):
    return browser_for(fastapi_app())


def test_fastapi_dependency_sends_to_the_wls_then_lets_in(api):
    url, params, _ = api.start("/")
    assert url == BASE + "/"
    r = api.come_back(url, make_response(url, params=params))
    assert r.status_code == 303
    body = api.get("/").json()
    assert body["principal"] == "test0001"
    assert body["ptags"] == ["current"]
    assert body["expires"] == api.state["issue"] + 7200


def test_fastapi_route_rule_403(api, browser_for, fastapi_app):
    api.login("/")
    r = api.get("/staff")
    assert r.status_code == 403
    assert "You may not see this page" in r.text
    staff = browser_for(fastapi_app())
    assert staff.login("/staff", ptags={"staff", "current"}).text == '"staff page for test0001"'
    # a route asks for more than the site, never for less: 'current' still holds
    former = browser_for(fastapi_app())
    assert former.login("/staff", ptags={"staff"}).status_code == 403


def test_fastapi_stricter_route_asks_again(api):
    api.login("/", auth=None, sso={"pwd"})
    r = api.get("/admin")
    assert r.status_code == 303
    assert "iact=yes" in r.headers["location"]
    assert api.login("/admin").text == '"ADMIN for test0001"'


def test_fastapi_unprotected_route_sees_the_login(api):
    assert api.get("/public").json() == {"authenticated": False, "principal": None}
    api.login("/")
    assert api.get("/public").json() == {"authenticated": True, "principal": "test0001"}
    assert api.request("POST", "/logout", headers={"Origin": BASE}).status_code == 303
    assert api.get("/public").json() == {"authenticated": False, "principal": None}


def test_fastapi_refused_response_is_a_page(api, raven_log):
    url, params, _ = api.start("/")
    r = api.come_back(url, make_response(url, params="wrong"))
    assert r.status_code == 400
    assert "Check that failed: params" in r.text
    [line] = raven_log()
    assert "check params" in line.getMessage()


def test_raven_testing_login_over_testclient(api):
    page = api.login("/")
    assert page.status_code == 200
    assert parse_qs(urlsplit(str(page.url)).query) == {}


def test_raven_testing_login_tells_when_not_protected(api):
    with pytest.raises(LoginFlowError, match="not a redirect"):
        api.login("/public")


def test_dependency_rule_checked_at_import():
    from raven.asgi import raven_user
    with pytest.raises(ConfigurationError):
        raven_user(require_ptags=[])


def test_the_403_page_has_a_log_out_button_with_site_logout(browser_for, starlette_app):
    browser = browser_for(starlette_app(require_ptags={"staff"}, site_logout="/logout"))
    r = browser.login("/")
    assert r.status_code == 403
    assert "You are logged in to Test site as <strong>test0001</strong>" in r.text
    assert "staff and students" not in r.text and "close your browser" not in r.text
    assert '<form method="post" action="/logout">' in r.text
    out = browser.request("POST", "/logout", headers={"Origin": BASE})  # the button
    assert out.status_code == 303 and browser.cookie is None


def test_a_refused_logout_offers_the_sites_own_log_out(browser_for, starlette_app):
    browser = browser_for(starlette_app())
    browser.login("/")
    r = browser.request("POST", "/logout", headers={"Origin": "https://evil.example"})
    assert r.status_code == 403 and "You have not been logged out" in r.text
    assert '<form method="post" action="/raven/logout">' in r.text  # logout_path
    out = browser.request("POST", "/raven/logout", headers={"Origin": BASE})  # the button
    assert out.status_code == 303 and browser.cookie is None


# --- the session middleware's place, found at start-up ------------------------------------


def session_app(order, raven_settings):
    from starlette.middleware import Middleware
    from starlette.middleware.sessions import SessionMiddleware

    raven = Middleware(RavenMiddleware, session=True, **raven_settings())
    sessions = Middleware(SessionMiddleware, secret_key="s", https_only=True)
    stack = {"outside": [sessions, raven], "inside": [raven, sessions], "none": [raven]}
    return Starlette(routes=[Route("/", lambda r: PlainTextResponse("hi"))],
                     middleware=stack[order])


def session_warnings(caplog):
    return [r for r in caplog.records if getattr(r, "raven_mismatch", None) == "session"]


def test_a_session_middleware_inside_is_refused_at_start_up(raven_settings, caplog):
    from starlette.middleware.sessions import SessionMiddleware

    app = session_app("inside", raven_settings)
    with pytest.raises(ConfigurationError, match="is inside it") as raised:
        with TestClient(app):  # the lifespan start-up builds the middleware
            pass
    assert "list Middleware(SessionMiddleware, ...) before Middleware(RavenMiddleware" \
           in str(raised.value)
    assert any(r.levelno == logging.ERROR for r in caplog.records if r.name == "raven")
    # wrapped by hand, or around an app that has one: at construction
    with pytest.raises(ConfigurationError, match="is inside it"):
        RavenMiddleware(SessionMiddleware(Starlette(), secret_key="s"), session=True,
                        **raven_settings())
    with pytest.raises(ConfigurationError, match="is inside it"):
        RavenMiddleware(Starlette(middleware=[Middleware(SessionMiddleware, secret_key="s")]),
                        session=True, **raven_settings())


def test_fastapi_add_middleware_in_the_wrong_order_is_refused(raven_settings):
    from fastapi import FastAPI
    from starlette.middleware.sessions import SessionMiddleware

    app = FastAPI()
    app.add_middleware(SessionMiddleware, secret_key="s")
    app.add_middleware(RavenMiddleware, session=True, **raven_settings())  # outermost
    with pytest.raises(ConfigurationError, match="app.add_middleware\\(SessionMiddleware"):
        with TestClient(app):
            pass
    right = FastAPI()
    right.add_middleware(RavenMiddleware, session=True, **raven_settings())
    right.add_middleware(SessionMiddleware, secret_key="s")
    with TestClient(right, base_url=BASE, follow_redirects=False) as client:
        assert client.get("/").status_code == 303


def test_no_session_middleware_is_said_at_the_lifespan_start_up(raven_settings, caplog):
    caplog.set_level(logging.WARNING, logger="raven")
    with TestClient(session_app("none", raven_settings), base_url=BASE) as client:
        [warning] = session_warnings(caplog)
        assert "no SessionMiddleware comes before it in Starlette's middleware" \
               in warning.getMessage()
        # the last resort: a request that still has no session is refused, never served
        with pytest.raises(ConfigurationError, match="this request has none"):
            client.get("/")
    caplog.clear()
    with TestClient(session_app("outside", raven_settings), base_url=BASE,
                    follow_redirects=False) as client:
        assert client.get("/").status_code == 303
    assert session_warnings(caplog) == []


def test_a_session_wrapped_around_the_whole_app_is_not_refused(raven_settings, caplog):
    from starlette.middleware.sessions import SessionMiddleware

    caplog.set_level(logging.WARNING, logger="raven")
    app = SessionMiddleware(session_app("none", raven_settings), secret_key="s")
    with TestClient(app, base_url=BASE, follow_redirects=False) as client:
        assert client.get("/").status_code == 303  # it works: the warning could not know
    assert len(session_warnings(caplog)) == 1
    caplog.clear()
    outer = SessionMiddleware(RavenMiddleware(Starlette(), session=True, **raven_settings()),
                              secret_key="s")
    with TestClient(outer, base_url=BASE):
        pass
    assert session_warnings(caplog) == []  # not inside a Starlette app's stack: nothing said


def test_a_plain_http_origin_others_reach_is_said_when_built(caplog):
    caplog.set_level(logging.WARNING, logger="raven")
    RavenMiddleware(Starlette(), secret_key=SECRET, origin="http://www.example.cam.ac.uk",
                    wls="demo")
    [record] = [r for r in caplog.records if hasattr(r, "raven_mismatch")]
    assert record.raven_mismatch == "plain http"
    caplog.clear()
    RavenMiddleware(Starlette(), secret_key=SECRET, origin="http://127.0.0.1:8000", wls="demo")
    assert [r for r in caplog.records if hasattr(r, "raven_mismatch")] == []


def test_the_missing_origin_error_names_only_what_an_asgi_site_can_set():
    with pytest.raises(ConfigurationError, match="set RAVEN_ORIGIN \\(origin=\\)") as raised:
        RavenMiddleware(Starlette(), secret_key=SECRET, wls="demo")
    assert "TRUSTED_HOSTS" not in str(raised.value)
    assert "ALLOWED_HOSTS" not in str(raised.value)
