"""A person logs in through Entra ID (the local OpenID provider) in a real
headless Chromium, to the FastAPI app of test_browser_fastapi.py served by
uvicorn: the same application code, only the settings changed. axe-core
checks the provider's login page and the site's pages."""

from __future__ import annotations

import pytest
from tests.servers import Uvicorn

from raven.oidc.testprovider import create_app as create_provider
from raven.oidc.testprovider import site_settings
from raven.wls.server import LiveServer

from .conftest import axe_violations, submit_login
from .test_browser_fastapi import build, wait_for

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site():
    with LiveServer(create_provider()) as provider:
        chosen = {k.removeprefix("RAVEN_").lower(): v
                  for k, v in site_settings(provider.url).items()}
        with Uvicorn(lambda url: build(url, **chosen)) as server:
            yield server.url, provider.url


def test_log_in_through_entra_and_see_a_refusal(browser, site, axe_source):
    url, provider = site
    browser.get(url + "/")
    browser.delete_all_cookies()
    browser.get(url + "/members")
    wait_for(browser, "Log in")
    assert browser.current_url.startswith(provider + "/49a50445-bdfa-4b79-ade3-547b4f3986e9/")
    assert axe_violations(browser, axe_source) == []
    submit_login(browser)
    wait_for(browser, "Hello, test0001")
    assert browser.current_url == url + "/members"
    assert axe_violations(browser, axe_source) == []
    browser.get(url + "/staff")  # current, not staff: the same 403 page as with Raven
    wait_for(browser, "You may not see this page")
    assert axe_violations(browser, axe_source) == []
