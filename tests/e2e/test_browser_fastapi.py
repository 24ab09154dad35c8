"""A person logs in to a FastAPI app served by uvicorn on 127.0.0.1, through
the local test WLS, in a real headless Chromium."""

from __future__ import annotations

import socket
import threading
import time
from typing import Annotated

import pytest
import uvicorn
from fastapi import Depends, FastAPI
from fastapi.responses import HTMLResponse
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from raven.asgi import RavenMiddleware, RavenUser, logout, raven_user
from raven.wls import create_app as create_wls
from raven.wls.server import LiveServer

from .conftest import axe_violations, submit_login

pytestmark = pytest.mark.browser

STAFF = raven_user(require_ptags={"staff"})


def build(origin: str, **settings: str) -> FastAPI:
    """The app; ``settings`` choose the login service (``wls=`` for a
    Ucam-WebAuth WLS, or Entra ID's ``RAVEN_*`` names in lower case)."""
    app = FastAPI()

    @app.get("/members", response_class=HTMLResponse)
    def members(user: Annotated[RavenUser, Depends(raven_user)]) -> str:
        return ("<!doctype html><html lang=en><head><title>Members</title></head><body>"
                f"<main><h1>Members</h1><p id=hello>Hello, {user.display_name}</p>"
                "<form method=post action=/logout><button id=logout>Log out</button></form>"
                "</main></body></html>")

    @app.get("/staff")
    def staff(user: Annotated[RavenUser, Depends(STAFF)]) -> str:
        return "staff only"

    app.post("/logout")(logout)
    app.add_middleware(RavenMiddleware, secret_key="browser test secret, long enough", protect=(),
                       origin=origin, desc="FastAPI browser test", **settings)
    return app


@pytest.fixture(scope="module")
def site():
    with LiveServer(create_wls()) as wls:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        server = uvicorn.Server(uvicorn.Config(build(url, wls=wls.url), log_level="warning",
                                               lifespan="off"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:  # poll, with a deadline
            assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
            thread.join(0.01)
        try:
            yield url, wls.url
        finally:
            server.should_exit = True
            thread.join(10)
            sock.close()


def text(driver) -> str:
    return driver.execute_script("return document.body ? document.body.innerText : ''")


def wait_for(driver, words: str, axe: str | None = None) -> str:
    """Wait for ``words``; with ``axe`` (axe-core's source), check the page too."""
    WebDriverWait(driver, 10, ignored_exceptions=(WebDriverException,)).until(
        lambda d: words in text(d))
    if axe is not None:
        assert axe_violations(driver, axe) == [], driver.current_url
    return text(driver)


def test_log_in_see_a_refusal_and_log_out(browser, site, axe_source):
    url, wls = site

    def seen(words: str) -> str:  # every page reached is checked with axe-core
        return wait_for(browser, words, axe_source)

    browser.get(url + "/")
    browser.delete_all_cookies()
    browser.get(url + "/members")
    seen("Log in to the test web login service")
    assert browser.current_url.startswith(wls + "/auth/authenticate.html?")
    submit_login(browser)
    seen("Hello, test0001")
    assert browser.current_url == url + "/members"
    browser.get(url + "/staff")
    assert "You may not see this page" in seen("You may not see this page")
    browser.get(url + "/members")
    seen("Hello, test0001")
    browser.find_element(By.ID, "logout").click()
    WebDriverWait(browser, 10).until(lambda d: d.current_url.startswith(wls))
    seen("Log out of the test web login service")
    browser.find_element(By.ID, "logout").click()  # the WLS's own button
    seen("Logged out of the test web login service")
    browser.get(url + "/members")
    seen("Log in to the test web login service")


def test_the_wrong_address_and_a_refused_logout_are_pages_to_go_on_from(browser, site,
                                                                           axe_source):
    url, _ = site
    port = url.rsplit(":", 1)[1]
    browser.get(f"http://localhost:{port}/members?x=1")  # not the site's origin
    wait_for(browser, "This is not FastAPI browser test's address", axe_source)
    link = browser.find_element(By.ID, "right-address")
    assert link.get_attribute("href") == url + "/members?x=1"
    link.click()  # the next step works: the same page at the right address
    wait_for(browser, "Log in to the test web login service", axe_source)
    browser.get(url + "/raven/logout")  # a logout by GET: refused, with a button instead
    wait_for(browser, "You have not been logged out", axe_source)
    assert browser.find_element(By.CSS_SELECTOR, "form[method=post] button").is_displayed()
