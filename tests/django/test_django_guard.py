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


def test_one_view_may_send_scripts_to_the_wls_too(browser):
    r = browser.get("/scripts-to-wls/", HTTP_SEC_FETCH_MODE="cors", HTTP_SEC_FETCH_DEST="empty")
    assert r.status_code == 303 and r["Location"].startswith("http://127.0.0.1:5001/")


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


# --- Django's own login redirects (@login_required, the admin) for a script ---------

SCRIPT = {"HTTP_SEC_FETCH_MODE": "cors", "HTTP_SEC_FETCH_DEST": "empty"}
JSON = {"HTTP_ACCEPT": "application/json"}
BASE = f"https://{HOST}"


@pytest.mark.parametrize("path", ["/members/", "/admin/"])
@pytest.mark.parametrize("headers", [SCRIPT, JSON], ids=["sec-fetch", "accept"])
def test_a_script_sent_to_the_login_view_by_django_gets_the_401(browser, path, headers):
    r = browser.get(path, **headers)
    assert r.status_code == 401
    assert r.json() == {"error": "login_required", "login_url": BASE + path}
    assert r["WWW-Authenticate"] == f'Raven realm="Django test site", login_url="{BASE}{path}"'
    assert r["Cache-Control"] == "no-store"
    assert not browser.client.cookies  # no login started, no session made


def test_the_401_is_the_one_the_raven_views_give(browser):
    ours = browser.get("/protected/", **JSON)
    djangos = browser.get("/members/", **JSON)
    assert (djangos.status_code, djangos["Content-Type"]) == (ours.status_code,
                                                              ours["Content-Type"])
    assert djangos["WWW-Authenticate"] == ours["WWW-Authenticate"].replace("/protected/",
                                                                           "/members/")


def test_a_json_post_to_a_login_required_view_gets_the_401(browser):
    r = browser.open("POST", "/members/", data=b'{"a": 1}', content_type="application/json")
    assert r.status_code == 401 and r.json()["login_url"] == BASE + "/members/"


@pytest.mark.parametrize(("path", "login"), [("/members/", "/accounts/raven/login/"),
                                             ("/admin/", "/admin/login/")])
def test_a_page_visit_is_still_sent_to_the_login_view(browser, path, login):
    for headers in ({"HTTP_SEC_FETCH_MODE": "navigate", "HTTP_SEC_FETCH_DEST": "document"},
                    {"HTTP_ACCEPT": "text/html,*/*"}, {}):
        r = browser.get(path, **headers)
        assert r.status_code == 302 and r["Location"] == f"{login}?next={path}"


def test_with_api_401_off_a_script_keeps_djangos_302(browser, settings):
    settings.RAVEN_API_401 = False
    r = browser.get("/members/", **JSON)
    assert r.status_code == 302 and r["Location"] == "/accounts/raven/login/?next=/members/"
    r = browser.open("POST", "/members/", data=b"{}", content_type="application/json")
    assert r.status_code == 302


def test_a_logged_in_script_the_admin_refuses_is_not_told_to_log_in(browser):
    browser.login("/members/")  # test0001, not staff
    r = browser.get("/admin/", **JSON)
    assert r.status_code == 302  # to the login view, which gives the 403
    assert browser.get(r["Location"], **JSON).status_code == 403
