"""Attacks on the Flask glue: none may give a session, none may answer 500."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from functools import cache
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import BASE, Browser
from werkzeug.middleware.proxy_fix import ProxyFix

from raven.flask_glue import AuthDecorator
from raven.keys import SigningKey
from raven.response import utcnow
from raven.testing import make_response

EVIL = "https://evil.example.com"


@cache
def stranger_key(kid: str) -> SigningKey:
    """A key nobody trusts, claiming whatever kid it is given."""
    return SigningKey(rsa.generate_private_key(public_exponent=65537, key_size=1024), kid)


def forged_principal(url, params):
    genuine = make_response(url, params=params, principal="test0002")
    return genuine.replace("!test0002!", "!test0001!")


def demo_key_response_kid_changed(url, params):
    body, kid, sig = make_response(url, params=params).rsplit("!", 2)
    return f"{body}!2!{sig}"


def signature_from_another_response(url, params):
    mine = make_response(url, params=params, principal="test0001")
    theirs = make_response(url, params=params, principal="test0002")
    return mine.rsplit("!", 1)[0] + "!" + theirs.rsplit("!", 1)[1]


def resigned(url, params, edit):
    """A response edited, then signed again with the (published) demo key:
    what an attacker holding that key could send a test configuration."""
    body = edit(make_response(url, params=params).rsplit("!", 2)[0])
    return f"{body}!901!{SigningKey.demo().sign(body.encode())}"


def v1_with_ptags(url, params):
    def edit(body):
        return "1" + body[1:]  # a version 1 header over a 14-field body
    return resigned(url, params, edit)


def empty_principal(url, params):
    return resigned(url, params, lambda body: body.replace("!test0001!", "!!"))


# (name, build the response from (url, params), where it is delivered, check)
ATTACKS = [
    ("signature copied from another response", signature_from_another_response, None,
     "signature"),
    ("version 1 response carrying ptags", v1_with_ptags, None, "format"),
    ("status 200 with empty principal", empty_principal, None, "format"),
    ("1 MB response", lambda u, p: make_response(u, params=p) + "A" * 1_000_000, None, "format"),
    ("forged principal", forged_principal, None, "signature"),
    ("stranger's key as kid 901",
     lambda u, p: make_response(u, params=p, signing_key=stranger_key("901")), None, "signature"),
    ("stranger's key as kid 7",
     lambda u, p: make_response(u, params=p, signing_key=stranger_key("7")), None, "kid"),
    ("demo signature relabelled kid 2", demo_key_response_kid_changed, None, "kid"),
    ("unsigned success", lambda u, p: make_response(u, params=p, signing_key=None), None, "format"),
    ("another site's url", lambda u, p: make_response(EVIL + "/", params=p), None, "url"),
    ("another page's url", lambda u, p: make_response(BASE + "/other", params=p), None, "url"),
    ("url with extra query",
     lambda u, p: make_response(u + "&admin=1", params=p), None, "url"),
    ("response for url delivered elsewhere",
     lambda u, p: make_response(u, params=p), BASE + "/page", "url"),
    ("stale issue",
     lambda u, p: make_response(u, params=p, issue=utcnow() - timedelta(seconds=60)),
     None, "issue"),
    ("future issue",
     lambda u, p: make_response(u, params=p, issue=utcnow() + timedelta(seconds=60)),
     None, "issue"),
    ("no params", lambda u, p: make_response(u), None, "params"),
    ("wrong params", lambda u, p: make_response(u, params=p[:-1] + "x"), None, "params"),
    ("sso when iact demanded a password",
     lambda u, p: make_response(u, params=p, auth=None, sso={"pwd"}), None, "iact/aauth"),
    ("garbage", lambda u, p: "3!200!!", None, "format"),
    ("empty", lambda u, p: "", None, "format"),
    ("percent junk", lambda u, p: "3!200!%zz!" + "!" * 11, None, "format"),
]


@pytest.mark.parametrize(
    ("build", "deliver_to", "check"),
    [pytest.param(b, d, c, id=name) for name, b, d, c in ATTACKS],
)
def test_refused_responses(make_app, browser_for, raven_log, build, deliver_to, check):
    app, _ = make_app(AuthDecorator(iact=True if check == "iact/aauth" else None))
    browser = browser_for(app)
    url, params, _ = browser.start("/")
    response = build(url, params)
    r = browser.come_back(deliver_to or url, response)
    assert r.status_code == 400, r.data
    assert f"Check that failed: {check}".encode() in r.data
    assert "Location" not in r.headers
    assert "principal" not in (browser.state or {})
    assert browser.get("/").status_code == 303
    [line] = raven_log(logging.WARNING)
    assert f"check {check}" in line.getMessage()
    assert_nothing_replayable_logged(raven_log, response, browser)


def assert_nothing_replayable_logged(raven_log, response, browser):
    # The browser's cookies (a session, the logins under way, named after
    # their tokens) are what a log must hide, with the response.
    secrets = browser.secrets()
    assert secrets
    texts = [rec.getMessage() for level in (10, 20, 30, 40) for rec in raven_log(level)]
    for text in texts:
        if len(response) > 20:
            assert response not in text
        signature = response.rsplit("!", 1)[-1]
        if len(signature) > 20:
            assert signature not in text
        for secret in secrets:
            assert secret not in text


def test_iact_no_bypass(make_app, browser_for, raven_log):
    app, _ = make_app(AuthDecorator(iact=False))
    browser = browser_for(app)
    url, params, query = browser.start("/")
    assert query["iact"] == "no"
    r = browser.come_back(url, make_response(url, params=params, auth="pwd"))
    assert r.status_code == 400
    assert "check iact/aauth" in raven_log()[0].getMessage()


def test_aauth_bypass(make_app, browser_for):
    app, _ = make_app(AuthDecorator(aauth={"x-card"}))
    browser = browser_for(app)
    url, params, query = browser.start("/")
    assert query["aauth"] == "x-card"
    r = browser.come_back(url, make_response(url, params=params, auth="pwd"))
    assert r.status_code == 400
    assert "principal" not in (browser.state or {})


def test_demo_signed_response_refused_by_a_live_app(make_app, browser_for, drop, raven_log):
    app, _ = make_app(RAVEN_WLS=drop)
    browser = browser_for(app)
    url, params, query = browser.start("/")
    r = browser.come_back(url, make_response(url, params=params))
    assert r.status_code == 400
    assert b"Check that failed: kid" in r.data
    assert "principal" not in (browser.state or {})
    assert "901" in raven_log()[0].getMessage()


def test_non_utf8_response_is_refused(browser, raven_log):
    url, params, _ = browser.start("/")
    r = browser.get(url + "?WLS-Response=" + quote(b"3!200!\xff\xfe!", safe=""))
    assert r.status_code == 400
    assert "principal" not in (browser.state or {})
    assert "check format" in raven_log()[0].getMessage()


def test_truncated_session_cookie_is_worth_nothing(browser):
    assert browser.login("/").status_code == 200
    cookie = browser.client.get_cookie("session", domain="www.example.cam.ac.uk")
    browser.client.set_cookie("session", cookie.value[: len(cookie.value) // 2],
                              domain="www.example.cam.ac.uk")
    assert browser.get("/").status_code == 303
    # The damaged cookie was read as no session: a new one holds just the new token.
    assert browser.state == {"tokens": [browser.state["tokens"][0]]}


@pytest.mark.parametrize("path", ["//evil.example.com/", "/\\evil.example.com/", "/%2F%2Fevil"])
def test_return_url_never_leaves_the_site(make_app, browser_for, path):
    app, _ = make_app(app_wide=True)  # every path is protected, even unknown ones
    browser = browser_for(app)
    url, params, _ = browser.start(path)
    assert url.startswith(BASE + "/")
    back = browser.come_back(url, make_response(url, params=params))
    assert back.status_code == 303
    assert back.location.startswith(BASE + "/")


def test_response_cannot_be_used_twice(browser, raven_log):
    url, params, _ = browser.start("/")
    response = make_response(url, params=params)
    assert browser.come_back(url, response).status_code == 303
    browser.get("/logout")
    browser.start("/")  # a new login is under way; the old response is still spent
    r = browser.come_back(url, response)
    assert r.status_code == 400
    assert "principal" not in (browser.state or {})
    assert "check params" in raven_log()[0].getMessage()


def test_response_for_another_browser_is_refused(app_and_auth, browser_for):
    victim, attacker = browser_for(app_and_auth[0]), browser_for(app_and_auth[0])
    url, victim_params, _ = victim.start("/")
    attacker.start("/")
    r = attacker.come_back(url, make_response(url, params=victim_params))
    assert r.status_code == 400
    assert "principal" not in (attacker.state or {})


def test_params_spent_even_when_a_later_check_fails(browser):
    url, params, _ = browser.start("/")
    stale = make_response(url, params=params, issue=utcnow() - timedelta(seconds=60))
    assert browser.come_back(url, stale).status_code == 400
    fresh = make_response(url, params=params)
    r = browser.come_back(url, fresh)
    assert r.status_code == 400
    assert b"Check that failed: params" in r.data


def test_bad_response_before_the_params_check_does_not_spend_the_token(browser):
    """Else anyone could spoil a login under way by sending junk first."""
    url, params, _ = browser.start("/")
    assert browser.come_back(url, forged_principal(url, params)).status_code == 400
    assert browser.come_back(url, make_response(url, params=params)).status_code == 303


def test_duplicate_response(browser, raven_log):
    url, params, _ = browser.start("/")
    good = make_response(url, params=params)
    query = urlencode([("WLS-Response", good), ("WLS-Response", good)])
    r = browser.get(url + "?" + query)
    assert r.status_code == 400
    assert "principal" not in (browser.state or {})
    assert "check duplicate" in raven_log()[0].getMessage()
    # a percent-encoded parameter name is the same parameter
    r = browser.get(f"{url}?WLS%2DResponse={quote(good)}&WLS-Response={quote(good)}")
    assert r.status_code == 400


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "HEAD"])
def test_response_on_other_methods(browser, raven_log, method):
    url, params, _ = browser.start("/page")
    r = browser.come_back(url, make_response(url, params=params), method=method)
    assert r.status_code == 405
    assert r.headers["Allow"] == "GET"
    assert "principal" not in (browser.state or {})
    assert "check method" in raven_log()[0].getMessage()


def test_browser_refusing_cookies_gets_a_page_not_a_loop(browser, browser_for, raven_log):
    url, params, _ = browser.start("/")
    cookieless = browser_for(browser.app)
    r = cookieless.come_back(url, make_response(url, params=params))
    assert r.status_code == 403
    assert "Location" not in r.headers
    assert b"refuses cookies" in r.data
    assert cookieless.state is None
    assert "check cookies" in raven_log()[0].getMessage()


def test_tampered_session_cookie_is_worth_nothing(browser):
    assert browser.login("/").status_code == 200
    cookie = browser.client.get_cookie("session", domain="www.example.cam.ac.uk")
    tampered = cookie.value[:-3] + ("AAA" if cookie.value[-3:] != "AAA" else "BBB")
    browser.client.set_cookie("session", tampered, domain="www.example.cam.ac.uk")
    # To Flask a bad signature is no session at all: back to the WLS.
    assert browser.get("/").status_code == 303
    assert "principal" not in (browser.state or {})


def test_a_login_cookie_renamed_to_another_token_binds_nothing(browser):
    url, params, _ = browser.start("/")
    [cookie] = [c for c in browser.client._cookies.values() if "raven-login-" in c.key]
    browser.client.delete_cookie(cookie.key, domain="www.example.cam.ac.uk")
    prefix, _, token = cookie.key.partition("raven-login-")  # the token may hold "-"
    browser.client.set_cookie(f"{prefix}raven-login-{'x' * len(token)}", cookie.value,
                              domain="www.example.cam.ac.uk")
    r = browser.come_back(url, make_response(url, params=params))
    # A cookie did come back: the response belongs to no login of this browser's.
    assert r.status_code == 400 and b"Check that failed: params" in r.data
    assert "principal" not in (browser.state or {})


def test_session_forged_with_another_secret_is_not_a_login(app_and_auth, browser_for):
    app, _ = app_and_auth
    forger_app = app.__class__(__name__)
    forger_app.secret_key = "guessed wrong"
    forged = forger_app.session_interface.get_signing_serializer(forger_app).dumps(
        {"_raven": {"principal": "test0001", "ptags": ["current"], "issue": 2**31,
                    "life": None, "last": 2**31}}
    )
    browser = browser_for(app)
    browser.client.set_cookie("session", forged, domain="www.example.cam.ac.uk")
    assert browser.get("/").status_code == 303
    assert browser.get("/public").json["principal"] is None


# --- the Host header -------------------------------------------------------------


def test_spoofed_host_is_refused(browser):
    assert browser.get("/", headers={"Host": "evil.example.com"}).status_code == 400
    url, params, _ = browser.start("/")
    evil_url = url.replace(BASE, EVIL)
    r = browser.come_back(
        evil_url.replace(EVIL, BASE), make_response(evil_url, params=params),
        headers={"Host": "evil.example.com"},
    )
    assert r.status_code == 400
    assert "principal" not in (browser.state or {})


def test_spoofed_host_refused_app_wide(make_app, browser_for, raven_log):
    app, _ = make_app(app_wide=True)
    browser = browser_for(app)
    url, params, _ = browser.start("/")
    evil_url = url.replace(BASE, EVIL)
    cookies = "; ".join(f"{c.key}={c.value}" for c in browser.client._cookies.values())
    raw = app.test_client(use_cookies=False)  # sends exactly the headers given
    response = urlencode({"WLS-Response": make_response(evil_url, params=params)})
    r = raw.get(url + "?" + response, base_url=BASE,
                headers={"Host": "evil.example.com", "Cookie": cookies})
    assert r.status_code == 400
    assert b"Check that failed: host" in r.data
    assert "principal" not in (browser.state or {})
    assert "check host" in raven_log()[0].getMessage()


def test_x_forwarded_host_without_proxy_fix_is_ignored(browser):
    """Werkzeug does not read X-Forwarded-Host: the response for the
    attacker's site does not match this one."""
    url, params, _ = browser.start("/", headers={"X-Forwarded-Host": "evil.example.com"})
    assert url.startswith(BASE)
    evil_url = url.replace(BASE, EVIL)
    r = browser.come_back(url, make_response(evil_url, params=params),
                          headers={"X-Forwarded-Host": "evil.example.com"})
    assert r.status_code == 400
    assert b"Check that failed: url" in r.data


def test_x_forwarded_host_behind_proxy_fix_is_refused(make_app, browser_for):
    app, _ = make_app()
    app.wsgi_app = ProxyFix(app.wsgi_app, x_host=1)
    browser = browser_for(app)
    assert browser.get("/", headers={"X-Forwarded-Host": "evil.example.com"}).status_code == 400
    url, params, _ = browser.start("/")
    evil_url = url.replace(BASE, EVIL)
    r = browser.come_back(url, make_response(evil_url, params=params),
                          headers={"X-Forwarded-Host": "evil.example.com"})
    assert r.status_code == 400
    assert "principal" not in (browser.state or {})


def test_trusted_hosts_on_the_request_class(make_app, browser_for):
    import flask

    class R(flask.Request):
        trusted_hosts = {"www.example.cam.ac.uk"}

    app, _ = make_app(TRUSTED_HOSTS=None)
    app.request_class = R
    browser = browser_for(app)
    assert browser.login("/").status_code == 200
    assert browser.get("/", headers={"Host": "evil.example.com"}).status_code == 400


# --- never a 500 ---------------------------------------------------------------------


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    value=st.one_of(
        st.text(max_size=300),
        st.lists(st.sampled_from(["3", "200", "!", "%21", "%", "x", "", "20240101T000000Z",
                                  "901", "pwd", "\u00e9", "\x00"]), max_size=20).map("".join),
    ),
    extra=st.text(alphabet="ab=&%+?/", max_size=10),
)
def test_arbitrary_responses_never_give_a_session_or_a_500(app_and_auth, value, extra):
    browser = Browser(app_and_auth[0])  # one per example: its cookie holds just this token
    url, _, _ = browser.start("/")
    tokens = browser.state["tokens"]
    r = browser.get(f"{url}?{extra}&WLS-Response={quote(value)}")
    assert r.status_code == 400, r.data
    [check] = re.findall(rb"Check that failed: ([\w/]+)", r.data)
    assert check in (b"format", b"kid", b"signature")  # the parser's checks
    assert browser.state == {"tokens": tokens}


@pytest.mark.parametrize(
    "path",
    ["/?WLS-Response", "/?WLS-Response=", "/?&&WLS-Response=%FF%FE", "/page/../?WLS-Response=1",
     "/?WLS-Response=" + "A" * 20000, "/?WLS-Response=3%21200%21%00"],
)
def test_odd_requests_never_500(make_app, browser_for, raven_log, path):
    app, _ = make_app(app_wide=True)  # "/page/../" is no route: protected all the same
    browser = browser_for(app)
    browser.start("/")
    r = browser.get(path)
    assert r.status_code == 400
    assert b"Check that failed: format" in r.data
    [line] = raven_log()
    assert "(check format)" in line.getMessage()


def test_responses_without_cookies_never_500(browser_for, app_and_auth):
    r = browser_for(app_and_auth[0]).get("/?WLS-Response=3!200!!")
    assert r.status_code == 403


@pytest.mark.parametrize("host", ["www.example.cam.ac.uk:notaport", "[::1", "a b"])
def test_odd_hosts_never_500(make_app, browser_for, raven_log, host):
    app, _ = make_app(RAVEN_CAN_TRUST_REQUEST_HOST=True, TRUSTED_HOSTS=None)
    r = browser_for(app).get("/", headers={"Host": host})
    assert r.status_code == 400, r.data
    assert "Location" not in r.headers
    [line] = raven_log()
    assert "(check host)" in line.getMessage()


def test_an_empty_host_is_the_servers_own_name(make_app, browser_for):
    # WSGI's rule: with no Host, the server's own name (here the test client's base URL).
    app, _ = make_app(RAVEN_CAN_TRUST_REQUEST_HOST=True, TRUSTED_HOSTS=None)
    r = browser_for(app).get("/", headers={"Host": ""})
    assert r.status_code == 303
    assert parse_qs(urlsplit(r.location).query)["url"] == [BASE + "/"]


def test_error_handlers_see_the_refusal(make_app, browser_for):
    app, _ = make_app()
    seen = []

    @app.errorhandler(400)
    def bad_request(error):
        seen.append(getattr(error, "raven_check", None))
        return error.get_response()

    browser = browser_for(app)
    url, _, _ = browser.start("/")
    r = browser.come_back(url, make_response(url, params="nope"))
    assert r.status_code == 400
    assert seen == ["params"]
    assert b"Check that failed: params" in r.data


@pytest.mark.parametrize("query", ["\x80", "WLS-Response=\x80\xff", "a=1&WLS-Response=3%21\xfe"])
def test_raw_query_bytes_that_are_not_utf8(browser, raven_log, query):
    browser.start("/")
    r = browser.get("/", environ_overrides={"QUERY_STRING": query})
    assert r.status_code == 400
    assert "principal" not in (browser.state or {})
    assert "check query" in raven_log()[0].getMessage()


def test_a_laxer_decorators_login_does_not_open_a_stricter_page(make_app, browser_for):
    app, normal = make_app()
    admin = AuthDecorator(iact=True)

    @app.route("/admin")
    @admin
    def admin_page():
        return "ADMIN for " + admin.principal

    browser = browser_for(app)
    assert browser.login("/", auth=None, sso={"pwd"}).status_code == 200  # no password typed
    r = browser.get("/admin")
    assert r.status_code == 303  # back to the WLS, demanding a password
    assert "iact=yes" in r.location
    page = browser.login("/admin")  # now with auth=pwd
    assert page.text == "ADMIN for test0001"
    assert browser.get("/admin").status_code == 200
    assert browser.get("/").status_code == 200
