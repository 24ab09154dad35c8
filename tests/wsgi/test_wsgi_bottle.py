"""A Bottle application behind RavenMiddleware, under gunicorn on 127.0.0.1,
logging in through the local test WLS: over HTTP, and in headless Chromium."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote, urljoin

import pytest
import requests
from wsgi_kit import login_form

from raven.wls import create_app as create_wls
from raven.wls.server import LiveServer

HERE = Path(__file__).resolve().parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
COOKIE = "raven"  # plain http: no __Host- prefix


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def wls():
    with LiveServer(create_wls()) as server:
        yield server.url


@pytest.fixture(scope="module")
def site(wls):
    """The Bottle site under gunicorn (2 workers: the cookie is the only state)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "RAVEN_WLS": wls, "RAVEN_ORIGIN": url,
           "RAVEN_SECRET_KEY": "bottle test secret, not for real use"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
         "--chdir", str(HERE), "--log-level", "warning", "--graceful-timeout", "2",
         "bottle_site:application"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 20
    while True:  # poll the port until gunicorn answers
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("gunicorn did not start: "
                                   + proc.stderr.read().decode(errors="replace")) from None
    try:
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def follow(http: requests.Session, url: str, trail: list[int], method: str = "GET",
           **kwargs) -> requests.Response:
    for _ in range(10):
        r = http.request(method, url, allow_redirects=False, timeout=10, **kwargs)
        trail.append(r.status_code)
        if r.status_code not in (301, 302, 303, 307, 308):
            return r
        url, method, kwargs = urljoin(url, r.headers["Location"]), "GET", {}
    raise AssertionError("redirect loop")


def test_login_sso_and_logout_over_http(site, wls):
    http, trail = requests.Session(), []
    assert follow(http, site + "/", trail).text == "<p>Public home</p>"  # not protected
    page = follow(http, site + "/members?from=test", trail)
    assert page.url.startswith(wls + "/auth/authenticate.html")
    action, fields = login_form(page.text)
    fields.update(userid="test0001", pwd="test")
    done = follow(http, urljoin(page.url, action), trail, "POST", data=fields)
    assert done.status_code == 200
    assert done.url == site + "/members?from=test"
    assert "<p id=hello>Hello test0001</p>" in done.text
    assert "<p id=auth_type>Ucam-WebAuth</p>" in done.text
    assert done.headers["Cache-Control"] == "private"
    # forget the site's cookie only: the WLS still knows us, so no password
    http.cookies.clear(domain="127.0.0.1", path="/", name=COOKIE)
    trail.clear()
    again = follow(http, site + "/members", trail)
    assert "Hello test0001" in again.text
    assert trail == [303, 303, 303, 200]  # site, WLS (sso), site, page
    # a logout from another site's form is refused; our own page's works
    refused = http.post(site + "/raven/logout", headers={"Origin": "http://evil.example"},
                        allow_redirects=False, timeout=10)
    assert refused.status_code == 403
    out = http.post(site + "/raven/logout", headers={"Origin": site}, allow_redirects=False,
                    timeout=10)
    assert (out.status_code, out.headers["Location"]) == (
        303, wls + "/auth/logout.html?return=" + quote(site + "/", safe=""))
    assert COOKIE not in http.cookies.get_dict(domain="127.0.0.1")


@pytest.fixture(scope="module")
def chromium():
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        missing = pytest.fail if os.environ.get("CI") else pytest.skip
        missing("needs Debian's chromium and chromium-driver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run"):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(20)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.mark.browser
def test_a_person_logs_in_and_out_in_chromium(chromium, site, wls):
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def wait_for(words: str) -> None:
        WebDriverWait(chromium, 10, ignored_exceptions=(WebDriverException,)).until(
            lambda d: words in d.execute_script(
                "return document.body ? document.body.innerText : ''"))

    chromium.get(site + "/")
    chromium.delete_all_cookies()  # one host: the WLS's cookie goes too
    chromium.get(site + "/members")
    wait_for("Log in to the test web login service")
    assert chromium.current_url.startswith(wls + "/auth/authenticate.html?")
    chromium.find_element(By.ID, "userid").send_keys("test0001")
    chromium.find_element(By.ID, "pwd").send_keys("test")
    chromium.find_element(By.CSS_SELECTOR, "button[type=submit]:not([name])").click()
    wait_for("Hello test0001")
    assert chromium.current_url == site + "/members"
    assert chromium.find_element(By.ID, "ptags").text == "current"
    assert chromium.find_element(By.ID, "auth_type").text == "Ucam-WebAuth"
    cookie = chromium.get_cookie(COOKIE)
    assert (cookie["httpOnly"], cookie["sameSite"]) == (True, "Lax")
    chromium.find_element(By.ID, "logout").click()  # a same-origin POST: Origin is sent
    wait_for("Log out of the test web login service")
    assert chromium.current_url.startswith(wls + "/auth/logout")
    assert chromium.get_cookie(COOKIE) is None  # logged out here
    chromium.find_element(By.ID, "logout").click()  # and, confirmed, at the WLS
    wait_for("Logged out of the test web login service")
    chromium.get(site + "/members")
    wait_for("Log in to the test web login service")  # logged out here and at the WLS
