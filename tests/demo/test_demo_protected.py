"""The page behind AuthDecorator, and logging out."""

from __future__ import annotations

import re

from raven.testing import make_response


def test_protected_page_sends_you_to_the_local_wls(visitor):
    query = visitor.start("/protected")
    assert query["url"] == "http://127.0.0.1:5000/protected"
    assert query["desc"] == "the python-raven demo"
    assert query["ver"] == "3" and query["params"]


def test_after_login_it_shows_every_property_of_the_login(visitor, page):
    r = visitor.login("/protected", "test0001", life=3600)
    assert r.status_code == 200
    words = page.text(r)
    assert "Hello, test0001" in words
    assert re.search(r"ptags current", words)
    for label in ("issue", "life", "last use", "expires", "expires_all"):
        assert label in words
    assert "1 h left of your WLS session" in words
    assert "the longest login this site allows:" in words
    assert "config max life" not in words
    assert re.search(r"expires \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(in (2 h|1 h 59 min)", words)
    assert "Raven login (protected page): test0001" in words
    assert r.headers["Cache-Control"] == "private"


def test_expires_all_lists_each_limit(visitor_for, page):
    visitor = visitor_for(RAVEN_USE_WLS_LIFE=True, RAVEN_INACTIVE_TIMEOUT=600)
    words = page.text(visitor.login("/protected", life=3600))
    for reason in ("the longest login this site allows:",
                   "the end of your session with the WLS:", "after this long without a visit:"):
        assert reason in words
    # the earliest limit, inactivity, is when the login expires
    assert re.search(r"expires [-\d: ]+ UTC \(in (10 min|9 min 59 s)\)", words)


def test_home_page_shows_the_raven_login(visitor, page):
    visitor.login("/protected", "test0002")
    assert "You are logged in with Raven as test0002" in page.text(visitor.get("/"))


def test_someone_not_current_gets_the_403_page_in_the_demo_layout(visitor, page):
    r = visitor.login("/protected", "test0401", ptags=set())
    assert r.status_code == 403
    words = page.text(r)
    assert "You may not see this page" in words and "test0401" in words
    assert 'href="/logout"' in r.get_data(as_text=True)


def test_a_cancel_gets_the_401_page(visitor, page):
    r = visitor.login("/protected", status=410, ver=1)
    assert r.status_code == 401
    assert "You cancelled the login" in page.text(r)


def test_a_forged_response_gets_the_400_page(visitor, page):
    query = visitor.start("/protected")
    forged = make_response(query["url"], params=query["params"])[:-6] + "AAAAA_"
    r = visitor.come_back(query["url"], forged)
    assert r.status_code == 400
    assert "could not accept your login" in page.text(r)
    assert visitor.get("/protected").status_code == 303


def test_a_demo_configured_for_live_raven_refuses_demo_signed_logins(visitor_for):
    visitor = visitor_for(RAVEN_WLS="live")
    r = visitor.get("/protected")
    assert r.location.startswith("https://raven.cam.ac.uk/auth/authenticate.html?")
    query = {k: v for k, v in (p.split("=", 1) for p in r.location.split("?")[1].split("&"))}
    from urllib.parse import unquote_plus
    url, params = unquote_plus(query["url"]), unquote_plus(query["params"])
    assert visitor.come_back(url, make_response(url, params=params)).status_code == 400


# --- logging out -------------------------------------------------------------------


def test_logout_page_offers_both_ways(visitor, page):
    words = page.text(visitor.get("/logout"))
    assert "Log out here and of the WLS" in words and "Log out here only" in words
    assert "http://127.0.0.1:5001/auth/logout.html" in words


def test_logout_here_only_forgets_both_logins(visitor, page):
    visitor.login("/protected")
    visitor.post("/integration/password", {"username": "alice"})
    r = visitor.post("/logout")
    assert (r.status_code, r.location) == (303, "/")
    home = visitor.get("/")
    assert ("success", "You are logged out of the demo. Your session with the WLS goes on, "
            "so a new login may not ask for a password.") in page.flashes(home)
    assert "Raven login (protected page): none" in page.text(home)
    assert "Site login (integration): none" in page.text(home)
    assert visitor.get("/protected").status_code == 303
    assert visitor.get("/integration/secrets").status_code == 401


def test_full_logout_goes_on_to_the_wls_logout_page(visitor):
    visitor.login("/protected")
    r = visitor.post("/logout", {"wls": "yes"})
    assert r.status_code == 303
    assert r.location.startswith("http://127.0.0.1:5001/auth/logout.html?return=http")
    assert visitor.get("/protected").status_code == 303


def test_a_full_logout_claims_only_what_has_happened(visitor, page):
    """The WLS's session ends only when its own Log out button is pressed:
    the demo must not say it has ended already."""
    visitor.login("/protected")
    visitor.post("/logout", {"wls": "yes"})
    [(category, words)] = page.flashes(visitor.get("/"))
    assert "has ended" not in words
    assert words == ("You are logged out of the demo. You were sent on to the WLS's logout "
                     "page: your session there lasts until you press its Log out button.")


def test_full_logout_with_the_demo_server(visitor_for):
    visitor = visitor_for(RAVEN_WLS="demo")
    r = visitor.post("/logout", {"wls": "yes"})
    assert r.location == "https://demo.raven.cam.ac.uk/auth/logout.html"


def test_logout_needs_the_forms_token(visitor, page):
    visitor.login("/protected")
    for data in ({}, {"csrf": "wrong"}):
        r = visitor.post("/logout", data, csrf=False)
        assert r.status_code == 400
        assert "did not come from this site" in page.text(r)
    assert visitor.get("/protected").status_code == 200
