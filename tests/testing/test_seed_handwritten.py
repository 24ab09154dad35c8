"""The seed's "Integrating with existing authentication" code, as written
(Python 3 print, and the lines its web page lost restored), driven through
its real flow with genuinely signed responses."""

from datetime import datetime, timedelta

import pytest
from flask import Flask, abort, redirect, request, session, url_for

import raven
import raven.testing
from raven.testing import demo_server_as_live, login

SITE = "http://www.your-domain.com"


def seed_app():
    app = Flask(__name__)
    app.secret_key = "a secret key"
    # Flask >= 3.1 works out the host before the view runs, so the seed's
    # `request.trusted_hosts = ...` inside the view comes too late; this
    # setting is its modern equivalent (see docs/protocol.md).
    app.config["TRUSTED_HOSTS"] = ['www.your-domain.com', 'your-domain.com']

    @app.route("/")
    def home():
        return "<a href='{0}'>Log in</a>".format(url_for('login'))

    @app.route("/login")
    def login():
        u = url_for("response", _external=True)
        r = raven.Request(url=u)
        return redirect(str(r))

    @app.route("/response")
    def response():
        r = raven.Response(request.args["WLS-Response"])

        # checking url, issue, iact and aauth is very important!
        # Werkzeug deduces the hostname from the 'Host' or
        # 'X-Forwarded-Host' headers, so we need a whitelist
        request.trusted_hosts = {'www.your-domain.com', 'your-domain.com'}
        if r.url != request.base_url:
            print("Bad url")
            abort(400)

        issue_delta = (datetime.utcnow() - r.issue).total_seconds()
        if not -5 < issue_delta < 15:
            print("Bad issue")
            abort(403)

        if r.success:
            # a no-op here, but important if you set iact or aauth
            if not r.check_iact_aauth(None, None):
                print("check_iact_aauth failed")
                abort(403)

            session["user"] = r.principal

            return redirect(url_for("secrets"))
        else:
            return redirect(url_for("home"))

    @app.route("/secrets")
    def secrets():
        if session.get("user", None) is None:
            abort(401)
        return "You are {0}".format(session["user"])

    return app


@pytest.fixture
def client():
    with demo_server_as_live():
        yield seed_app().test_client()


def test_log_in_and_see_the_secret(client):
    page = login(client, SITE + "/login", "spqr2")
    assert page.status_code == 200 and page.text == "You are spqr2"


def test_cancel_goes_home_without_a_session(client):
    page = login(client, SITE + "/login", status=410)
    assert "Log in" in page.text
    assert client.get(SITE + "/secrets").status_code == 401


def test_a_stale_response_is_refused(client, capsys):
    old = datetime.utcnow() - timedelta(minutes=5)
    assert login(client, SITE + "/login", issue=old).status_code == 403
    assert "Bad issue" in capsys.readouterr().out


def test_a_spoofed_host_is_refused(client):
    with pytest.raises(AssertionError, match="400"):
        login(client, "http://evil.example.org/login")  # refused at the first request
    response = raven.testing.make_response("http://evil.example.org/response")
    forged = client.get("/response", query_string={"WLS-Response": response},
                        headers={"Host": "evil.example.org"})
    assert forged.status_code == 400
    assert client.get(SITE + "/secrets").status_code == 401


def test_live_classes_are_restored_after_the_block():
    with demo_server_as_live():
        pass
    assert set(raven.Response.keys) == {"2"}
    assert raven.Request.wls_url == raven.RAVEN_AUTH


def test_another_thread_keeps_trusting_live_raven_only_during_the_block():
    import threading

    seen = {}

    def live_app_in_another_thread():
        seen["url"] = str(raven.Request("https://site.example.org/")).split("?")[0]
        try:
            raven.Response(raven.testing.make_response("https://site.example.org/"))
        except raven.UnknownKeyError:
            seen["demo-signed"] = "refused"

    with demo_server_as_live():
        assert raven.Response(raven.testing.make_response("https://x.example/")).kid == "901"
        thread = threading.Thread(target=live_app_in_another_thread)
        thread.start()
        thread.join()
    assert seen == {"url": raven.RAVEN_AUTH, "demo-signed": "refused"}
