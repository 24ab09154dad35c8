"""Logging in to the demo like a person, in a real browser, with no network."""

from __future__ import annotations

import pytest
from tests.e2e.conftest import ARTIFACTS, axe_violations

try:
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:  # the browser fixture says so: a skip here, a failure on CI
    pass

pytestmark = pytest.mark.browser

class Person:
    """What someone at the keyboard does: open, type, click, read.

    Every page they open or wait for is checked with axe-core as well: a
    violation anywhere fails the test, naming the page.
    """

    def __init__(self, driver, demo_url: str, wls_url: str, axe: str | None = None) -> None:
        self.driver, self.demo, self.wls, self.axe = driver, demo_url, wls_url, axe

    def scan(self) -> None:
        if self.axe is not None:
            assert axe_violations(self.driver, self.axe) == [], self.driver.current_url

    def fresh_start(self) -> None:
        """A browser with no cookies: logged in nowhere, the WLS included."""
        self.driver.get(self.demo + "/")
        self.driver.delete_all_cookies()  # one host, so the WLS's cookie goes too

    def open(self, path: str) -> None:
        self.driver.get(self.demo + path)
        self.scan()

    def click(self, element_id: str) -> None:
        self.driver.find_element(By.ID, element_id).click()

    def type(self, element_id: str, text: str) -> None:
        box = self.driver.find_element(By.ID, element_id)
        box.clear()
        box.send_keys(text)

    def wait_for(self, words: str) -> str:
        """Wait until the page shows ``words``; return the page's text."""
        # While a page is being replaced the old one's nodes vanish under us:
        # such errors only mean "not yet".
        WebDriverWait(self.driver, 10, ignored_exceptions=(WebDriverException,)
                      ).until(lambda d: words in self.text)
        self.scan()
        return self.text

    @property
    def text(self) -> str:
        return self.driver.execute_script("return document.body ? document.body.innerText : ''")

    @property
    def url(self) -> str:
        return self.driver.current_url

    def flashes(self) -> list[str]:
        return [li.text for li in self.driver.find_elements(By.CSS_SELECTOR, ".flashes li")]

    def log_in_at_the_wls(self, userid: str, password: str = "test") -> None:
        self.wait_for("Log in to the test web login service")
        assert self.url.startswith(self.wls + "/auth/authenticate.html?")
        self.type("userid", userid)
        self.type("pwd", password)
        self.driver.find_element(By.CSS_SELECTOR, "button[type=submit]:not([name])").click()

    def cancel_at_the_wls(self) -> None:
        self.wait_for("Log in to the test web login service")
        self.driver.find_element(By.CSS_SELECTOR, "button[name=cancel]").click()


@pytest.fixture
def person(browser, servers, axe_source) -> Person:
    p = Person(browser, *servers, axe=axe_source)
    p.fresh_start()
    return p


@pytest.fixture
def scan(browser, axe_source):
    """Check the page the browser shows with axe-core: no violation at all."""
    def check() -> None:
        assert axe_violations(browser, axe_source) == [], browser.current_url
    return check


def test_a_current_user_logs_in_then_logs_out_fully(person, screenshot_to):
    person.open("/protected")
    person.log_in_at_the_wls("test0001")
    text = person.wait_for("Hello, test0001")
    assert person.url == person.demo + "/protected"
    assert person.driver.find_element(By.ID, "ptags").text == "current"
    for label in ("issue", "life", "last use", "expires", "expires_all",
                  "the longest login this site allows"):
        assert label in text

    person.open("/")
    person.wait_for("You are logged in with Raven as test0001")
    for path in screenshot_to:
        person.driver.save_screenshot(str(path))

    person.open("/logout")
    person.click("logout-wls")
    person.wait_for("Log out of the test web login service")
    assert "You are logged in here as test0001" in person.text
    person.click("logout")  # only a POST from the WLS's own page ends its session
    person.wait_for("Logged out of the test web login service")
    assert "You are no longer logged in as test0001 here" in person.text
    assert person.url == person.wls + "/auth/logout.html"

    person.open("/")
    assert "your session there lasts until you press its Log out button" in person.flashes()[0]
    person.open("/protected")  # no session anywhere: the WLS asks for a password again
    person.wait_for("Log in to the test web login service")


def test_someone_not_current_is_refused_with_the_403_page(person, scan):
    person.open("/protected")
    person.log_in_at_the_wls("test0401")
    text = person.wait_for("You may not see this page")
    assert person.driver.title.startswith("Access denied")
    assert "You are logged in to the python-raven demo as test0401" in text
    assert "staff and students" not in text  # no guess at the rule
    assert "Hello," not in text  # the protected page itself never showed
    scan()
    for width in (360, 1000):  # no sideways scrolling, on a phone or a desktop
        person.driver.set_window_size(width, 720)
        assert person.driver.execute_script(
            "return document.documentElement.scrollWidth <= window.innerWidth")
        ARTIFACTS.mkdir(exist_ok=True)
        person.driver.save_screenshot(str(ARTIFACTS / f"refusal-403-{width}.png"))
    person.click("forbidden-logout")  # the page's own next step works
    person.wait_for("Log out of the test web login service")


def test_the_wls_login_error_page_passes_axe(person, scan):
    person.open("/protected")
    scan()  # the login form itself
    person.log_in_at_the_wls("test0001", "wrong")
    person.wait_for("Unknown user or wrong password.")
    assert person.driver.title.startswith("Error:")
    scan()


def test_cancelling_gets_the_401_page(person, scan):
    person.open("/protected")
    person.cancel_at_the_wls()
    person.wait_for("You cancelled the login")
    assert person.driver.title.startswith("Not logged in")
    assert person.url.startswith(person.demo + "/protected?WLS-Response=1!410!")
    scan()
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        for width in (360, 1000):  # the refusal page on a phone and a desktop
            person.driver.set_window_size(width, 720)
            assert fits_the_width(person.driver), width
            person.driver.save_screenshot(str(ARTIFACTS / f"refusal-401-{width}.png"))
    finally:
        person.driver.set_window_size(1000, 720)
    person.click("raven-home")  # a way home, not a dead end
    assert person.url == person.demo + "/"


def test_the_integration_page_with_both_methods(person):
    person.open("/integration")
    person.click("login-raven")
    person.log_in_at_the_wls("test0002")
    person.wait_for("logged in to this site as test0002")
    assert person.flashes() == ["Done: Logged in as test0002 with Raven (ptags: current)."]
    assert person.url == person.demo + "/integration"

    person.click("logout-here")
    person.wait_for("You are logged out of the demo")
    person.open("/integration")
    person.type("username", "alice")
    person.click("login-username")
    person.wait_for("logged in to this site as alice (via username)")
    assert person.flashes() == [
        "Done: Logged in as alice with a user name: this site's own login, not Raven."]

    # The WLS session goes on: Raven logs test0002 in again without a password.
    person.click("login-raven")
    person.wait_for("logged in to this site as test0002")
    assert person.flashes() == ["Done: Logged in as test0002 with Raven (ptags: current)."]

    person.fresh_start()
    person.open("/integration")
    person.click("login-raven")
    person.cancel_at_the_wls()
    person.wait_for("You cancelled the Raven login")
    assert person.flashes() == ["Note: You cancelled the Raven login. Nothing has changed."]


def test_a_built_request_comes_back_to_the_inspector(person):
    person.open("/builder")
    person.type("desc", "the builder's test")
    person.type("params", "hello from the builder")
    person.click("build")
    person.wait_for("In Python")
    person.click("go")
    person.wait_for("the builder's test")
    person.log_in_at_the_wls("test0003")
    person.wait_for("Valid: a login of test0003 (ptags: current).")
    assert person.url.startswith(person.demo + "/inspect?WLS-Response=")
    assert "hello from the builder" in person.text


def fits_the_width(driver) -> bool:
    return driver.execute_script(
        "return document.documentElement.scrollWidth <= window.innerWidth")


def test_the_wls_index_and_the_inspector_fit_a_phone(person):
    person.open("/protected")
    person.log_in_at_the_wls("test0001")
    person.wait_for("Hello, test0001")
    person.open("/builder")
    person.type("params", "a-rather-long-value-with-no-spaces-" * 3)
    person.click("build")
    person.wait_for("In Python")
    person.click("go")  # the WLS session goes on: straight to the inspector
    person.wait_for("Valid: a login of test0001")
    pages = {"inspector": person.url, "builder": person.demo + "/builder",
             "wls-index": person.wls + "/", "demo-home": person.demo + "/"}
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        for width in (360, 1000):
            person.driver.set_window_size(width, 720)
            for name, url in pages.items():
                person.driver.get(url)
                person.wait_for("python-raven")
                assert fits_the_width(person.driver), (name, width)
                person.driver.save_screenshot(str(ARTIFACTS / f"{name}-{width}.png"))
    finally:
        person.driver.set_window_size(1000, 720)


def test_the_builders_error_is_seen_and_tied_to_its_field(person):
    person.open("/builder")
    person.type("aauth", "PWD!")
    person.click("build")
    person.wait_for("This request cannot be built")
    driver = person.driver
    assert driver.title.startswith("Error: ")
    error = driver.find_element(By.ID, "error")
    assert error.text.startswith("Error: aauth type 'PWD!' is not a valid type name")
    # Where it is seen: above the form, inside the window without scrolling.
    assert driver.execute_script(
        "const r = arguments[0].getBoundingClientRect(); return r.top >= 0 && "
        "r.bottom <= window.innerHeight", error)
    field = driver.find_element(By.ID, "aauth")
    assert field.get_attribute("aria-invalid") == "true"
    assert field.get_attribute("aria-describedby") == "error"
    assert field.get_attribute("value") == "PWD!"  # kept, to be corrected
    assert driver.find_element(By.ID, "desc").get_attribute("aria-invalid") is None


def test_the_integration_form_keeps_what_was_typed(person):
    person.open("/integration")
    person.type("username", "-alice")
    person.click("login-username")
    person.wait_for("A user name is 1 to 32 letters")
    driver = person.driver
    assert driver.title.startswith("Error: ")
    field = driver.find_element(By.ID, "username")
    assert field.get_attribute("value") == "-alice"
    assert field.get_attribute("aria-invalid") == "true"
    described = driver.find_element(By.ID, field.get_attribute("aria-describedby"))
    assert described.text.startswith("Error: A user name is")
    person.type("username", "alice")
    person.click("login-username")
    person.wait_for("logged in to this site as alice")
