"""The Django test project moved from Ucam-WebAuth to the local OpenID
provider by settings alone, over real HTTP: Django's live server for the
site, a real server for the provider, and the back channel through urllib.
The project's code is the one every other Django test uses."""

from __future__ import annotations

import logging

import pytest
from tests.browsing import HTTPBrowser
from tests.oidc.attacks import ATTACKS, served

from raven.oidc.testprovider import create_app as create_provider
from raven.oidc.testprovider import site_settings
from raven.wls.server import LiveServer


@pytest.fixture(scope="module")
def provider():
    server = LiveServer(create_provider()).start()
    yield server.url
    server.stop()


@pytest.fixture
def site(live_server, settings, provider):
    url = live_server.url.replace("//localhost:", "//127.0.0.1:")
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    settings.RAVEN_ORIGIN = url
    for name, value in site_settings(provider).items():
        setattr(settings, name, value)
    # the one path registered with the provider: the app's return view
    settings.RAVEN_OIDC_REDIRECT_PATH = "/accounts/raven/return/"
    return url


def test_a_django_site_logs_in_through_entra_by_settings_alone(site, provider):
    browser = HTTPBrowser()
    form = browser.go(site + "/members/")  # @login_required: LOGIN_URL, then the provider
    assert form.url.startswith(provider + "/49a50445-bdfa-4b79-ade3-547b4f3986e9/")
    done = browser.log_in(form, "test0001", "test")
    assert (done.status_code, done.url) == (200, site + "/members/")
    assert done.text == "Members' page for test0001"
    assert browser.go(site + "/protected/").text == "Hello, test0001 (test0001)"


def test_an_alumnus_is_refused_at_login_and_is_nobody(site):
    browser = HTTPBrowser()
    refused = browser.log_in(browser.go(site + "/members/"), "test0450", "test")
    assert refused.status_code == 403
    whoami = browser.go(site + "/", headers={"Accept": "application/json"}).json()
    assert whoami["user"] is None


# --- the relying party's attack list, against the Django app -----------------------------


@pytest.fixture(scope="module")
def attacking():
    with served() as attackable:
        yield attackable


@pytest.mark.parametrize("attack", [a for a in ATTACKS if a.journey == "login"],
                         ids=lambda a: a.id)
def test_each_attack_is_refused_by_the_django_app(live_server, settings, attacking, attack,
                                                  caplog):
    url = live_server.url.replace("//localhost:", "//127.0.0.1:")
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    settings.RAVEN_ORIGIN = url
    for name, value in {**site_settings(attacking.url), **attack.settings()}.items():
        setattr(settings, name, value)
    settings.RAVEN_OIDC_REDIRECT_PATH = "/accounts/raven/return/"
    attacking.attack = attack
    attacking.forged.clear()
    try:
        browser = HTTPBrowser()
        form = browser.go(url + "/members/")
        with caplog.at_level(logging.WARNING, logger="raven"):
            refused = browser.log_in(form, "test0001", "test")
    finally:
        attacking.attack = None
    assert refused.status_code == attack.status
    assert f"Check that failed: {attack.check}" in refused.text
    named = [r for r in caplog.records if f"(check {attack.check})" in r.getMessage()]
    assert len(named) == 1 and named[0].levelno == logging.WARNING
    if attack.forge is not None:
        assert attacking.forged.is_set()
    whoami = browser.go(url + "/", headers={"Accept": "application/json"}).json()
    assert whoami["user"] is None
