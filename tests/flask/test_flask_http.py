"""End to end over real HTTP on 127.0.0.1: a protected app and the local
test WLS, driven like a browser (cookies kept, forms filled in)."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from flask import Flask
from tests.browsing import Form, HTTPBrowser

from raven.flask_glue import AuthDecorator
from raven.wls import create_app as create_wls
from raven.wls.server import LiveServer


@pytest.fixture(scope="module")
def wls():
    with LiveServer(create_wls()) as server:
        yield server.url


def serve_app(wls_url: str, auth: AuthDecorator) -> LiveServer:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="http test", TRUSTED_HOSTS=["127.0.0.1"], RAVEN_WLS=wls_url)

    @app.route("/members")
    @auth
    def members() -> str:
        return "Hello " + auth.principal

    @app.route("/logout")
    def logout():
        return auth.logout()

    server = LiveServer(app)
    app.config["RAVEN_ORIGIN"] = server.url  # the port is known once bound
    return server


def test_login_sso_and_logout_through_the_local_wls(wls):
    with serve_app(wls, AuthDecorator(desc="HTTP test")) as site:
        browser = HTTPBrowser()
        page = browser.go(site.url + "/members?from=test")
        assert page.status_code == 200 and page.url.startswith(wls)  # the WLS login form
        done = browser.log_in(page)
        assert (done.status_code, done.text) == (200, "Hello test0001")
        assert done.url == site.url + "/members?from=test"  # WLS-Response gone
        assert done.headers["Cache-Control"] == "private"
        # forget this site's cookie only: the WLS still knows us, so no password
        browser.http.cookies.clear(domain="127.0.0.1", path="/", name="session")
        browser.trail.clear()
        again = browser.go(site.url + "/members")
        assert (again.status_code, again.text) == (200, "Hello test0001")
        assert browser.trail == [303, 303, 303, 200]  # app, WLS (sso), app, page


def test_forced_interaction_and_cancel(wls):
    with serve_app(wls, AuthDecorator(iact=True)) as site:
        browser = HTTPBrowser()
        assert browser.log_in(browser.go(site.url + "/members")).text == "Hello test0001"
        browser.http.cookies.clear(domain="127.0.0.1", path="/", name="session")
        page = browser.go(site.url + "/members?x=1")  # iact: a password again, despite sso
        assert page.url.startswith(wls)
        cancelled = browser.log_in(page, cancel=True)  # a version-1 answer, query dropped
        assert cancelled.status_code == 401
        assert "cancelled" in cancelled.text


def test_full_logout_ends_the_wls_session(wls):
    with serve_app(wls, AuthDecorator()) as site:
        browser = HTTPBrowser()
        browser.log_in(browser.go(site.url + "/members"))
        out = browser.go(site.url + "/logout")
        assert out.url == wls + "/auth/logout.html?return=" + quote(site.url + "/", safe="")
        # the WLS's own button ends its session
        done = browser.submit(out, Form(out.text).hidden())
        assert "Logged out of the test web login service" in done.text
        page = browser.go(site.url + "/members")
        assert page.url.startswith(wls)  # the WLS asks for a password again
        assert "pwd" in page.text
