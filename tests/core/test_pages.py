"""raven.pages: what each refusal page tells a person and offers next, the
same for every adapter. Rendered with the package's own templates."""

from __future__ import annotations

import re

import pytest
from jinja2 import Environment, PackageLoader, select_autoescape

from raven.flow import LogLine, Refuse
from raven.pages import STATUS_ADVICE, refusal_context, right_address
from raven.settings import ConfigurationError, Settings

ORIGIN = "https://www.example.cam.ac.uk"
TEMPLATES = Environment(loader=PackageLoader("raven", "templates"),
                        autoescape=select_autoescape(["html"]))


def settings(**given):
    return Settings.from_config(None, {"wls": "demo", "origin": ORIGIN, **given})


def page(refusal, **kwargs):
    given = kwargs.pop("settings", None) or settings(desc="Example site")
    context = refusal_context(refusal, given, **kwargs)
    html = TEMPLATES.get_template(f"raven/{refusal.page}.html").render(context)
    return context, html


def words(html):
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_every_page_names_the_site_and_keeps_the_check_for_support_staff():
    refusal = Refuse(400, "kid", "bad_response", {"check": "kid", "retry_url": "/x"})
    _, html = page(refusal)
    assert "<title>Login refused · Example site</title>" in html
    assert "Example site could not accept your login" in words(html)
    assert "Check that failed: kid" in html
    assert '<a href="/x" id="raven-retry">Log in again</a>' in html
    assert '<a href="/" id="raven-home">Go to the home page</a>' in html


def test_without_a_desc_the_page_says_this_site():
    _, html = page(Refuse(400, "kid", "bad_response", {"check": "kid"}), settings=settings())
    assert "This site could not accept your login" in words(html)
    assert "<title>Login refused</title>" in html


def test_a_wrong_host_links_the_same_page_at_the_sites_origin():
    refusal = Refuse(400, "host", "bad_request", {"check": "host"})
    context, html = page(refusal, script_root="/app", path="/app/a b",
                         query=b"x=1&WLS-Response=secret")
    assert context["right_url"] == ORIGIN + "/app/a%20b?x=1"
    assert f'<a id="right-address" href="{ORIGIN}/app/a%20b?x=1">' in html
    assert "This is not Example site's address" in words(html).replace("&#39;", "'")


def test_right_address_prefers_https_and_never_makes_another_host():
    assert right_address({"http://a.example", "https://b.example"}, "/p") == "https://b.example/p"
    assert right_address({ORIGIN}, "//evil.example/x") == ORIGIN + "/evil.example/x"
    assert right_address(None, "/p") is None


def test_a_refused_logout_offers_a_same_site_log_out_form_that_posts_back():
    refusal = Refuse(405, "logout method", "logout_refused", {"check": "logout method"})
    _, html = page(refusal, path="/raven/logout")
    assert re.search(r'<form method="post" action="/raven/logout">.*id="raven-logout"',
                     html, re.S)
    assert "(a POST)" not in html and "Opening an address does not log you out" in words(html)


@pytest.mark.parametrize("logged_in, expected, absent", [
    (True, "You are logged in to Example site as abc12 , but this page is not open to abc12",
     "You are not logged in"),
    (False, "Example site does not let abc12 log in. You are not logged in here.",
     "You are logged in"),
])
def test_the_403_page_says_why_truly(logged_in, expected, absent):
    context = {"check": None, "principal": "abc12", "ptags": []}
    if not logged_in:
        context["logged_in"] = False
    _, html = page(Refuse(403, "forbidden", "forbidden", context),
                   logout_url="/out", logout_fields=[("csrf", "t<1")])
    text = words(html)
    assert expected in text and absent not in text
    assert "staff and students" not in text and "close your browser" not in text
    assert '<input type="hidden" name="csrf" value="t&lt;1">' in html
    assert "Check that failed" not in html


def test_the_site_logout_setting_gives_the_403_page_its_button():
    refusal = Refuse(403, "forbidden", "forbidden", {"check": None, "principal": "abc12"})
    context, html = page(refusal, script_root="/app",
                         settings=settings(site_logout="/logout"))
    assert context["logout_url"] == "/app/logout"
    assert '<form method="post" action="/app/logout">' in html
    context, _ = page(refusal)
    assert "logout_url" not in context  # unknown: left for the framework's own context


@pytest.mark.parametrize("came_back, expected", [
    (False, "Your browser did not send back this site's cookie"),
    (True, "the site could not read it"),
    (None, "did not get back the cookie it set"),
])
def test_the_cookie_page_claims_refused_cookies_only_when_none_came_back(came_back, expected):
    refusal = Refuse(403, "cookies", "no_cookies", {"check": "cookies", "retry_url": "/p"})
    _, html = page(refusal, cookie_came_back=came_back)
    text = words(html).replace("&#39;", "'")
    assert expected in text
    assert ("refuses cookies" in text) is (came_back is False)


@pytest.mark.parametrize("status", sorted(STATUS_ADVICE))
def test_a_wls_failure_is_told_in_plain_words(status):
    refusal = Refuse(401, "login_failed", "login_failed",
                     {"check": None, "wls_status": status, "retry_url": "/p"})
    _, html = page(refusal)
    what, then = STATUS_ADVICE[status]
    text = words(html).replace("&#39;", "'")
    assert what in text and then in text
    assert f"Raven answered {status}" in text  # the code stays, for support staff


def test_contact_and_debug_detail():
    refusal = Refuse(400, "kid", "bad_response", {"check": "kid"},
                     LogLine(30, "refused a WLS-Response (check kid): key 7"))
    _, html = page(refusal, settings=settings(contact="the help desk, help@example.org"),
                   debug=True)
    assert '<p id="raven-contact">If you need help, ask the help desk, help@example.org.' in html
    assert "debug mode: refused a WLS-Response (check kid): key 7" in html
    _, html = page(refusal)
    assert "raven-contact" not in html and "raven-debug" not in html


@pytest.mark.parametrize("name, value", [
    ("contact", 5), ("contact", "two\nlines"), ("contact", "x" * 301),
    ("site_logout", "logout"), ("site_logout", "//evil/"), ("site_logout", "/a?b"),
    ("site_logout", 1),
])
def test_bad_page_settings_are_refused_at_start(name, value):
    with pytest.raises(ConfigurationError, match=name):
        settings(**{name: value})


def test_page_settings_from_a_mapping():
    s = Settings.from_config({"RAVEN_WLS": "demo", "RAVEN_ORIGIN": ORIGIN,
                              "RAVEN_CONTACT": "help@example.org",
                              "RAVEN_SITE_LOGOUT": "/logout"})
    assert (s.contact, s.site_logout) == ("help@example.org", "/logout")
