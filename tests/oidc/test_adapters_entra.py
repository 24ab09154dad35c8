"""Every adapter moved from Ucam-WebAuth to the local OpenID provider by
settings alone, over real HTTP: the provider is a real server on
127.0.0.1, and so is each site (Werkzeug's server for the WSGI
middleware, uvicorn for Starlette, Django's live server). The application
code is the guard's attack-list site, and Django's test project,
unchanged."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from guard_site import build_wsgi, starlette_site
from tests.browsing import HTTPBrowser
from tests.servers import Uvicorn, Werkzeug

from raven.oidc.testprovider import create_app as create_provider
from raven.oidc.testprovider import site_settings
from raven.wls.server import LiveServer

SECRET = "entra adapters secret, not for real use"


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    server = LiveServer(create_provider()).start()
    yield server.url
    server.stop()


def _settings(provider: str, origin: str) -> dict[str, str]:
    chosen = {k.removeprefix("RAVEN_").lower(): v for k, v in site_settings(provider).items()}
    return {**chosen, "origin": origin, "secret_key": SECRET}


@pytest.fixture
def wsgi_site(provider: str) -> Iterator[str]:
    with Werkzeug(lambda url: build_wsgi(**_settings(provider, url))) as server:
        yield server.url


@pytest.fixture
def asgi_site(provider: str) -> Iterator[str]:
    with Uvicorn(lambda url: starlette_site(**_settings(provider, url))) as server:
        yield server.url


@pytest.mark.parametrize("served", ["wsgi_site", "asgi_site"])
def test_a_middleware_site_logs_in_through_entra_by_settings_alone(request, served, provider):
    site = request.getfixturevalue(served)
    browser = HTTPBrowser()
    form = browser.go(site + "/admin/page?x=1")
    assert form.url.startswith(provider + "/49a50445-bdfa-4b79-ade3-547b4f3986e9/")
    done = browser.log_in(form, "test0001", "test")
    assert (done.status_code, done.url) == (200, site + "/admin/page?x=1")
    assert done.json() == {"page": "admin", "user": "test0001"}
    assert browser.go(site + "/public").json()["user"] == "test0001"
    # an alumnus is not current: refused, with a page, and nobody anywhere
    other = HTTPBrowser()
    refused = other.log_in(other.go(site + "/admin/page"), "test0450", "test")
    assert refused.status_code == 403
    assert other.go(site + "/public").json()["user"] is None
    # the callback replayed in another browser, one with a login under way
    third = HTTPBrowser()
    third.go(site + "/admin/page")
    replay = third.http.get(_callback_url(browser), allow_redirects=False, timeout=10)
    assert replay.status_code == 400 and "Check that failed: state" in replay.text
    assert third.go(site + "/public").json()["user"] is None


def _callback_url(browser: HTTPBrowser) -> str:
    """The callback URL the provider last sent this browser to."""
    for location in reversed(browser.locations):
        if "/raven/callback?" in location:
            return location
    raise AssertionError("no callback seen")
