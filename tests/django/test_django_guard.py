"""The guard's attack list, Django's own items: (8) a request at a host
Django refuses cannot keep a Raven login alive; (9) a login the backend
made is its login on later requests, however the database compares names."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from .conftest import HOST

WITHOUT_COMMON = [m for m in __import__("django.conf").conf.settings.MIDDLEWARE
                  if m != "django.middleware.common.CommonMiddleware"]


def test_8_a_refused_host_is_anonymous_and_the_login_stays(browser, settings):
    settings.MIDDLEWARE = WITHOUT_COMMON  # nothing else asks Django for the host
    assert browser.login("/members/").content == b"Members' page for test0001"
    assert whoami(browser, "evil.example.com") is None  # not checked, so not used
    assert whoami(browser, HOST) == "test0001"


def test_8_a_refused_host_cannot_outlive_max_life(browser, settings):
    settings.MIDDLEWARE = WITHOUT_COMMON
    browser.login("/members/")
    issue = browser.state["issue"]
    browser.edit_state(issue=issue - 7201, last=issue - 7201)  # expired
    assert whoami(browser, "evil.example.com") is None
    assert browser.logged_in()  # a refused host changes nothing
    assert whoami(browser, HOST) is None  # checked: expired, ended
    assert not browser.logged_in()


def whoami(browser, host: str) -> str | None:
    """The Django user a view that shows it sees (it builds no URL, so
    Django never checks the host for it)."""
    answer = browser.get("/", HTTP_HOST=host, HTTP_ACCEPT="application/json")
    assert answer.status_code == 200
    return answer.json()["user"]


@pytest.fixture
def case_blind(settings, db):
    settings.AUTHENTICATION_BACKENDS = ["raventest.backends.CaseBlindBackend"]
    return get_user_model().objects.create_user("TEST0001")


def test_9_an_account_found_without_case_stays_logged_in(browser, case_blind):
    r = browser.login("/protected/")
    assert r.content == b"Hello, test0001 (TEST0001)"
    for _ in range(3):  # later requests: the same login, no trip to the WLS
        assert browser.get("/protected/").content == b"Hello, test0001 (TEST0001)"
    assert browser.get("/members/").content == b"Members' page for TEST0001"


def test_9_another_django_login_in_the_session_is_not_the_raven_one(browser, case_blind):
    browser.login("/protected/")
    other = get_user_model().objects.create_user("someone")
    session = browser.session
    session["_auth_user_id"] = str(other.pk)  # as a second login would leave it
    session.save()
    assert browser.get("/protected/").status_code == 303  # ended: to the WLS again
    assert not browser.logged_in()


def test_a_script_gets_401_and_a_page_visit_the_wls(browser):
    r = browser.get("/protected/", HTTP_SEC_FETCH_MODE="cors", HTTP_SEC_FETCH_DEST="empty")
    assert r.status_code == 401 and r.json()["error"] == "login_required"
    assert r["WWW-Authenticate"].startswith('Raven realm="Django test site", login_url="')
    r = browser.get("/protected/", HTTP_SEC_FETCH_MODE="navigate", HTTP_SEC_FETCH_DEST="document")
    assert r.status_code == 303


def test_a_logged_in_request_at_another_port_of_an_allowed_name_is_refused(browser):
    browser.login("/protected/")
    assert browser.get("/protected/").status_code == 200
    r = browser.get("/protected/", HTTP_HOST="www.example.cam.ac.uk:8443")
    assert r.status_code == 400 and r.raven_check == "host"


def test_a_refused_tab_never_ends_another_tabs_login(browser):
    """Tab B set off with the session key tab A's login has since replaced:
    B's refusal must leave A's session cookie alone."""
    from django.conf import settings as django_settings

    from raven.testing import make_response

    from .conftest import Browser

    old_key = browser.with_session()
    url, params, _ = browser.start("/protected/")
    assert browser.come_back(url, make_response(url, params=params)).status_code == 303
    assert browser.client.cookies[django_settings.SESSION_COOKIE_NAME].value != old_key
    tab_b = Browser()  # the same browser, a request sent before A's answer arrived
    tab_b.client.cookies[django_settings.SESSION_COOKIE_NAME] = old_key
    refused = tab_b.come_back(url, make_response(url, params="another-tab's-token"))
    assert refused.status_code == 400  # not its token: refused, as it should be
    assert django_settings.SESSION_COOKIE_NAME not in refused.cookies  # no deletion sent
    assert browser.get("/protected/").status_code == 200  # A is still logged in


# --- a view's rule that cannot loosen the site's is refused when the view is defined ----


@pytest.mark.parametrize("rule", ["require_principal", "require_ptags"])
def test_a_view_rule_that_cannot_loosen_the_sites_is_refused_at_start_up(rule):
    from django.views import View

    from raven.django.decorators import RavenLoginRequiredMixin, raven_login_required
    from raven.settings import ConfigurationError

    with pytest.raises(ConfigurationError, match=f"{rule}=None cannot loosen"):
        raven_login_required(**{rule: None})
    with pytest.raises(ConfigurationError, match=f"{rule}=None cannot loosen"):
        type("Loose", (RavenLoginRequiredMixin, View), {rule: None})
    with pytest.raises(ConfigurationError, match=f"{rule}=None cannot loosen"):
        type("Fine", (RavenLoginRequiredMixin, View), {}).as_view(**{rule: None})
    with pytest.raises(ConfigurationError, match="iact"):
        raven_login_required(iact="maybe")
    # A stricter rule is what a view may add.
    raven_login_required(**{rule: {"staff"} if rule == "require_ptags" else ["test0001"]})
