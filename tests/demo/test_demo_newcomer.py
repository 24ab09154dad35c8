"""What a newcomer meets first: the wrong host name, a user the protected
page refuses, logging out of the WLS, and the glue's pages in the layout."""

from __future__ import annotations

import re

import pytest
from flask import Flask, render_template_string

from raven.flask_glue import AuthDecorator

FULL_LOGOUT = "http://127.0.0.1:5001/auth/logout.html"


# --- localhost instead of 127.0.0.1 --------------------------------------------------


@pytest.mark.parametrize(("url", "right"), [
    ("http://localhost:5000/protected?x=1", "http://127.0.0.1:5000/protected"),
    ("http://localhost/", "http://127.0.0.1:5000/"),
    ("http://localhost:5005/inspect", "http://127.0.0.1:5000/inspect"),
])
def test_another_host_name_gets_a_400_linking_to_the_demos_origin(visitor, page, url, right):
    r = visitor.get(url)
    assert r.status_code == 400
    link = re.search(r'<a id="right-address" href="([^"]+)">([^<]+)</a>', r.text)
    assert link.groups() == (right, right)
    assert "This demo answers at one host name only" in page.text(r)
    assert "Set-Cookie" not in r.headers


def test_the_link_follows_the_origin_configured(visitor_for):
    visitor = visitor_for(RAVEN_ORIGIN=["http://127.0.0.1:5123"])
    r = visitor.get("http://localhost:5123/builder")
    assert re.search(r'<a id="right-address" href="([^"]+)"', r.text).group(1) == (
        "http://127.0.0.1:5123/builder")


def test_without_an_origin_the_link_keeps_the_port_asked_for(visitor_for):
    visitor = visitor_for(RAVEN_ORIGIN=None)
    r = visitor.get("http://localhost:5005/inspect")
    assert re.search(r'<a id="right-address" href="([^"]+)"', r.text).group(1) == (
        "http://127.0.0.1:5005/inspect")
    odd = visitor.client.get("/", headers={"Host": "localhost:abc"}, base_url=visitor.base)
    assert re.search(r'<a id="right-address" href="([^"]+)"', odd.text).group(1) == (
        "http://127.0.0.1/")


def test_other_errors_offer_no_other_address(visitor):
    r = visitor.get("/no-such-page")
    assert r.status_code == 404
    assert 'id="right-address"' not in r.text


# --- someone the protected page refuses ----------------------------------------------


def test_the_403_page_offers_a_full_logout_that_works(visitor, page):
    r = visitor.login("/protected", "test0401", ptags=set())
    assert r.status_code == 403
    html = r.get_data(as_text=True)
    form = re.search(r'<form method="post" action="([^"]+)">(.*?)</form>', html, re.S)
    assert form.group(1) == "/logout"
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">',
                             form.group(2)))
    assert fields == {"csrf": visitor.session()["csrf"], "wls": "yes"}
    assert 'id="forbidden-logout"' in form.group(2)
    assert "close your browser" not in page.text(r)
    out = visitor.client.post(visitor.base + "/logout", data=fields)
    assert out.status_code == 303 and out.location.startswith(FULL_LOGOUT + "?return=")
    assert visitor.get("/protected").status_code == 303  # logged out here


def test_the_home_page_offers_a_refused_user_a_logout_not_a_403(visitor, page):
    visitor.login("/protected", "test0401", ptags=set())
    home = visitor.get("/")
    main = home.text.split("<main>")[1]
    assert 'href="/protected"' not in main
    assert "whom the protected page refuses" in page.text(home)
    assert re.search(r'<button type="submit" name="wls" value="yes" id="home-logout">', main)


def test_the_home_page_links_a_current_user_to_the_protected_page(visitor, page):
    visitor.login("/protected", "test0001")
    main = visitor.get("/").text.split("<main>")[1]
    assert 'href="/protected"' in main and 'id="home-logout"' not in main


def test_pages_without_the_form_set_no_cookie(visitor):
    """The 403 page's CSRF token is made when it is shown, not on every page."""
    assert "Set-Cookie" not in visitor.get("/").headers
    assert "Set-Cookie" not in visitor.get("/builder").headers


# --- the glue's own page, outside the demo -------------------------------------------


def _app_refusing_everyone(context: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="s", TRUSTED_HOSTS=["localhost"], RAVEN_WLS="demo")
    auth = AuthDecorator(require_ptags={"staff"})
    if context is not None:
        app.context_processor(lambda: context)

    @app.route("/")
    @auth
    def home():
        return "never"

    @app.route("/bye", methods=["POST"])
    def bye():
        return render_template_string("bye")

    return app


def test_the_glue_403_page_without_a_logout_url_links_home(raven_login):
    r = raven_login(_app_refusing_everyone().test_client(), "/")
    assert r.status_code == 403
    assert '<a href="/" id="forbidden-home">Go to the home page</a>' in r.text
    assert "<form" not in r.text and "close your browser" not in r.text
    assert "log out with the log-out button" in r.text


def test_the_glue_403_page_with_a_logout_url_is_a_post_form(raven_login):
    app = _app_refusing_everyone({"logout_url": "/bye", "logout_fields": [("token", "t&1")]})
    r = raven_login(app.test_client(), "/")
    assert r.status_code == 403
    form = re.search(r'<form method="post" action="/bye">(.*?)</form>', r.text, re.S).group(1)
    assert '<input type="hidden" name="token" value="t&amp;1">' in form
    assert 'id="forbidden-home"' in r.text  # and home, as on every refusal page


# --- logging out of the WLS -----------------------------------------------------------


def test_the_logout_page_says_what_a_full_logout_does(visitor, page):
    words = page.text(visitor.get("/logout"))
    assert ("Log out here and of the WLS logs you out here, then sends you to the WLS's own "
            "logout page, where its Log out button ends your session there (until you press "
            "it, the WLS still logs you in without a password).") in words
    assert "open http://127.0.0.1:5000/" in words


def test_the_protected_page_sends_a_full_logout_through_the_explanation(visitor):
    html = visitor.login("/protected").get_data(as_text=True)
    assert '<a class="button" href="/logout">Log out here and of the WLS&hellip;</a>' in html
    assert 'name="wls" value="yes"' not in html


# --- the glue's pages sit in a box, like the demo's own ---------------------------------


@pytest.mark.parametrize("how", [{"status": 410}, {"principal": "test0401", "ptags": set()}])
def test_the_glue_pages_are_boxed_like_the_demos(visitor, how):
    html = visitor.login("/protected", **how).get_data(as_text=True)
    main = html.split("<main>")[1].split("</main>")[0]
    assert re.match(r'\s*<div class="box">\s*<h1>', main)
    assert main.rstrip().endswith("</div>")
