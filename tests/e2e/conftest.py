"""A real headless Chromium (Debian's, driven by selenium) against the demo
and the local test WLS, both served on 127.0.0.1 on free ports.

Nothing is downloaded: the browser and its driver come from the system, and
the driver is named explicitly so selenium never looks for one itself.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from tests.optional import missing, require

from raven.demo import create_app as create_demo
from raven.wls import create_app as create_wls
from raven.wls.server import LiveServer

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
#: axe-core, which .ci/run installs with npm into the checkout's node_modules/.
AXE = Path(os.environ.get("RAVEN_AXE_JS") or
           Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"

pytestmark = pytest.mark.browser


#: Set to retake docs/demo.png, on the ports ``raven demo`` uses.
UPDATE_DOCS_SCREENSHOT = bool(os.environ.get("RAVEN_UPDATE_DOCS_SCREENSHOT"))


@pytest.fixture(scope="module")
def servers():
    """(demo URL, WLS URL), the demo wired to the WLS."""
    demo_port, wls_port = (5000, 5001) if UPDATE_DOCS_SCREENSHOT else (0, 0)
    wls = LiveServer(create_wls(), port=wls_port).start()
    demo = LiveServer.of(
        lambda url: create_demo({"RAVEN_WLS": wls.url, "RAVEN_ORIGIN": url}), port=demo_port
    ).start()
    try:
        yield demo.url, wls.url
    finally:
        demo.stop()
        wls.stop()


@pytest.fixture
def screenshot_to():
    """Where to save a screenshot for the README: test-artifacts/, and
    docs/demo.png too when asked to retake it."""
    ARTIFACTS.mkdir(exist_ok=True)
    targets = [ARTIFACTS / "demo-home.png"]
    if UPDATE_DOCS_SCREENSHOT:
        targets.append(ARTIFACTS.parent / "docs" / "demo.png")
    return targets


@pytest.fixture(scope="module")
def browser():
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        missing("needs Debian's chromium and chromium-driver (apt-get install "
                "--no-install-recommends chromium chromium-driver)")
    require("selenium", "the test extra installs it (pip install -e '.[test]')")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--window-size=1000,720"):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(20)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.exists():
        missing(f"needs axe-core at {AXE} (npm install --no-save axe-core, as .ci/run does, "
                "or set RAVEN_AXE_JS to its axe.min.js)")
    return AXE.read_text(encoding="utf-8")


def axe_violations(driver, source: str) -> list[str]:
    """Every axe-core violation on the page the browser shows, one line each."""
    driver.execute_script(source)
    return driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document).then(r => done(r.violations.map(v => v.id + ': ' + v.help + ' at '"
        "  + v.nodes.map(n => n.target.join(' ')).join(', ')))).catch(e => done(['axe: ' + e]));"
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failure, save what the browser showed."""
    report = yield
    driver = item.funcargs.get("browser") if hasattr(item, "funcargs") else None
    if report.failed and report.when == "call" and driver is not None:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{item.name}.png"
        try:
            driver.save_screenshot(str(path))
            report.sections.append(("screenshot", f"{path} (page {driver.current_url})"))
        except Exception as exc:  # the browser itself may be what broke
            report.sections.append(("screenshot", f"none: {exc}"))
    return report


def submit_login(driver, userid: str = "test0001", password: str = "test") -> None:
    """Fill in the login form (the test WLS's, or the local OpenID
    provider's: the same form) and press its log-in button."""
    from selenium.webdriver.common.by import By

    driver.find_element(By.ID, "userid").send_keys(userid)
    driver.find_element(By.ID, "pwd").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]:not([name])").click()
