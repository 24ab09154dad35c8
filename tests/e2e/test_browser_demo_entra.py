"""The demo in Entra ID mode (`raven demo --entra`): its protected page,
behind the same AuthDecorator, logged in to through the local OpenID
provider served beside the test WLS, in a real headless Chromium, with
axe-core on every page the person sees."""

from __future__ import annotations

import pytest
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.support.ui import WebDriverWait

from raven.cli import with_local_provider
from raven.demo import create_app as create_demo
from raven.oidc.testprovider import site_settings
from raven.wls import create_app as create_wls
from raven.wls.server import LiveServer

from .conftest import axe_violations, submit_login

pytestmark = pytest.mark.browser
TENANT = "49a50445-bdfa-4b79-ade3-547b4f3986e9"


@pytest.fixture(scope="module")
def demo():
    both, tenant = with_local_provider(create_wls())
    assert tenant == TENANT
    with LiveServer(both) as wls:

        config = {**site_settings(wls.url), "RAVEN_DEMO_WLS": wls.url}
        with LiveServer.of(lambda url: create_demo({**config, "RAVEN_ORIGIN": url})) as site:

            yield site.url, wls.url


def wait_for(driver, words: str) -> None:
    WebDriverWait(driver, 10, ignored_exceptions=(WebDriverException,)).until(
        lambda d: words in d.execute_script("return document.body.innerText"))


def test_the_demo_logs_in_through_entra(browser, demo, axe_source):
    url, wls = demo
    browser.get(url + "/")
    browser.delete_all_cookies()
    browser.get(url + "/protected")
    wait_for(browser, "Log in")
    assert browser.current_url.startswith(f"{wls}/{TENANT}/oauth2/v2.0/authorize?")
    assert axe_violations(browser, axe_source) == []
    submit_login(browser)
    wait_for(browser, "test0001")
    assert browser.current_url == url + "/protected"
    assert axe_violations(browser, axe_source) == []
    browser.get(url + "/")  # the front page, still about the demo, logged in
    wait_for(browser, "test0001")
    assert axe_violations(browser, axe_source) == []
