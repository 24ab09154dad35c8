"""A login belongs to the WLS that made it; logging in never keeps a
session id someone planted; no login expired on arrival is stored or
looped; log lines cannot be forged."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from cachelib import FileSystemCache
from flask import Flask
from flask_session import Session

from raven import demoserver
from raven.flask_glue import AuthDecorator
from raven.response import utcnow
from raven.testing import login, make_response

from ..conftest import BASE, Browser

LOCAL_WLS = "http://127.0.0.1:5001"


class DemoDecorator(AuthDecorator):
    request_class = demoserver.Request
    response_class = demoserver.Response
    logout_url = demoserver.RAVEN_DEMO_LOGOUT


def two_wls_app() -> tuple[Flask, AuthDecorator, AuthDecorator]:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="k", TESTING=True, TRUSTED_HOSTS=["www.example.cam.ac.uk"])
    live, demo = AuthDecorator(), DemoDecorator()
    local = AuthDecorator(wls=LOCAL_WLS)

    @app.route("/live")
    @live
    def live_page() -> str:
        return "live page for " + live.principal

    @app.route("/demo")
    @demo
    def demo_page() -> str:
        return "demo page for " + demo.principal

    @app.route("/local")
    @local
    def local_page() -> str:
        return "local page for " + local.principal

    return app, live, demo


def test_a_demo_login_does_not_open_a_live_page():
    app, _, _ = two_wls_app()
    browser = Browser(app)
    assert login(browser.client, BASE + "/demo").get_data(as_text=True) == "demo page for test0001"
    r = browser.get("/live")
    assert r.status_code == 303
    assert r.location.startswith("https://raven.cam.ac.uk/auth/authenticate.html?")


def test_a_login_through_one_test_wls_does_not_open_a_page_of_another():
    app, _, _ = two_wls_app()
    browser = Browser(app)
    assert login(browser.client, BASE + "/local").status_code == 200
    r = browser.get("/demo")  # same demo key, but another WLS: no login there
    assert r.status_code == 303 and r.location.startswith(demoserver.RAVEN_DEMO_AUTH)


def server_side_app(tmp_path) -> Flask:
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY="k", TESTING=True, TRUSTED_HOSTS=["www.example.cam.ac.uk"],
        RAVEN_WLS=LOCAL_WLS, SESSION_TYPE="cachelib",
        SESSION_CACHELIB=FileSystemCache(str(tmp_path)), SESSION_USE_SIGNER=False,
    )
    Session(app)
    auth = AuthDecorator()

    @app.route("/")
    @auth
    def home() -> str:
        return "You are " + auth.principal

    return app


def session_id(browser: Browser) -> str:
    return browser.client.get_cookie("session", domain="www.example.cam.ac.uk").value


def test_a_planted_server_side_session_id_does_not_share_the_login(tmp_path):
    app = server_side_app(tmp_path)
    attacker = Browser(app)
    planted = attacker.with_session()  # the attacker gets a session id from the site...
    victim = Browser(app)  # ...and plants it in the victim's browser
    victim.client.set_cookie("session", planted, domain="www.example.cam.ac.uk")
    page = login(victim.client, BASE + "/")
    assert page.get_data(as_text=True) == "You are test0001"
    assert session_id(victim) != planted  # rotated on login
    r = attacker.get("/")
    assert r.status_code == 303  # the planted id is no login at all
    assert len(list(tmp_path.iterdir())) >= 1  # the store is real and on disk


def test_the_rotated_server_side_session_keeps_working(tmp_path):
    app = server_side_app(tmp_path)
    browser = Browser(app)
    login(browser.client, BASE + "/")
    first = session_id(browser)
    assert browser.get("/").get_data(as_text=True) == "You are test0001"
    assert session_id(browser) == first  # only a login rotates it


def test_a_login_expired_on_arrival_is_explained_and_not_looped(make_app, browser_for, raven_log):
    app, _ = make_app(RAVEN_MAX_LIFE=10, RAVEN_ISSUE_BOUNDS=(30, 5))
    browser = browser_for(app)
    url, params, _ = browser.start("/")
    r = browser.come_back(url, make_response(url, params=params,
                                             issue=utcnow() - timedelta(seconds=20)))
    assert r.status_code == 403 and "Check that failed: expired" in r.get_data(as_text=True)
    assert "principal" not in (browser.state or {})
    assert "check expired" in raven_log()[0].getMessage()


@pytest.mark.parametrize("path", ["/page%0d%0aFAKE%20LINE", "/page%0aINFO:raven:forged"])
def test_log_lines_cannot_be_forged_through_the_path(make_app, browser_for, caplog, path):
    caplog.set_level(logging.INFO, logger="raven")
    app, _ = make_app()
    browser = browser_for(app)
    browser.open(path, method="POST")
    for record in caplog.records:
        assert "\n" not in record.getMessage() and "\r" not in record.getMessage()


def test_a_principal_with_a_newline_cannot_forge_a_log_line(make_app, browser_for, caplog):
    caplog.set_level(logging.INFO, logger="raven")
    app, _ = make_app(RAVEN_REQUIRE_PTAGS=None)
    browser = browser_for(app)
    url, params, _ = browser.start("/")
    browser.come_back(url, make_response(url, "evil\nINFO:raven:admin logged in",
                                         params=params))
    messages = [r.getMessage() for r in caplog.records if r.name == "raven"]
    assert [m for m in messages if "check" in m][0].startswith("refused a WLS-Response "
                                                               "(check format)")
    assert all("\n" not in m for m in messages)
    assert "principal" not in (browser.state or {})
