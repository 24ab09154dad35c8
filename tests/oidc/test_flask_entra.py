"""A Flask site moved from Ucam-WebAuth to the local OpenID provider by
settings alone, over real HTTP: the provider and the site are each a real
Werkzeug server on 127.0.0.1, and the back channel goes through urllib."""

from __future__ import annotations

import logging

import pytest
from tests.browsing import HTTPBrowser
from tests.servers import flask_members_site

from raven.flask_glue import AuthDecorator
from raven.oidc.testprovider import create_app as create_provider
from raven.oidc.testprovider import site_settings
from raven.wls.server import LiveServer


def site(provider_url: str, decorator: AuthDecorator | None = None, **config) -> LiveServer:
    return flask_members_site(
        {**site_settings(provider_url), **config}, decorator,
        lambda auth: f"Hello {auth.principal} ({','.join(sorted(auth.ptags)) or 'no ptags'})")


@pytest.fixture(scope="module")
def provider():
    server = LiveServer(create_provider()).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def bare_provider():
    """A registration UIS has not yet given group claims."""
    server = LiveServer(create_provider({"RAVEN_OIDC_GROUPS_CLAIM": False})).start()
    yield server
    server.stop()


@pytest.fixture()
def browser():
    b = HTTPBrowser()
    yield b
    b.close()


def test_a_current_user_logs_in_and_sees_the_page_they_asked_for(provider, browser, caplog):
    s = site(provider.url)
    try:
        form = browser.go(s.url + "/members?x=1")
        assert form.url.startswith(provider.url + "/49a50445-bdfa-4b79-ade3-547b4f3986e9/")
        assert "Log in" in form.text
        with caplog.at_level(logging.INFO, logger="raven"):
            done = browser.log_in(form, "test0001", "test")
        assert (done.status_code, done.text) == (200, "Hello test0001 (current)")
        assert done.url == s.url + "/members?x=1"
        assert "test0001' logged in through the local test provider" in caplog.text
        # the next request needs nothing from the provider
        again = browser.go(s.url + "/members")
        assert again.text == "Hello test0001 (current)"
    finally:
        s.stop()


def test_an_alumnus_is_not_current_and_is_refused_by_default(provider, browser):
    s = site(provider.url)
    try:
        done = browser.log_in(browser.go(s.url + "/members"), "test0450", "test")
        assert done.status_code == 403
    finally:
        s.stop()


def test_another_domain_is_refused_unless_the_site_allows_it(provider, browser):
    p = LiveServer(create_provider({
        "RAVEN_WLS_USERS": [("ab123@cantab.ac.uk", "pw", ())]})).start()
    s = site(p.url, AuthDecorator(require_ptags=None))
    allowing = site(p.url, AuthDecorator(require_ptags=None),
                    RAVEN_OIDC_OTHER_DOMAINS="cantab.ac.uk")
    try:
        refused = browser.log_in(browser.go(s.url + "/members"), "ab123@cantab.ac.uk", "pw")
        assert refused.status_code == 403
        assert "Check that failed: domain" in refused.text
        other = HTTPBrowser()
        done = other.log_in(other.go(allowing.url + "/members"), "ab123@cantab.ac.uk", "pw")
        assert done.text == "Hello ab123@cantab.ac.uk (no ptags)"
    finally:
        for server in (s, allowing, p):
            server.stop()


def test_no_groups_claim_is_a_page_saying_what_to_ask_for(bare_provider, browser, caplog):
    s = site(bare_provider.url)
    try:
        with caplog.at_level(logging.WARNING, logger="raven"):
            done = browser.log_in(browser.go(s.url + "/members"), "test0001", "test")
        assert done.status_code == 403
        assert "ask UIS to add group claims" in done.text
        assert "check groups" in caplog.text
    finally:
        s.stop()


def test_cancelling_at_the_provider_is_a_page_not_a_loop(provider, browser):
    s = site(provider.url)
    try:
        done = browser.log_in(browser.go(s.url + "/members"), cancel=True)
        assert done.status_code == 401
        assert "access_denied" in done.text
        assert browser.trail.count(303) <= 3
    finally:
        s.stop()


def test_a_replayed_return_is_refused(provider, browser):
    s = site(provider.url)
    try:
        form = browser.go(s.url + "/members")
        page = browser.http.post(form.url, data=_fields(form), allow_redirects=False)
        back = page.headers["Location"]
        assert "/raven/callback?code=" in back
        first = browser.go(back)
        assert first.text == "Hello test0001 (current)"
        # another browser, replaying the same return, gets nothing
        thief = HTTPBrowser()
        thief.go(s.url + "/members")  # a session of its own, with its own token
        stolen = thief.go(back)
        assert stolen.status_code == 400
        assert "Check that failed: state" in stolen.text
    finally:
        s.stop()


def test_an_unreachable_provider_is_a_page_and_a_log_line(provider, browser, caplog):
    dead = LiveServer(create_provider()).start()
    s = site(dead.url)
    try:
        form = browser.go(s.url + "/members")
        back = browser.http.post(form.url, data=_fields(form),
                                 allow_redirects=False).headers["Location"]
        dead.stop()  # the token endpoint goes away before the code is exchanged
        with caplog.at_level(logging.WARNING, logger="raven"):
            done = browser.go(back)
        assert done.status_code == 403
        assert "check token endpoint" in caplog.text
    finally:
        s.stop()


def test_iact_asks_for_a_fresh_password(provider, browser):
    strict = AuthDecorator(iact=True)
    s = site(provider.url, strict)
    try:
        form = browser.go(s.url + "/members")
        assert "prompt=login" in form.url and "max_age=0" in form.url
        done = browser.log_in(form)
        assert done.text == "Hello test0001 (current)"
    finally:
        s.stop()


def _fields(form) -> dict[str, str]:
    from tests.browsing import Form

    return Form(form.text).login_fields("test0001", "test", False)
