"""The attack suite through RavenMiddleware: none may give a login, none may
answer 500, each refusal logs one WARNING line."""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from functools import cache
from typing import Annotated, Any
from urllib.parse import quote, urlencode

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import Depends, FastAPI
from starlette.applications import Starlette
from starlette.authentication import requires
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

from raven.asgi import RavenMiddleware, RavenUser, raven_user
from raven.flow import State
from raven.guard import LoginCookie
from raven.keys import SigningKey
from raven.response import utcnow
from raven.testing import make_response

from .conftest import COOKIE, SECRET, SIGNER_SETTINGS, Browser, settings_dict

BASE = "https://www.example.cam.ac.uk"  # as in conftest.py
EVIL = "https://evil.example.com"


@cache
def stranger_key(kid: str) -> SigningKey:
    return SigningKey(rsa.generate_private_key(public_exponent=65537, key_size=1024), kid)


def forged_principal(url, params):
    return make_response(url, params=params, principal="test0002").replace(
        "!test0002!", "!test0001!")


def relabelled_kid(url, params):
    body, _kid, sig = make_response(url, params=params).rsplit("!", 2)
    return f"{body}!2!{sig}"


ATTACKS = [
    ("forged principal", forged_principal, None, "signature"),
    ("stranger's key as kid 901",
     lambda u, p: make_response(u, params=p, signing_key=stranger_key("901")), None, "signature"),
    ("unknown kid",
     lambda u, p: make_response(u, params=p, signing_key=stranger_key("7")), None, "kid"),
    ("demo signature relabelled kid 2", relabelled_kid, None, "kid"),
    ("unsigned success", lambda u, p: make_response(u, params=p, signing_key=None), None, "format"),
    ("another site's url", lambda u, p: make_response(EVIL + "/", params=p), None, "url"),
    ("another page's url", lambda u, p: make_response(BASE + "/other", params=p), None, "url"),
    ("url with extra query", lambda u, p: make_response(u + "&admin=1", params=p), None, "url"),
    ("delivered to another path", lambda u, p: make_response(u, params=p), BASE + "/page",
     "url"),
    ("stale issue",
     lambda u, p: make_response(u, params=p, issue=utcnow() - timedelta(seconds=60)), None,
     "issue"),
    ("future issue",
     lambda u, p: make_response(u, params=p, issue=utcnow() + timedelta(seconds=60)), None,
     "issue"),
    ("no params", lambda u, p: make_response(u), None, "params"),
    ("wrong params", lambda u, p: make_response(u, params=p[:-1] + "x"), None, "params"),
    ("sso when iact demanded a password",
     lambda u, p: make_response(u, params=p, auth=None, sso={"pwd"}), None, "iact/aauth"),
    ("garbage", lambda u, p: "3!200!!", None, "format"),
    ("empty", lambda u, p: "", None, "format"),
    ("percent junk", lambda u, p: "3!200!%zz!" + "!" * 11, None, "format"),
]


@pytest.mark.parametrize(("build", "deliver_to", "check"),
                         [pytest.param(b, d, c, id=n) for n, b, d, c in ATTACKS])
def test_refused_responses(starlette_app, browser_for, raven_log, build, deliver_to, check):
    browser = browser_for(starlette_app(iact=True if check == "iact/aauth" else None))
    url, params, _ = browser.start("/")
    response = build(url, params)
    r = browser.come_back(deliver_to or url, response)
    assert r.status_code == 400, r.text
    assert f"Check that failed: {check}" in r.text
    assert "location" not in r.headers
    assert "principal" not in (browser.state or {})
    assert browser.get("/").status_code == 303
    [line] = raven_log(logging.WARNING)
    assert f"check {check}" in line.getMessage()
    if len(response) > 20:
        assert response not in line.getMessage()
    secrets = browser.secrets()
    assert secrets
    for secret in secrets:
        assert secret not in line.getMessage()


def test_iact_no_bypass(starlette_app, browser_for, raven_log):
    browser = browser_for(starlette_app(iact=False))
    url, params, query = browser.start("/")
    assert query["iact"] == "no"
    assert browser.come_back(url, make_response(url, params=params, auth="pwd")).status_code == 400
    assert "check iact/aauth" in raven_log()[0].getMessage()


def test_aauth_bypass(starlette_app, browser_for):
    browser = browser_for(starlette_app(aauth={"x-card"}))
    url, params, query = browser.start("/")
    assert query["aauth"] == "x-card"
    assert browser.come_back(url, make_response(url, params=params, auth="pwd")).status_code == 400
    assert "principal" not in (browser.state or {})


def test_demo_signed_response_refused_by_a_live_app(starlette_app, browser_for, drop, raven_log):
    browser = browser_for(starlette_app(wls=drop))
    url, params, _ = browser.start("/")
    r = browser.come_back(url, make_response(url, params=params))
    assert r.status_code == 400
    assert "Check that failed: kid" in r.text
    assert "901" in raven_log()[0].getMessage()


def test_login_through_another_wls_is_no_login(starlette_app, browser_for):
    browser = browser_for(starlette_app())
    browser.login("/")
    cookie = browser.cookie
    other = browser_for(starlette_app(wls="demo"))  # same secret, another WLS
    other.client.cookies.set(COOKIE, cookie, domain="www.example.cam.ac.uk")
    r = other.get("/")
    assert r.status_code == 303
    assert r.headers["location"].startswith("https://demo.raven.cam.ac.uk/")


def test_response_cannot_be_used_twice(browser, raven_log):
    url, params, _ = browser.start("/")
    response = make_response(url, params=params)
    assert browser.come_back(url, response).status_code == 303
    browser.request("POST", "/logout", headers={"Origin": BASE})
    browser.start("/")
    r = browser.come_back(url, response)
    assert r.status_code == 400
    assert "principal" not in (browser.state or {})
    assert "check params" in raven_log()[0].getMessage()


def test_response_for_another_browser_is_refused(starlette_app, browser_for):
    app = starlette_app()
    victim, attacker = browser_for(app), browser_for(app)
    url, victim_params, _ = victim.start("/")
    attacker.start("/")
    assert attacker.come_back(url, make_response(url, params=victim_params)).status_code == 400
    assert "principal" not in (attacker.state or {})


def test_duplicate_response(browser, raven_log):
    url, params, _ = browser.start("/")
    good = make_response(url, params=params)
    r = browser.get(url + "?" + urlencode([("WLS-Response", good), ("WLS-Response", good)]))
    assert r.status_code == 400
    assert "check duplicate" in raven_log()[0].getMessage()
    r = browser.get(f"{url}?WLS%2DResponse={quote(good)}&WLS-Response={quote(good)}")
    assert r.status_code == 400
    assert "principal" not in (browser.state or {})


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "HEAD"])
def test_response_on_other_methods(browser, raven_log, method):
    url, params, _ = browser.start("/page")
    r = browser.come_back(url, make_response(url, params=params), method=method)
    assert r.status_code == 405
    assert r.headers["allow"] == "GET"
    assert "principal" not in (browser.state or {})
    assert "check method" in raven_log()[0].getMessage()


def test_no_cookies_is_a_page_not_a_loop(browser, browser_for, raven_log):
    url, params, _ = browser.start("/")
    cookieless = browser_for(browser.app)
    r = cookieless.come_back(url, make_response(url, params=params))
    assert r.status_code == 403
    assert "location" not in r.headers
    assert "refuses cookies" in r.text
    assert cookieless.cookie is None
    assert "check cookies" in raven_log()[0].getMessage()


def test_tampered_cookie_is_worth_nothing(browser):
    browser.login("/")
    cookie = browser.cookie
    tampered = cookie[:-3] + ("AAA" if cookie[-3:] != "AAA" else "BBB")
    browser.client.cookies.set(COOKIE, tampered, domain="www.example.cam.ac.uk")
    assert browser.get("/").status_code == 303  # no state at all: back to the WLS
    assert browser.get("/public").json()["authenticated"] is False


def test_cookie_forged_with_another_secret_is_no_login(browser):
    forged = LoginCookie("guessed wrong, guessed wrong", SIGNER_SETTINGS).dumps(
        State(), time.time())
    browser.client.cookies.set(COOKIE, forged, domain="www.example.cam.ac.uk")
    assert browser.get("/").status_code == 303
    assert browser.get("/public").json()["authenticated"] is False


def test_truncated_cookie_is_worth_nothing(browser):
    browser.login("/")
    cookie = browser.cookie
    browser.client.cookies.set(COOKIE, cookie[: len(cookie) // 2], domain="www.example.cam.ac.uk")
    assert browser.get("/").status_code == 303


# --- the Host header ------------------------------------------------------------------


def test_spoofed_host_is_refused(browser, raven_log):
    r = browser.get("/", headers={"Host": "evil.example.com"})
    assert r.status_code == 400
    assert "Check that failed: host" in r.text
    assert "check host" in raven_log()[0].getMessage()


def test_spoofed_port_is_refused(browser):
    """Starlette's TrustedHostMiddleware ignores ports; the origin does not."""
    assert browser.get("/", headers={"Host": "www.example.cam.ac.uk:8443"}).status_code == 400
    assert browser.get("/", headers={"Host": "www.example.cam.ac.uk"}).status_code == 303


def test_spoofed_host_with_a_response(browser):
    url, params, _ = browser.start("/")
    evil_url = url.replace(BASE, EVIL)
    r = browser.come_back(url, make_response(evil_url, params=params),
                          headers={"Host": "evil.example.com"})
    assert r.status_code == 400
    assert "principal" not in (browser.state or {})


def test_x_forwarded_host_is_ignored(browser):
    url, params, _ = browser.start("/", headers={"X-Forwarded-Host": "evil.example.com"})
    assert url.startswith(BASE)
    r = browser.come_back(url, make_response(url.replace(BASE, EVIL), params=params),
                          headers={"X-Forwarded-Host": "evil.example.com"})
    assert r.status_code == 400
    assert "Check that failed: url" in r.text


@pytest.mark.parametrize("host", ["", "user@www.example.cam.ac.uk", "www.example.cam.ac.uk:x",
                                  "[::1", "a b", "www.example.cam.ac.uk:99999"])
def test_odd_hosts_are_400(browser, host):
    assert browser.get("/", headers={"Host": host}).status_code == 400


def test_http_scheme_for_an_https_origin_is_refused(starlette_app):
    client = TestClient(starlette_app(), base_url="http://www.example.cam.ac.uk",
                        follow_redirects=False)
    assert client.get("/").status_code == 400


@pytest.mark.parametrize("path", ["//evil.example.com/", "/\\evil.example.com/", "/%2F%2Fevil"])
def test_return_url_never_leaves_the_site(browser, path):
    url, params, _ = browser.start(path)
    assert url.startswith(BASE + "/")
    back = browser.come_back(url, make_response(url, params=params))
    assert back.status_code == 303
    assert back.headers["location"].startswith(BASE + "/")


# --- never a 500 ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/?WLS-Response", "/?WLS-Response=", "/?&&WLS-Response=%FF%FE",
     "/?WLS-Response=" + "A" * 20000,
     "/?WLS-Response=3%21200%21%00", "/?WLS-Response=" + quote(b"3!200!\xff\xfe!", safe="")],
)
def test_odd_responses_are_4xx(browser, path):
    browser.start("/")
    r = browser.get(path)
    assert r.status_code == 400, r.text
    assert "principal" not in (browser.state or {})


def call(app, query: bytes, cookie: str | None = None) -> tuple[int, bytes]:
    """One request as a server would hand it over, bytes a test client
    would refuse to send included."""
    import asyncio

    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    headers = [(b"host", b"www.example.cam.ac.uk")]
    if cookie is not None:
        headers.append((b"cookie", cookie.encode()))
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "GET", "scheme": "https", "path": "/", "raw_path": b"/",
             "query_string": query, "root_path": "", "headers": headers,
             "client": ("127.0.0.1", 5000), "server": ("www.example.cam.ac.uk", 443)}
    asyncio.run(app(scope, receive, send))
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


@pytest.mark.parametrize("query", [b"\x80", b"WLS-Response=\x80\xff", b"a=1&WLS-Response=3%21\xfe"])
def test_raw_query_not_utf8(starlette_app, raven_log, query):
    status, _ = call(starlette_app(), query)
    assert status == 400
    assert "check query" in raven_log()[0].getMessage()


def test_one_megabyte_response(browser, raven_log):
    url, params, _ = browser.start("/")
    huge = make_response(url, params=params) + "A" * 1_000_000
    status, body = call(browser.app, urlencode({"WLS-Response": huge}).encode(),
                        browser.cookie_header())
    assert status == 400
    assert b"Check that failed: format" in body
    [line] = raven_log()
    assert "check format" in line.getMessage()
    assert len(line.getMessage()) < 1000


@pytest.mark.parametrize("headers", [
    {}, {"Origin": "https://evil.example.com"}, {"Origin": "null"},
    {"Referer": "https://evil.example.com/page"}, {"Origin": BASE + ":8443"},
])
def test_a_logout_from_another_site_is_refused(browser, headers, raven_log):
    browser.login("/")
    r = browser.request("POST", "/logout", headers=headers)
    assert r.status_code == 403 and COOKIE in browser.client.cookies
    assert browser.get("/").status_code == 200  # still logged in
    assert "check logout origin" in raven_log()[0].getMessage()


def test_a_logout_by_get_is_refused(browser):
    browser.login("/")
    r = browser.request("GET", "/logout", headers={"Origin": BASE})
    assert r.status_code == 405


# --- a route's rules, the site's rules, and paths under a prefix -----------------------


def _fastapi_with_staff_route(**middleware: Any):
    app = FastAPI()

    @app.get("/staff")
    def staff(user: Annotated[RavenUser, Depends(raven_user(require_ptags={"staff"}))]) -> str:
        return "staff page for " + user.principal

    app.add_middleware(RavenMiddleware, secret_key=SECRET, protect=(), **settings_dict(),
                       **middleware)
    return app


def test_a_routes_rule_holds_beside_the_middlewares_authorise():
    api = Browser(_fastapi_with_staff_route(
        authorise=lambda principal, ptags: principal.startswith("test")))
    assert api.login("/staff").status_code == 403  # ptags {"current"}: no "staff"
    assert Browser(_fastapi_with_staff_route(
        authorise=lambda principal, ptags: principal.startswith("test"),
    )).login("/staff", ptags={"staff"}).status_code == 200


def test_a_login_the_site_refuses_is_no_user_on_unprotected_pages():
    async def secret(request):
        return PlainTextResponse("secret for " + request.user.display_name)

    app = Starlette(
        routes=[Route("/", secret), Route("/members", requires("authenticated")(secret))],
        middleware=[Middleware(RavenMiddleware, secret_key=SECRET, protect=("/",),
                               exempt=("/members",),
                               **settings_dict(require_principal={"test0002"}))])
    browser = Browser(app)
    assert browser.login("/", principal="test0001").status_code == 403
    assert browser.get("/members").status_code == 403  # Starlette's requires(): no user


def test_protected_paths_hold_inside_a_mount():
    async def page(request):
        return PlainTextResponse("admin page")

    sub = Starlette(routes=[Route("/admin", page)],
                    middleware=[Middleware(RavenMiddleware, secret_key=SECRET,
                                           protect=("/admin",), **settings_dict())])
    browser = Browser(Starlette(routes=[Mount("/app", app=sub)]))
    r = browser.get("/app/admin")
    assert r.status_code == 303  # to the WLS, for the whole URL
    assert "url=https%3A%2F%2Fwww.example.cam.ac.uk%2Fapp%2Fadmin" in r.headers["location"]


@pytest.mark.parametrize("path", ["/admin", "//admin", "/./admin", "/public/../admin"])
def test_a_protected_prefix_holds_however_the_path_is_spelt(path):
    async def page(request):
        return PlainTextResponse("admin page")

    app = Starlette(routes=[Route("/admin", page)],
                    middleware=[Middleware(RavenMiddleware, secret_key=SECRET,
                                           protect=("/admin/",), exempt=("/public",),
                                           **settings_dict())])
    r = Browser(app).get(BASE + path)  # whole URL: httpx reads "//admin" as a host
    assert r.status_code == 303, (path, r.status_code)
