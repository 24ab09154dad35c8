"""Attacks on the hand-written flow (the demo's integration page, which
follows the seed's "Integrating with existing authentication" with
validate_response and a params token): none may log anyone in, none may
answer 500, each is logged once without anything replayable."""

from __future__ import annotations

import logging
from datetime import timedelta
from urllib.parse import quote

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from tests.browsing import TestBrowser

from raven.demo import create_app
from raven.demo.app import USER
from raven.keys import SigningKey
from raven.response import utcnow
from raven.testing import make_response

SITE = "http://127.0.0.1"
EVIL = "http://evil.example.com"


class Visitor(TestBrowser):
    """The shared test-client browser, on the demo's integration page."""

    def __init__(self, app):
        super().__init__(app, SITE)

    def start(self):
        url, params, _ = super().start("/integration/login")
        return url, params

    def deliver(self, url, response, method="GET", host=None):
        headers = {"Host": host} if host else {}
        return self.come_back(url, response, method=method, headers=headers)

    def logged_in(self):
        return self.get("/integration/secrets").status_code == 200


@pytest.fixture
def app():
    return create_app({"TESTING": True, "SECRET_KEY": "k", "RAVEN_WLS": "http://127.0.0.1:5001",
                       "RAVEN_ORIGIN": SITE})


@pytest.fixture
def visitor(app):
    return Visitor(app)


@pytest.fixture
def warnings(caplog):
    caplog.set_level(logging.INFO)

    def lines():
        return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    return lines


def resigned(url, params, edit):
    body = edit(make_response(url, params=params).rsplit("!", 2)[0])
    return f"{body}!901!{SigningKey.demo().sign(body.encode())}"


def stranger(kid):
    return SigningKey(rsa.generate_private_key(public_exponent=65537, key_size=1024), kid)


def copied_signature(url, params):
    mine = make_response(url, params=params, principal="test0001")
    theirs = make_response(url, params=params, principal="test0002")
    return mine.rsplit("!", 1)[0] + "!" + theirs.rsplit("!", 1)[1]


ATTACKS = {
    "forged principal": (lambda u, p: make_response(u, params=p, principal="test0002")
                         .replace("!test0002!", "!test0001!"), "signature"),
    "stranger's key as kid 901": (
        lambda u, p: make_response(u, params=p, signing_key=stranger("901")), "signature"),
    "unknown kid": (lambda u, p: make_response(u, params=p, signing_key=stranger("7")), "kid"),
    "signature copied from another response": (copied_signature, "signature"),
    "unsigned success": (lambda u, p: make_response(u, params=p, signing_key=None), "format"),
    "another site's url": (lambda u, p: make_response(EVIL + "/integration/response",
                                                      params=p), "url"),
    "another path of ours": (lambda u, p: make_response(SITE + "/protected", params=p), "url"),
    "stale issue": (lambda u, p: make_response(
        u, params=p, issue=utcnow() - timedelta(minutes=2)), "issue"),
    "future issue": (lambda u, p: make_response(
        u, params=p, issue=utcnow() + timedelta(minutes=2)), "issue"),
    "params missing": (lambda u, p: make_response(u), "params"),
    "params wrong": (lambda u, p: make_response(u, params=p + "x"), "params"),
    "version 1 carrying ptags": (lambda u, p: resigned(u, p, lambda b: "1" + b[1:]), "format"),
    "status 200 with empty principal": (
        lambda u, p: resigned(u, p, lambda b: b.replace("!test0001!", "!!")), "format"),
    "1 MB response": (lambda u, p: make_response(u, params=p) + "x" * 1_000_000, "format"),
}


@pytest.mark.parametrize(("build", "check"), ATTACKS.values(), ids=list(ATTACKS))
def test_refused(visitor, warnings, build, check):
    url, params = visitor.start()
    response = build(url, params)
    r = visitor.deliver(url, response)
    assert r.status_code == 400
    assert f"check {check}".encode() in r.data
    assert not visitor.logged_in()
    [line] = warnings()
    assert f"check {check}" in line
    assert response[-40:] not in line  # nothing replayable in the log


def test_demo_key_response_to_a_live_configured_app(warnings):
    live = Visitor(create_app({"TESTING": True, "SECRET_KEY": "k", "RAVEN_WLS": "live",
                                  "RAVEN_ORIGIN": SITE}))
    url, params = live.start()
    r = live.deliver(url, make_response(url, params=params))
    assert r.status_code == 400 and b"check kid" in r.data
    assert not live.logged_in()


def test_reused_in_the_same_session(visitor):
    url, params = visitor.start()
    response = make_response(url, params=params)
    assert visitor.deliver(url, response).status_code == 303
    assert visitor.logged_in()
    with visitor.client.session_transaction(base_url=SITE) as sess:
        sess.pop(USER)  # logged out, the tokens kept: only spending protects them
    assert not visitor.logged_in()
    assert visitor.deliver(url, response).status_code == 400
    assert not visitor.logged_in()


def test_replayed_in_another_browser_session(app, visitor):
    url, params = visitor.start()
    response = make_response(url, params=params)
    thief = Visitor(app)
    thief.start()  # the thief has a session, with a token of its own
    assert thief.deliver(url, response).status_code == 400
    assert not thief.logged_in()


def test_spoofed_host(visitor):
    url, params = visitor.start()
    evil_url = url.replace(SITE, EVIL)
    r = visitor.deliver(evil_url, make_response(evil_url, params=params),
                        host="evil.example.com")
    assert r.status_code == 400
    assert not visitor.logged_in()


def test_spoofed_x_forwarded_host_is_ignored(visitor):
    url, params = visitor.start()
    evil_url = url.replace(SITE, EVIL)
    r = visitor.client.get(url + "?WLS-Response=" + quote(make_response(evil_url, params=params)),
                           headers={"X-Forwarded-Host": "evil.example.com"})
    assert r.status_code == 400
    assert not visitor.logged_in()


def test_duplicate_response(visitor):
    url, params = visitor.start()
    response = quote(make_response(url, params=params))
    r = visitor.client.get(f"{url}?WLS-Response={response}&WLS-Response={response}")
    assert r.status_code == 400
    assert not visitor.logged_in()


def test_response_on_post(visitor):
    url, params = visitor.start()
    assert visitor.deliver(url, make_response(url, params=params), method="POST").status_code == 405
    assert not visitor.logged_in()


def test_non_utf8_response(visitor):
    url, _ = visitor.start()
    r = visitor.client.get(url + "?WLS-Response=3%21200%21%FF%FE")
    assert r.status_code == 400
    assert not visitor.logged_in()


@pytest.mark.parametrize("cut", ["tamper", "truncate"])
def test_tampered_or_truncated_session_cookie(visitor, cut):
    url, params = visitor.start()
    assert visitor.deliver(url, make_response(url, params=params)).status_code == 303
    cookie = visitor.client.get_cookie("session", domain="127.0.0.1")
    value = cookie.value
    value = value[:-3] + ("AAA" if value[-3:] != "AAA" else "BBB") if cut == "tamper" \
        else value[: len(value) // 2]
    visitor.client.set_cookie("session", value, domain="127.0.0.1")
    assert not visitor.logged_in()


def test_cancel_and_failures_are_not_logins(visitor):
    for status in (410, 510, 540, 570):
        url, params = visitor.start()
        r = visitor.deliver(url, make_response(url, params=params, status=status, ver=1
                                               if status == 410 else 3))
        assert r.status_code == 303
        assert not visitor.logged_in()
