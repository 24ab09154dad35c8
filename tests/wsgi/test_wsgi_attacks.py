"""The attack suite's cases that apply to the WSGI middleware: none may give
a login, none may answer 500, each refusal logs one WARNING line."""

from __future__ import annotations

import importlib.util
import logging
import time
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.test import EnvironBuilder, run_wsgi_app
from wsgi_kit import BASE, HOST, Visitor, build

from raven.guard import LoginCookie
from raven.testing import make_response


def _flask_suite():
    """The attacks are listed once, with the Flask glue's suite."""
    path = Path(__file__).resolve().parents[1] / "security" / "test_attacks_decorator.py"
    spec = importlib.util.spec_from_file_location("raven_attack_list", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SUITE = _flask_suite()
EVIL = SUITE.EVIL
assert BASE == SUITE.BASE


@pytest.mark.parametrize(
    ("build_response", "deliver_to", "check"),
    [pytest.param(b, d, c, id=name) for name, b, d, c in SUITE.ATTACKS],
)
def test_refused_responses(visitor_for, raven_log, build_response, deliver_to, check):
    visitor = visitor_for(build(iact=True if check == "iact/aauth" else None))
    url, params, _ = visitor.start("/")
    response = build_response(url, params)
    r = visitor.come_back(deliver_to or url, response)
    assert r.status_code == 400, r.data
    assert f"Check that failed: {check}".encode() in r.data
    assert "Location" not in r.headers
    assert not visitor.logged_in
    assert visitor.get("/").status_code == 303
    [line] = raven_log(logging.WARNING)
    assert f"check {check}" in line.getMessage()
    texts = [rec.getMessage() for level in (10, 20, 30, 40) for rec in raven_log(level)]
    secrets = visitor.secrets()
    assert secrets
    for text in texts:
        if len(response) > 20:
            assert response not in text
        for secret in secrets:
            assert secret not in text


def test_iact_no_bypass(visitor_for, raven_log):
    visitor = visitor_for(build(iact=False))
    url, params, query = visitor.start("/")
    assert query["iact"] == "no"
    assert visitor.come_back(url, make_response(url, params=params, auth="pwd")
                             ).status_code == 400
    assert "check iact/aauth" in raven_log()[0].getMessage()


def test_aauth_bypass(visitor_for):
    visitor = visitor_for(build(aauth={"x-card"}))
    url, params, query = visitor.start("/")
    assert query["aauth"] == "x-card"
    assert visitor.come_back(url, make_response(url, params=params)).status_code == 400
    assert not visitor.logged_in


def test_demo_signed_response_refused_by_a_live_app(visitor_for, raven_log):
    visitor = visitor_for(build(wls="live"))
    url, params, _ = visitor.start("/")
    r = visitor.come_back(url, make_response(url, params=params))
    assert r.status_code == 400 and b"Check that failed: kid" in r.data
    assert not visitor.logged_in
    assert "901" in raven_log()[0].getMessage()


def test_a_login_made_through_another_wls_is_no_login(visitor):
    visitor.login("/")
    other = Visitor(build(wls="demo"))  # same secret, so the cookie verifies
    other.client.set_cookie(visitor.middleware.cookie.name, visitor.cookie.value,
                            domain=HOST, secure=True)
    r = other.get("/")
    assert r.status_code == 303
    assert r.location.startswith("https://demo.raven.cam.ac.uk/")


def test_response_cannot_be_used_twice(visitor, raven_log):
    url, params, _ = visitor.start("/")
    response = make_response(url, params=params)
    assert visitor.come_back(url, response).status_code == 303
    visitor.logout()
    visitor.start("/")
    r = visitor.come_back(url, response)
    assert r.status_code == 400
    assert not visitor.logged_in
    assert "check params" in raven_log()[0].getMessage()


def test_response_for_another_browser_is_refused(middleware, visitor_for):
    victim, attacker = visitor_for(middleware), visitor_for(middleware)
    url, victim_params, _ = victim.start("/")
    attacker.start("/")
    assert attacker.come_back(url, make_response(url, params=victim_params)
                              ).status_code == 400
    assert not attacker.logged_in


def test_params_spent_even_when_a_later_check_fails(visitor):
    from datetime import timedelta

    from raven.response import utcnow
    url, params, _ = visitor.start("/")
    stale = make_response(url, params=params, issue=utcnow() - timedelta(seconds=60))
    assert visitor.come_back(url, stale).status_code == 400
    r = visitor.come_back(url, make_response(url, params=params))
    assert r.status_code == 400 and b"Check that failed: params" in r.data


def test_duplicate_response(visitor, raven_log):
    url, params, _ = visitor.start("/")
    good = make_response(url, params=params)
    r = visitor.get(url + "?" + urlencode([("WLS-Response", good), ("WLS-Response", good)]))
    assert r.status_code == 400
    assert "check duplicate" in raven_log()[0].getMessage()
    r = visitor.get(f"{url}?WLS%2DResponse={quote(good)}&WLS-Response={quote(good)}")
    assert r.status_code == 400
    assert not visitor.logged_in


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "HEAD"])
def test_response_on_other_methods(visitor, raven_log, method):
    url, params, _ = visitor.start("/page")
    r = visitor.come_back(url, make_response(url, params=params), method=method)
    assert (r.status_code, r.headers["Allow"]) == (405, "GET")
    assert not visitor.logged_in
    assert "check method" in raven_log()[0].getMessage()


def test_browser_refusing_cookies_gets_a_page_not_a_loop(middleware, visitor_for, raven_log):
    url, params, _ = visitor_for(middleware).start("/")
    cookieless = visitor_for(middleware)
    r = cookieless.come_back(url, make_response(url, params=params))
    assert r.status_code == 403
    assert "Location" not in r.headers
    assert b"refuses cookies" in r.data
    assert cookieless.cookie is None
    assert "check cookies" in raven_log()[0].getMessage()


def test_tampered_cookie_is_no_state(visitor):
    visitor.login("/")
    value = visitor.cookie.value
    tampered = value[:-3] + ("AAA" if value[-3:] != "AAA" else "BBB")
    visitor.client.set_cookie(visitor.middleware.cookie.name, tampered, domain=HOST,
                              secure=True)
    # A bad signature is no state at all: back to the WLS.
    assert visitor.get("/").status_code == 303
    assert not visitor.logged_in


def test_truncated_cookie_is_worth_nothing(visitor):
    visitor.login("/")
    value = visitor.cookie.value
    visitor.client.set_cookie(visitor.middleware.cookie.name, value[: len(value) // 2],
                              domain=HOST, secure=True)
    assert visitor.get("/").status_code == 303


@pytest.mark.parametrize(("secret", "name", "works"), [
    ("a test secret, long enough", "__Host-raven", True),  # the control: ours
    ("guessed wrong, guessed wrong", "__Host-raven", False),
    ("a test secret, long enough", "__Host-other", False),  # signed for another cookie
])
def test_cookie_signed_otherwise_is_not_a_login(middleware, visitor_for, secret, name, works):
    genuine = visitor_for(middleware)
    genuine.login("/")
    signer = LoginCookie(secret, middleware.settings, name=name)
    forged = signer.dumps(genuine.state, time.time())
    visitor = visitor_for(middleware)
    visitor.client.set_cookie(middleware.cookie.name, forged, domain=HOST, secure=True)
    assert visitor.get("/").status_code == (200 if works else 303)


def test_a_cookie_older_than_its_max_age_is_no_login(visitor_for):
    middleware = build(cookie_max_age=60)
    visitor = visitor_for(middleware)
    visitor.login("/")
    old = visitor.cookie.value
    # the same value, signed 61 seconds ago
    stale = middleware.cookie.dumps(visitor.state, time.time() - 61)
    assert old != stale
    visitor.client.set_cookie(middleware.cookie.name, stale, domain=HOST, secure=True)
    assert visitor.get("/").status_code == 303


# --- the Host header -------------------------------------------------------------


def test_spoofed_host_is_refused(visitor):
    assert visitor.get("/", headers={"Host": "evil.example.com"}).status_code == 400
    url, params, _ = visitor.start("/")
    evil_url = url.replace(BASE, EVIL)
    # a relay: the victim's cookie and a response made for the evil host
    query = urlencode({"WLS-Response": make_response(evil_url, params=params)})
    cookies = "; ".join(f"{c.key}={c.value}" for c in visitor.client._cookies.values())
    environ = EnvironBuilder("/?" + query, base_url=EVIL,
                             headers={"Cookie": cookies}).get_environ()
    body, status, _ = run_wsgi_app(visitor.middleware, environ, buffered=True)
    assert status == "400 Bad Request"
    assert b"Check that failed: host" in b"".join(body)
    assert not visitor.logged_in


@pytest.mark.parametrize("host", [
    "www.example.cam.ac.uk:8443", "user@www.example.cam.ac.uk", "[::1", "a b",
    "www.example.cam.ac.uk:notaport",
])
def test_port_userinfo_and_odd_hosts_are_refused(visitor, host):
    # Straight to the middleware: Werkzeug 3.1.7's test client itself
    # refuses such hosts when it has cookies to send.
    environ = EnvironBuilder("/", base_url=BASE, headers={"Host": host}).get_environ()
    body, status, _ = run_wsgi_app(visitor.middleware, environ, buffered=True)
    assert status == "400 Bad Request"
    assert b"Check that failed: host" in b"".join(body)


def test_x_forwarded_host_is_ignored(visitor):
    url, _, _ = visitor.start("/", headers={"X-Forwarded-Host": "evil.example.com"})
    assert url == BASE + "/"


# --- junk -------------------------------------------------------------------------


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.text(max_size=300), extra=st.text(max_size=30))
def test_arbitrary_responses_never_give_a_login_or_a_500(visitor, value, extra):
    url, _, _ = visitor.start("/")
    r = visitor.get("/?" + urlencode({"WLS-Response": value, "x": extra}))
    assert r.status_code == 400
    assert not visitor.logged_in


@pytest.mark.parametrize("query", ["\x80", "WLS-Response=\x80\xff", "a=1&WLS-Response=3%21\xfe"])
def test_raw_query_bytes_that_are_not_utf8(visitor, raven_log, query):
    environ = {"QUERY_STRING": query}  # as a server passes raw bytes (Latin-1 in WSGI)
    r = visitor.get("/", environ_overrides=environ)
    assert r.status_code == 400
    assert "check query" in raven_log()[0].getMessage()


@pytest.mark.parametrize("path", ["/%ff%fe", "/a\x00b", "/" + "x" * 5000, "//evil.example.com/"])
def test_odd_paths_never_500_and_never_leave_the_site(visitor, path):
    url, params, _ = visitor.start(path)
    assert url.startswith(BASE + "/")
    back = visitor.come_back(url, make_response(url, params=params))
    assert back.status_code == 303
    assert back.location.startswith(BASE + "/")


# --- a path spelt so the router and the prefix check would disagree -------------------


def _flask_admin():
    from flask import Flask

    inner = Flask("inner")
    inner.add_url_rule("/admin", "admin", lambda: "ADMIN")
    inner.add_url_rule("/admin/page", "page", lambda: "ADMIN PAGE")
    inner.add_url_rule("/public", "public", lambda: "PUBLIC")
    return inner


@pytest.mark.parametrize("path", ["/admin", "//admin", "///admin", "/./admin",
                                  "/public/../admin", "//admin/page", "/admin/"])
@pytest.mark.parametrize("prefix", ["/admin", "/admin/"])
def test_a_protected_prefix_holds_however_the_path_is_spelt(path, prefix):
    middleware = build(_flask_admin(), protect=[prefix])
    environ = EnvironBuilder(path="/", base_url=BASE).get_environ()
    environ["PATH_INFO"] = path
    body, status, headers = run_wsgi_app(middleware, environ)
    assert status.startswith("303"), (status, b"".join(body))
    assert dict(headers)["Location"].startswith("http://127.0.0.1:5001/")


def test_a_public_path_stays_public():
    middleware = build(_flask_admin(), protect=["/admin"])
    environ = EnvironBuilder(path="/public", base_url=BASE).get_environ()
    body, status, _ = run_wsgi_app(middleware, environ)
    assert status == "200 OK" and b"".join(body) == b"PUBLIC"
