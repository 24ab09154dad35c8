"""The Django test project served by gunicorn on 127.0.0.1, logged in to
through the local test WLS: by a real headless Chromium, and by a plain
HTTP client filling in the WLS's form."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from tests.browsing import Form
from tests.e2e.conftest import axe_violations, submit_login

from raven.oidc.testprovider import create_app as create_provider
from raven.wls import create_app as create_wls
from raven.wls.server import LiveServer

PROJECT = Path(__file__).resolve().parents[1] / "django"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """(site URL, WLS URL): the project under gunicorn, the WLS in-process."""
    wls = LiveServer(create_wls()).start()
    with _project(tmp_path_factory, {"RAVENTEST_WLS": wls.url}) as site:
        yield site, wls.url
    wls.stop()


@pytest.fixture(scope="module")
def served_by_entra(tmp_path_factory):
    """(site URL, provider URL): the same project, its settings moved to the
    local OpenID provider."""
    provider = LiveServer(create_provider()).start()
    with _project(tmp_path_factory, {"RAVENTEST_OIDC_AUTHORITY": provider.url}) as site:
        yield site, provider.url
    provider.stop()


@contextmanager
def _project(tmp_path_factory, settings: dict[str, str]):
    """The project under gunicorn (two workers) with these settings."""
    port = _free_port()
    site = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "raventest.settings",
        "PYTHONPATH": os.pathsep.join([str(PROJECT), os.environ.get("PYTHONPATH", "")]),
        "RAVENTEST_DB": str(tmp_path_factory.mktemp("django") / "site.db"),
        **settings,
        "RAVENTEST_ORIGIN": site,
        "RAVENTEST_HOSTS": "127.0.0.1",
    }
    subprocess.run([sys.executable, "-m", "django", "migrate", "--noinput", "-v", "0"],
                   env=env, check=True, timeout=120)
    gunicorn = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2",
         "--log-level", "warning", "raventest.wsgi:application"],
        env=env, cwd=PROJECT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                # gunicorn takes connections before its workers can answer
                requests.get(site + "/", timeout=30)
                break
            except (requests.ConnectionError, requests.Timeout):
                if gunicorn.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.1)
        yield site
    finally:
        gunicorn.terminate()
        gunicorn.wait(timeout=10)


def test_http_client_logs_in_through_the_wls_form(served):
    site, wls = served
    http = requests.Session()
    to_wls = http.get(site + "/members/", allow_redirects=False)
    assert to_wls.status_code == 302
    to_wls = http.get(site + to_wls.headers["Location"], allow_redirects=False)
    assert to_wls.status_code == 303 and to_wls.headers["Location"].startswith(wls)
    login_page = http.get(to_wls.headers["Location"])  # its form, token and cookie
    fields = Form(login_page.text).login_fields("test0002")
    back = http.post(wls + "/auth/authenticate.html", data=fields, allow_redirects=False)
    assert back.status_code == 303 and back.headers["Location"].startswith(site)
    page = http.get(back.headers["Location"])
    assert page.url == site + "/members/"
    assert page.text == "Members' page for test0002"
    assert http.get(site + "/protected/").text == "Hello, test0002 (test0002)"
    # The same response, replayed by another client, gives nothing.
    thief = requests.Session()
    replay = thief.get(back.headers["Location"], allow_redirects=False)
    assert replay.status_code == 403  # no cookie at all
    thief.get(site + "/members/")  # now with a session of its own
    replay = thief.get(back.headers["Location"], allow_redirects=False)
    assert replay.status_code == 400 and "Check that failed: params" in replay.text


@pytest.mark.browser
def test_a_person_logs_in_to_the_django_site_and_out(served, browser, axe_source):
    site, wls = served
    driver = browser
    driver.get(site + "/")
    driver.delete_all_cookies()  # one host: the WLS's cookie goes too

    def wait_for(words: str, *, scan: bool = True) -> str:
        """Wait for ``words``; check every HTML page with axe-core (the test
        project's bare answers are plain text, no HTML documents)."""
        WebDriverWait(driver, 10, ignored_exceptions=(WebDriverException,)).until(
            lambda d: words in d.execute_script("return document.body.innerText"))
        if driver.execute_script("return document.contentType") == "text/html" and scan:
            assert axe_violations(driver, axe_source) == [], driver.current_url
        return driver.execute_script("return document.body.innerText")

    driver.get(site + "/")
    wait_for("Not logged in.")
    driver.find_element(By.ID, "login").click()
    wait_for("Log in to the test web login service")
    assert driver.current_url.startswith(wls + "/auth/authenticate.html?")
    submit_login(driver)
    wait_for("Members' page for test0001")
    assert driver.execute_script("return document.contentType") == "text/plain"
    assert driver.current_url == site + "/members/"

    driver.get(site + "/")
    wait_for("Logged in as test0001 with Raven (ptags: current).")
    driver.get(site + "/staff/")  # staff only: test0002
    assert "You may not see this page" in wait_for("You may not see this page")

    driver.get(site + "/")
    driver.find_element(By.ID, "logout").click()  # a POST, with Django's CSRF token
    WebDriverWait(driver, 10, ignored_exceptions=(WebDriverException,)).until(
        lambda d: d.current_url.startswith(wls + "/auth/logout.html?return=")
        and "Log out of the test web login service" in d.page_source)
    assert axe_violations(driver, axe_source) == [], driver.current_url
    driver.find_element(By.ID, "logout").click()  # the WLS ends its session by POST only
    wait_for("Logged out of the test web login service")
    assert driver.current_url == wls + "/auth/logout.html"
    assert driver.find_element(By.ID, "back").get_attribute("href").startswith(site)
    driver.get(site + "/members/")  # nothing left anywhere: the WLS asks again
    wait_for("Log in to the test web login service", scan=False)  # scanned above


def test_a_person_logs_in_through_entra_by_settings_alone(served_by_entra, browser, axe_source):
    site, provider = served_by_entra
    browser.get(site + "/")
    browser.delete_all_cookies()
    browser.get(site + "/members/")  # @login_required: LOGIN_URL, then the provider
    WebDriverWait(browser, 10, ignored_exceptions=(WebDriverException,)).until(
        lambda d: d.current_url.startswith(provider + "/49a50445-bdfa-4b79-ade3-547b4f3986e9/"))
    assert axe_violations(browser, axe_source) == []
    submit_login(browser)
    WebDriverWait(browser, 10, ignored_exceptions=(WebDriverException,)).until(
        lambda d: "Members' page for test0001" in d.page_source)
    assert browser.current_url == site + "/members/"
