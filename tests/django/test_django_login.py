"""raven.django's normal paths, over the test project, with real signatures."""

from __future__ import annotations

import logging
import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from raven import pending
from raven.response import utcnow
from raven.testing import make_response

BASE = "https://www.example.cam.ac.uk"
LOCAL_WLS = "http://127.0.0.1:5001"
RETURN = BASE + "/accounts/raven/return/"

pytestmark = pytest.mark.django_db


# --- a protected view is its own return URL ---------------------------------------


def test_a_protected_view_sends_the_browser_to_the_wls(browser):
    r = browser.get("/protected/?a=1")
    assert r.status_code == 303 and r["Cache-Control"] == "no-store"
    parts = urlsplit(r["Location"])
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == LOCAL_WLS + "/auth/authenticate.html"
    query = parse_qs(parts.query)
    assert query["url"] == [BASE + "/protected/?a=1"]
    assert query["desc"] == ["Django test site"]
    assert query["ver"] == ["3"]
    [token] = browser.state["tokens"]  # named by its cookie; its digest travels
    assert query["params"] == [pending.params_for(token)]
    assert not browser.logged_in()


def test_login_round_trip_makes_a_django_user(browser, raven_log):
    url, params, _ = browser.start("/protected/?a=1")
    r = browser.come_back(url, make_response(url, params=params, life=3600))
    assert r.status_code == 303
    assert r["Location"] == BASE + "/protected/?a=1"
    user = get_user_model().objects.get(username="test0001")
    assert not user.has_usable_password()
    assert browser.session["_auth_user_backend"] == "raven.django.backends.RavenBackend"
    state = browser.state
    assert state["principal"] == "test0001" and state["ptags"] == frozenset({"current"})
    assert state["tokens"] == [] and state["life"] == 3600
    page = browser.get(r["Location"])
    assert page.status_code == 200
    assert page.content == b"Hello, test0001 (test0001)"
    assert "private" in page["Cache-Control"]
    assert raven_log(logging.WARNING) == []
    assert any("logged in" in rec.getMessage() for rec in raven_log(logging.INFO))


def test_the_session_key_changes_at_login(browser):
    """Django's session fixation defence: a key planted before the login
    (here, the one the visit before it made) is not the logged-in one."""
    before = browser.with_session()
    url, params, _ = browser.start("/protected/")
    browser.come_back(url, make_response(url, params=params))
    after = browser.client.cookies["sessionid"].value
    assert before != after
    planted = Client(HTTP_HOST="www.example.cam.ac.uk")
    planted.cookies["sessionid"] = before
    assert planted.get("/protected/", secure=True).status_code == 303


def test_an_existing_user_is_logged_in_not_created(browser):
    user = get_user_model().objects.create_user("test0001", password="local")
    browser.login()
    assert get_user_model().objects.count() == 1
    user.refresh_from_db()
    assert user.check_password("local")  # untouched
    assert browser.session["_auth_user_id"] == str(user.pk)


# --- LOGIN_URL, the login and return views ------------------------------------------


def test_login_required_goes_through_the_login_view(browser):
    r = browser.get("/members/")
    assert r.status_code == 302
    assert r["Location"] == "/accounts/raven/login/?next=/members/"
    url, params, _ = browser.start("/members/")
    assert url == RETURN + "?next=%2Fmembers%2F"
    r = browser.come_back(url, make_response(url, params=params))
    assert r.status_code == 303 and r["Location"] == "/members/"
    assert browser.get("/members/").content == b"Members' page for test0001"


def test_the_login_helper_follows_login_url(browser):
    assert browser.login("/members/").content == b"Members' page for test0001"


def test_login_view_without_next_ends_at_login_redirect_url(browser):
    url, params, _ = browser.start("/accounts/raven/login/")
    assert url == RETURN
    r = browser.come_back(url, make_response(url, params=params))
    assert r["Location"] == "/"


@pytest.mark.parametrize("wanted", ["//evil.example.com/", "https://evil.example.com/x",
                                    "http://www.example.cam.ac.uk/", "/\\evil.example.com"])
def test_an_unsafe_next_is_dropped(browser, wanted):
    url, params, _ = browser.start("/accounts/raven/login/?next=" + wanted)
    assert url == RETURN
    r = browser.come_back(url, make_response(url, params=params))
    assert r["Location"] == "/"


def test_an_unsafe_next_added_on_return_is_refused_by_the_url_check(browser):
    url, params, _ = browser.start("/members/")
    response = make_response(url, params=params)
    r = browser.come_back(RETURN + "?next=//evil.example.com/", response)
    assert r.status_code == 400
    assert b"Check that failed: url" in r.content
    assert not browser.logged_in()


def test_two_tabs_keep_their_own_next(browser):
    url1, params1, _ = browser.start("/members/")
    url2, params2, _ = browser.start("/accounts/raven/login/?next=/protected/")
    assert browser.come_back(url2, make_response(url2, params=params2))["Location"] == "/protected/"
    assert browser.come_back(url1, make_response(url1, params=params1))["Location"] == "/members/"


def test_the_login_view_for_someone_refused_by_next_shows_403_not_a_loop(browser):
    browser.login()
    r = browser.get("/accounts/raven/login/?next=/admin/")
    assert r.status_code == 403
    assert b"You are logged in to Django test site as <strong>test0001</strong>" in r.content
    form = re.search(rb'<form method="post" action="/accounts/raven/logout/">(.*?)</form>',
                     r.content, re.S).group(1)
    assert b'name="csrfmiddlewaretoken"' in form and b'id="forbidden-logout"' in form
    r = browser.get("/accounts/raven/login/")
    assert r.status_code == 303 and r["Location"] == "/"
    # the 403 page's log-out button (the token is the one it showed) logs out
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1).decode()
    out = browser.client.post("/accounts/raven/logout/", {"csrfmiddlewaretoken": token},
                              secure=True)
    assert out.status_code == 303 and not browser.logged_in()


def test_the_back_button_after_a_login_goes_to_the_page(browser):
    url, params, _ = browser.start("/members/")
    response = make_response(url, params=params)
    browser.come_back(url, response)
    r = browser.come_back(url, response)  # the same response again, same browser
    assert r.status_code == 303 and r["Location"] == "/members/"


# --- per view, and site-wide, requirements ----------------------------------------


def test_staff_only_view(browser_for):
    other = browser_for()
    assert other.login("/staff/", "test0001").status_code == 403
    assert other.logged_in()  # logged in, but not allowed here
    staff = browser_for()
    assert staff.login("/staff/", "test0002").content == b"Staff page for test0002"


def test_not_current_cannot_log_in(browser, raven_log):
    r = browser.login("/anyone/", "test0401", ptags=set())
    assert r.status_code == 403
    assert b"does not let\n<strong>test0401</strong> log in. You are not logged in here." in (
        r.content)
    assert b"You are logged in" not in r.content and b"staff and students" not in r.content
    assert not browser.logged_in()
    assert "principal" not in (browser.state or {})
    assert not get_user_model().objects.filter(username="test0401").exists()
    assert any("not authorised to log in" in rec.getMessage() for rec in raven_log(logging.INFO))


def test_site_wide_ptags_can_be_dropped(browser, settings):
    settings.RAVEN_REQUIRE_PTAGS = None
    assert browser.login("/anyone/", "test0401", ptags=set()).content == (
        b"Anyone page for test0401")
    assert browser.get("/members/").status_code == 200


def test_a_password_now_view_sends_a_single_sign_on_login_back(browser):
    assert browser.login("/protected/", auth=None, sso={"pwd"}).status_code == 200
    r = browser.get("/password-now/")
    assert r.status_code == 303
    assert "iact=yes" in r["Location"]
    page = browser.login("/password-now/")  # auth=pwd this time
    assert page.content == b"Password typed just now by test0001"
    assert browser.get("/protected/").status_code == 200


def test_class_based_view_and_its_as_view_requirements(browser):
    assert browser.login("/class-based/").content == b"Class-based view for test0001"
    assert browser.get("/class-based-staff/").status_code == 403


def test_async_view(browser):
    assert browser.login("/async/").content == b"Async view for test0001"
    assert "private" in browser.get("/async/")["Cache-Control"]


def test_post_needing_a_login_is_redirected_and_logged(browser, raven_log):
    r = browser.open("POST", "/post/", data="field=value",  # a form, as a browser sends it
                     content_type="application/x-www-form-urlencoded",
                     HTTP_SEC_FETCH_MODE="navigate", HTTP_SEC_FETCH_DEST="document")
    assert r.status_code == 303 and r["Location"].startswith(LOCAL_WLS)
    [line] = raven_log(logging.WARNING)
    assert "POST" in line.getMessage() and "value" not in line.getMessage()


# --- the life of a login ------------------------------------------------------------


def test_an_expired_login_ends_the_django_login_too(browser, raven_log):
    browser.login()
    browser.edit_state(issue=int(time.time()) - 7300)
    r = browser.get("/members/")
    assert r.status_code == 302 and r["Location"].startswith("/accounts/raven/login/")
    assert not browser.logged_in()
    assert any("ended the Django login of 'test0001'" in rec.getMessage()
               and "config max life" in rec.getMessage() for rec in raven_log(logging.INFO))
    r = browser.get("/protected/")
    assert r.status_code == 303 and r["Location"].startswith(LOCAL_WLS)


def test_tokens_under_way_survive_the_end_of_a_login(browser):
    browser.login(auth=None, sso={"pwd"})
    url, params, _ = browser.start("/password-now/")  # off to type a password...
    browser.edit_state(issue=int(time.time()) - 7300)  # ...and the old login expires
    r = browser.come_back(url, make_response(url, params=params))
    assert r.status_code == 303
    assert browser.get("/password-now/").status_code == 200


def test_inactive_timeout_is_kept_up_to_date(browser, settings):
    settings.RAVEN_INACTIVE_TIMEOUT = 600
    browser.login()
    browser.edit_state(last=int(time.time()) - 300)
    assert browser.get("/members/").status_code == 200
    assert abs(browser.state["last"] - time.time()) < 5
    browser.edit_state(last=int(time.time()) - 700)
    assert browser.get("/members/").status_code == 302


def test_a_deactivated_user_is_logged_out_and_cannot_log_in(browser):
    browser.login()
    get_user_model().objects.filter(username="test0001").update(is_active=False)
    r = browser.get("/protected/")
    assert r.status_code == 303 and r["Location"].startswith(LOCAL_WLS)
    assert browser.login().status_code == 403
    assert not browser.logged_in()


@pytest.mark.parametrize(("rule", "fields", "status"), [
    ("cancelled", {"status": 410}, 401),
    ("the site's ptags", {"principal": "test0401", "ptags": set()}, 403),
    ("RAVEN_CREATE_USER", {"principal": "test0005"}, 403),
])
def test_a_refused_login_makes_no_session_for_a_visitor_without_one(browser, settings, rule,
                                                                    fields, status):
    from django.contrib.sessions.models import Session

    settings.RAVEN_CREATE_USER = rule != "RAVEN_CREATE_USER"
    url, params, _ = browser.start("/protected/")
    r = browser.come_back(url, make_response(url, params=params, **fields))
    assert r.status_code == status
    assert "sessionid" not in r.cookies and "sessionid" not in browser.client.cookies
    assert not Session.objects.exists()


@pytest.mark.parametrize("csrf_in_session", [False, True])
def test_a_page_without_a_log_out_form_sets_no_csrf_token(browser, settings, csrf_in_session):
    from django.contrib.sessions.models import Session

    settings.CSRF_USE_SESSIONS = csrf_in_session
    r = browser.login("/members/", status=410)
    assert r.status_code == 401 and b"csrfmiddlewaretoken" not in r.content
    assert "csrftoken" not in r.cookies and "sessionid" not in r.cookies
    assert not Session.objects.exists()


def test_unknown_users_are_refused_when_create_user_is_off(browser_for, settings):
    settings.RAVEN_CREATE_USER = False
    assert browser_for().login("/protected/", "test0005").status_code == 403
    assert not get_user_model().objects.filter(username="test0005").exists()
    get_user_model().objects.create_user("test0005")
    assert browser_for().login("/protected/", "test0005").status_code == 200


def test_a_login_made_through_another_wls_is_not_kept(browser, settings):
    browser.login()
    settings.RAVEN_WLS = "http://127.0.0.1:5002"
    assert browser.get("/members/").status_code == 302
    assert not browser.logged_in()


# --- logout -----------------------------------------------------------------------------


def test_logout_is_post_only(browser):
    browser.login()
    assert browser.get("/accounts/raven/logout/").status_code == 405
    assert browser.logged_in()


def test_logout_needs_the_csrf_token(browser):
    browser.client = Client(HTTP_HOST="www.example.cam.ac.uk", enforce_csrf_checks=True)
    browser.login()
    assert browser.open("POST", "/accounts/raven/logout/").status_code == 403
    assert browser.logged_in()
    home = browser.get("/").content.decode()
    token = home.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    r = browser.open("POST", "/accounts/raven/logout/", data=f"csrfmiddlewaretoken={token}",
                     content_type="application/x-www-form-urlencoded",
                     HTTP_REFERER=BASE + "/")
    assert r.status_code == 303
    assert r["Location"] == (LOCAL_WLS + "/auth/logout.html?return=https%3A%2F%2F"
                             "www.example.cam.ac.uk%2Faccounts%2Fraven%2Flogged-out%2F")
    assert not browser.logged_in()
    assert browser.state is None
    assert browser.get("/protected/").status_code == 303


def test_a_tab_left_at_the_wls_does_not_log_in_again_after_a_logout(browser):
    url, params, _ = browser.start("/members/")  # tab 1, left at the WLS
    browser.login("/protected/")  # tab 2 logs in
    out = browser.open("POST", "/accounts/raven/logout/")
    assert out.status_code == 303
    assert browser.state is None  # every login under way forgotten too
    r = browser.come_back(url, make_response(url, "test0002", params=params))
    assert r.status_code == 400 and b"Check that failed: params" in r.content
    assert not browser.logged_in()


def test_djangos_own_logout_forgets_the_logins_under_way_too(browser):
    url, params, _ = browser.start("/members/")  # tab 1, left at the WLS
    browser.login("/protected/")  # tab 2 logs in
    out = browser.open("POST", "/django-logout/")  # LogoutView, the admin's, a site's own
    assert out.status_code == 302 and not browser.logged_in()
    assert browser.state is None
    r = browser.come_back(url, make_response(url, "test0002", params=params))
    assert r.status_code == 400 and not browser.logged_in()


def test_a_login_ended_by_the_middleware_keeps_another_tabs_login_under_way(browser,
                                                                            settings):
    url, params, _ = browser.start("/members/")  # tab 1, left at the WLS
    browser.login("/protected/")  # tab 2 logs in
    settings.RAVEN_REQUIRE_PTAGS = {"staff"}  # tab 2's login no longer holds
    assert browser.whoami() == {"user": None, "raven": None}  # ended by the middleware
    assert len(browser.state["tokens"]) == 1  # tab 1's login under way goes on
    r = browser.come_back(url, make_response(url, "test0003", ptags={"staff"}, params=params))
    assert r.status_code == 303 and browser.logged_in()


def test_a_login_is_not_used_at_another_origin_that_django_allows(browser, raven_log):
    """ALLOWED_HOSTS ignores ports: another port of the site's name is not
    one of its origins, so the login is not used there by any view."""
    browser.login("/protected/")
    other = {"HTTP_HOST": "www.example.cam.ac.uk:444"}
    assert browser.get("/", HTTP_ACCEPT="application/json", **other).json() == {
        "user": None, "raven": None}
    assert browser.get("/members/", **other).status_code == 302  # @login_required
    assert browser.get("/protected/", **other).status_code == 400
    assert "at a host that is not the site's ('www.example.cam.ac.uk:444')" in (
        raven_log()[0].getMessage())
    assert browser.get("/members/").status_code == 200  # the login itself goes on


def test_a_fresh_password_for_the_same_user_changes_the_session_key(browser):
    browser.login("/protected/", auth=None, sso={"pwd"})
    before = browser.client.cookies["sessionid"].value
    url, params, _ = browser.start("/password-now/")  # iact: a fresh password wanted
    r = browser.come_back(url, make_response(url, params=params))
    assert r.status_code == 303 and browser.get("/password-now/").status_code == 200
    assert browser.client.cookies["sessionid"].value != before


def test_logout_can_stay_on_the_site(browser, settings):
    settings.RAVEN_LOGOUT_REDIRECT = "members"
    browser.login()
    r = browser.open("POST", "/accounts/raven/logout/")
    assert r.status_code == 303 and r["Location"] == "/members/"
    assert browser.get("/members/").status_code == 302


# --- the admin --------------------------------------------------------------------------


def test_the_admin_with_a_staff_user(browser):
    get_user_model().objects.create_superuser("test0003", password=None)
    r = browser.get("/admin/")
    assert r.status_code == 302 and r["Location"].startswith("/admin/login/?next=/admin/")
    assert browser.login("/admin/", "test0003").status_code == 200


def test_the_admin_refuses_a_non_staff_user_without_a_loop(browser):
    browser.login()
    r = browser.get("/admin/")
    assert r.status_code == 302
    assert browser.get(r["Location"]).status_code == 403


# --- what the views see ------------------------------------------------------------------


def test_get_login_on_a_public_page(browser):
    assert browser.whoami() == {"user": None, "raven": None}
    browser.login(auth=None, sso={"pwd"})
    assert browser.whoami() == {"user": "test0001", "raven": {
        "principal": "test0001", "ptags": ["current"], "auth": None, "sso": ["pwd"]}}


def test_a_failure_status_is_a_401_page_once(browser):
    r = browser.login("/members/", status=410)
    assert r.status_code == 401
    assert b"You cancelled the login" in r.content
    assert b'href="/accounts/raven/return/?next=%2Fmembers%2F"' in r.content
    assert not browser.logged_in()


def test_issue_bounds(browser):
    url, params, _ = browser.start("/members/")
    r = browser.come_back(url, make_response(url, params=params, issue=utcnow()))
    assert r.status_code == 303
