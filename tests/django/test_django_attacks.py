"""The attack suite against raven.django: none may give a login, none may
answer 500, each refusal logs one line naming its check."""

from __future__ import annotations

import importlib.util
import logging
import time
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from raven.testing import make_response

BASE = "https://www.example.cam.ac.uk"
HOST = "www.example.cam.ac.uk"
EVIL = "https://evil.example.com"

pytestmark = pytest.mark.django_db


def _decorator_attacks():
    """The Flask glue's attack list, one home for every adapter's suite."""
    path = Path(__file__).resolve().parents[1] / "security" / "test_attacks_decorator.py"
    spec = importlib.util.spec_from_file_location("_raven_attack_list", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.ATTACKS


ATTACKS = _decorator_attacks()
#: Both ways a response arrives: at a protected view, and at the return view.
ENTRIES = {"view": "/protected/", "return view": "/members/"}


@pytest.mark.parametrize("entry", list(ENTRIES.values()), ids=list(ENTRIES))
@pytest.mark.parametrize(
    ("build", "deliver_to", "check"),
    [pytest.param(b, d, c, id=name) for name, b, d, c in ATTACKS],
)
def test_refused_responses(browser, settings, raven_log, entry, build, deliver_to, check):
    if check == "iact/aauth":
        settings.RAVEN_IACT = True
    url, params, _ = browser.start(entry)
    response = build(url, params)
    if deliver_to is not None:  # the Flask list's other page: another of ours
        deliver_to = BASE + "/class-based/"
    r = browser.come_back(deliver_to or url, response)
    assert r.status_code == 400, r.content
    assert f"Check that failed: {check}".encode() in r.content
    assert "Location" not in r
    assert not browser.logged_in()
    assert "principal" not in (browser.state or {})
    assert browser.get("/protected/").status_code == 303
    [line] = raven_log(logging.WARNING)
    assert f"check {check}" in line.getMessage()
    assert_nothing_replayable_logged(raven_log, response, browser)


def assert_nothing_replayable_logged(raven_log, response, browser):
    cookie = browser.client.cookies.get("sessionid")
    for level in (10, 20, 30, 40):
        for record in raven_log(level):
            text = record.getMessage()
            if len(response) > 20:
                assert response not in text
            signature = response.rsplit("!", 1)[-1]
            if len(signature) > 20:
                assert signature not in text
            assert cookie is None or cookie.value not in text


def test_demo_signed_response_refused_by_a_live_site(browser, settings, raven_log):
    settings.RAVEN_WLS = "live"
    url, params, _ = browser.start("/members/")
    r = browser.come_back(url, make_response(url, params=params))
    assert r.status_code == 400
    assert b"Check that failed: kid" in r.content
    assert not browser.logged_in()


def test_response_cannot_be_used_twice(browser, raven_log):
    url, params, _ = browser.start("/members/")
    response = make_response(url, params=params)
    assert browser.come_back(url, response).status_code == 303
    browser.open("POST", "/accounts/raven/logout/")
    browser.start("/members/")
    r = browser.come_back(url, response)
    assert r.status_code == 400
    assert b"Check that failed: params" in r.content
    assert not browser.logged_in()


def test_response_for_another_browser_is_refused(browser_for):
    victim, attacker = browser_for(), browser_for()
    url, victim_params, _ = victim.start("/members/")
    attacker.start("/members/")
    r = attacker.come_back(url, make_response(url, params=victim_params))
    assert r.status_code == 400
    assert not attacker.logged_in()
    # ... and the victim's own login still works
    assert victim.come_back(url, make_response(url, params=victim_params)).status_code == 303


def test_a_planted_session_does_not_log_its_planter_in(browser_for):
    """Session fixation: the attacker plants their session id in the
    victim's browser; the victim logs in; the attacker's id stays anonymous."""
    attacker, victim = browser_for(), browser_for()
    planted = attacker.with_session()
    victim.client.cookies["sessionid"] = planted
    url, params, _ = victim.start("/members/")
    assert victim.come_back(url, make_response(url, params=params)).status_code == 303
    assert victim.client.cookies["sessionid"].value != planted
    assert attacker.get("/members/").status_code == 302
    assert not attacker.logged_in()


def test_duplicate_response(browser, raven_log):
    url, params, _ = browser.start("/members/")
    good = make_response(url, params=params)
    r = browser.get(url + "&" + urlencode([("WLS-Response", good), ("WLS-Response", good)]))
    assert r.status_code == 400
    assert not browser.logged_in()
    assert "check duplicate" in raven_log()[0].getMessage()
    r = browser.get(f"{url}&WLS%2DResponse={quote(good)}&WLS-Response={quote(good)}")
    assert r.status_code == 400


@pytest.mark.parametrize("entry", ["/post/", "/members/"])
@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "HEAD"])
def test_response_on_other_methods(browser, raven_log, entry, method):
    url, params, _ = browser.start(entry)
    r = browser.come_back(url, make_response(url, params=params), method=method)
    assert r.status_code == 405
    assert r["Allow"] == "GET"
    assert not browser.logged_in()
    assert "check method" in raven_log()[0].getMessage()


@pytest.mark.parametrize("entry", ["/protected/", "/members/"])
def test_browser_refusing_cookies_gets_a_page_not_a_loop(browser, browser_for, raven_log, entry):
    url, params, _ = browser.start(entry)
    cookieless = browser_for()
    r = cookieless.come_back(url, make_response(url, params=params))
    assert r.status_code == 403
    assert "Location" not in r
    assert b"refuses cookies" in r.content
    assert "sessionid" not in cookieless.client.cookies  # no session for a refusal
    assert "check cookies" in raven_log()[0].getMessage()


def test_a_forged_session_id_is_worth_nothing(browser):
    url, params, _ = browser.start("/members/")
    browser.forget_logins_under_way()
    browser.client.cookies["sessionid"] = "x" * 32
    r = browser.come_back(url, make_response(url, params=params))
    assert r.status_code == 400  # a cookie, but not the login that asked
    assert b"Check that failed: params" in r.content
    assert not browser.logged_in()


def test_a_leaked_response_is_no_login_in_another_browser(browser_for):
    """Whoever sees a response knows its params; a cookie they name after
    them in their own browser binds nothing."""
    victim, attacker = browser_for(), browser_for()
    url, params, _ = victim.start("/members/")
    leaked = make_response(url, params=params)
    attacker.start("/members/")
    attacker.client.cookies[f"__Host-raven-login-{params}"] = str(int(time.time()))
    r = attacker.come_back(url, leaked)
    assert r.status_code == 400 and b"Check that failed: params" in r.content
    assert not attacker.logged_in()
    assert victim.come_back(url, leaked).status_code == 303 and victim.logged_in()


def test_a_forged_session_id_is_not_the_logged_in_one(browser):
    url, params, _ = browser.start("/members/")
    browser.client.cookies["sessionid"] = "x" * 32
    assert browser.come_back(url, make_response(url, params=params)).status_code == 303
    assert browser.client.cookies["sessionid"].value != "x" * 32
    assert browser.logged_in()


@pytest.mark.parametrize("path", ["//evil.example.com/", "/\\evil.example.com/"])
def test_return_url_never_leaves_the_site(browser, path):
    url, params, _ = browser.start("/accounts/raven/login/?next=" + quote(path))
    assert url.startswith(BASE + "/")
    back = browser.come_back(url, make_response(url, params=params))
    assert back.status_code == 303 and back["Location"] == "/"


# --- the Host header -------------------------------------------------------------------


@pytest.mark.parametrize("entry", ["/protected/", "/accounts/raven/return/"])
def test_host_not_in_allowed_hosts_is_refused_by_django(browser, entry):
    url, params, _ = browser.start("/members/")
    evil = url.replace(BASE, EVIL)
    r = browser.come_back(entry, make_response(evil, params=params),
                          HTTP_HOST="evil.example.com")
    assert r.status_code == 400  # Django's own DisallowedHost, before any view
    assert not browser.logged_in()


def test_host_refused_by_django_but_reaching_our_view_is_our_400(browser, settings, raven_log):
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if "CommonMiddleware" not in m]
    r = browser.get("/protected/", HTTP_HOST="evil.example.com")
    assert r.status_code == 400
    assert b"Check that failed: host" in r.content
    assert "check host" in raven_log()[0].getMessage()


def test_allowed_host_that_is_not_the_origin_is_refused(browser, settings):
    settings.ALLOWED_HOSTS = ["www.example.cam.ac.uk", "other.example.cam.ac.uk"]
    r = browser.get("/protected/", HTTP_HOST="other.example.cam.ac.uk")
    assert r.status_code == 400
    url, params, _ = browser.start("/members/")
    other = url.replace(HOST, "other.example.cam.ac.uk")
    r = browser.come_back(other, make_response(other, params=params),
                          HTTP_HOST="other.example.cam.ac.uk")
    assert r.status_code == 400
    assert not browser.logged_in()


def test_the_origin_includes_the_scheme(browser):
    r = browser.client.get("/protected/", HTTP_HOST=HOST)  # http, not https
    assert r.status_code == 400
    assert b"Check that failed: host" in r.content


def test_x_forwarded_host_is_ignored_unless_django_is_told(browser, settings):
    url, params, _ = browser.start("/protected/", HTTP_X_FORWARDED_HOST="evil.example.com")
    assert url.startswith(BASE)
    settings.USE_X_FORWARDED_HOST = True
    r = browser.get("/protected/", HTTP_X_FORWARDED_HOST="evil.example.com")
    assert r.status_code == 400


def test_allowed_hosts_alone_allow_default_ports_only(browser, settings):
    del settings.RAVEN_ORIGIN
    url, params, _ = browser.start("/members/")
    assert url.startswith(BASE + "/")
    assert browser.get("/protected/", HTTP_HOST=HOST + ":8443").status_code == 400
    settings.ALLOWED_HOSTS = ["*"]  # says nothing: no origin, no login
    with pytest.raises(Exception, match="RAVEN_ORIGIN"):
        browser.get("/protected/")


# --- never a 500 ----------------------------------------------------------------------------


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    value=st.one_of(
        st.text(max_size=300),
        st.lists(st.sampled_from(["3", "200", "!", "%21", "%", "x", "", "20240101T000000Z",
                                  "901", "pwd", "\u00e9", "\x00"]), max_size=20).map("".join),
    ),
    extra=st.text(alphabet="ab=&%+?/", max_size=10),
)
def test_arbitrary_responses_never_give_a_login_or_a_500(browser, value, extra):
    url, _, _ = browser.start("/members/")
    r = browser.get(f"{url}&{extra}&WLS-Response={quote(value)}")
    assert r.status_code in (400, 403), r.content
    assert not browser.logged_in()


@pytest.mark.parametrize(
    "path",
    ["/protected/?WLS-Response", "/accounts/raven/return/?WLS-Response=",
     "/protected/?&&WLS-Response=%FF%FE", "/accounts/raven/return/?WLS-Response=" + "A" * 20000,
     "/accounts/raven/return/?WLS-Response=3%21200%21%00&next=%00"],
)
def test_odd_requests_never_500(browser, path):
    browser.start("/members/")
    assert browser.get(path).status_code in (400, 403)


@pytest.mark.parametrize("query", ["\x80", "WLS-Response=\x80\xff", "a=1&WLS-Response=3%21\xfe"])
@pytest.mark.parametrize("entry", ["/protected/", "/accounts/raven/return/"])
def test_raw_query_bytes_that_are_not_utf8(browser, raven_log, query, entry):
    browser.start("/members/")
    r = browser.get(entry, QUERY_STRING=query)
    assert r.status_code == 400
    assert not browser.logged_in()
    assert "check query" in raven_log()[0].getMessage()


def test_responses_without_cookies_never_500():
    r = Client(HTTP_HOST=HOST).get("/accounts/raven/return/?WLS-Response=3!200!!", secure=True)
    assert r.status_code == 403


def test_a_laxer_login_does_not_open_a_stricter_view(browser):
    assert browser.login("/members/", auth=None, sso={"pwd"}).status_code == 200
    r = browser.get("/password-now/")
    assert r.status_code == 303 and "iact=yes" in r["Location"]
    url, params, _ = browser.start("/password-now/")
    r = browser.come_back(url, make_response(url, params=params, auth=None, sso={"pwd"}))
    assert r.status_code == 400
    assert b"Check that failed: iact/aauth" in r.content
    assert browser.logged_in()  # the earlier login goes on, for the laxer pages
