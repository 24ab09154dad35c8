"""The origin a site expects is its own: scheme, host and port, whatever a
client or a proxy header says. Over real HTTP on 127.0.0.1, with raw
Host headers, as an attacker would send them."""

from __future__ import annotations

import http.client
import logging
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import requests
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from raven.flask_glue import AuthDecorator
from raven.testing import make_response
from raven.wls.server import LiveServer

SITE = "www.example.cam.ac.uk"


def protected_app(**config) -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="origin tests", RAVEN_WLS="http://127.0.0.1:5001", **config)
    auth = AuthDecorator()

    @app.route("/members")
    @auth
    def members() -> str:
        return "You are " + auth.principal

    return app


@pytest.fixture(scope="module")
def site():
    """A site that trusts the host name www.example.cam.ac.uk (default port
    only), reached on a loopback port through raw Host headers."""
    with LiveServer(protected_app(TRUSTED_HOSTS=[SITE])) as server:
        yield server


def raw_get(server, path, host, cookie=None, **headers):
    """GET with exactly this Host header (requests would rewrite it)."""
    conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
    headers = {"Host": host, **headers}
    if cookie:
        headers["Cookie"] = cookie
    conn.request("GET", path, headers=headers)
    r = conn.getresponse()
    return r.status, r.getheader("Location"), r.getheader("Set-Cookie"), r.read().decode()


def test_the_trusted_name_on_its_default_port_works(site):
    status, location, cookie, _ = raw_get(site, "/members", SITE)
    assert status == 303
    url = parse_qs(urlsplit(location).query)["url"][0]
    assert url == f"http://{SITE}/members"


# Werkzeug's whitelist compares host names only, so it lets another port
# through: our origin check refuses it. The rest Werkzeug refuses itself.
@pytest.mark.parametrize(("host", "refusal"), [
    (f"{SITE}:8080", "Check that failed: host"),  # another port of ours: another service
    (f"{SITE}:@evil.example", "is not trusted"),  # userinfo, which old Werkzeug sent off-site
    (f"x@{SITE}", "is not trusted"),
    (f"{SITE}:80@evil.example", "is not trusted"),
    (f"{SITE}.evil.example", "is not trusted"),
])
def test_a_host_header_naming_anything_else_is_refused(site, host, refusal):
    status, location, cookie, body = raw_get(site, "/members", host)
    assert (status, location, cookie) == (400, None, None)
    assert refusal in body


@pytest.mark.parametrize("host", [f"{SITE}:@evil.example", f"x@{SITE}", f"{SITE}:8080"])
def test_with_no_host_whitelist_at_all_the_origin_check_refuses(host, caplog):
    caplog.set_level(logging.WARNING, logger="raven")
    with LiveServer(protected_app(RAVEN_ORIGIN=f"http://{SITE}")) as server:
        status, location, cookie, body = raw_get(server, "/members", host)
    assert (status, location, cookie) == (400, None, None)
    assert "Check that failed: host" in body
    # One line for the refusal (start-up's warnings about the setup aside).
    [line] = [r.getMessage() for r in caplog.records if r.name == "raven"
              and "demo key" not in r.getMessage() and not hasattr(r, "raven_mismatch")]
    assert "check host" in line


def test_a_response_minted_for_another_port_cannot_be_replayed_here(site):
    """The attack: the victim's single sign-on answers a request made for
    oursite:8080; the attacker replays it with that Host header."""
    _, location, cookie, _ = raw_get(site, "/members", SITE)
    params = parse_qs(urlsplit(location).query)["params"][0]
    evil_url = f"http://{SITE}:8080/members"
    stolen = make_response(evil_url, params=params)
    session_cookie = cookie.split(";", 1)[0]
    status, location, set_cookie, body = raw_get(
        site, "/members?WLS-Response=" + quote(stolen, safe=""), f"{SITE}:8080", session_cookie
    )
    assert status == 400 and "Check that failed: host" in body
    assert set_cookie is None  # no session was given


def test_x_forwarded_port_behind_proxyfix_cannot_choose_the_port():
    app = protected_app(RAVEN_ORIGIN=f"https://{SITE}")
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_port=1)
    with LiveServer(app) as server:
        forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": SITE}
        ok = raw_get(server, "/members", "127.0.0.1", **forwarded)
        assert ok[0] == 303
        assert parse_qs(urlsplit(ok[1]).query)["url"] == [f"https://{SITE}/members"]
        for extra in ({"X-Forwarded-Port": "8443"}, {"X-Forwarded-Proto": "http"},
                      {"X-Forwarded-Host": f"{SITE}:8443"}):
            status, location, _, body = raw_get(server, "/members", "127.0.0.1",
                                                **{**forwarded, **extra})
            assert (status, location) == (400, None), extra
            assert "Check that failed: host" in body


def test_an_origin_with_a_port_is_honoured_exactly():
    app = protected_app()
    server = LiveServer(app)
    app.config["RAVEN_ORIGIN"] = server.url
    with server:
        r = requests.get(server.url + "/members", allow_redirects=False, timeout=10)
        assert parse_qs(urlsplit(r.headers["Location"]).query)["url"] == [
            server.url + "/members"]
        other = raw_get(server, "/members", f"localhost:{server.port}")
        assert other[0] == 400
