"""The Flask glue's normal paths: going to the WLS, coming back, the session."""

from __future__ import annotations

import html
import logging
import time
from datetime import timedelta
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from flask import abort

from raven import STATUS_CODES, pending
from raven.flask_glue import SESSION_KEY, AuthDecorator
from raven.flow import Login, State
from raven.pages import STATUS_ADVICE
from raven.response import utcnow
from raven.testing import make_response

BASE = "https://www.example.cam.ac.uk"  # as in conftest.py
LOCAL_WLS = "http://127.0.0.1:5001"


# --- going to the WLS -----------------------------------------------------------


def test_unauthenticated_request_redirects_to_the_wls(browser):
    r = browser.get("/page?a=1&b=two")
    assert r.status_code == 303
    parts = urlsplit(r.location)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == LOCAL_WLS + "/auth/authenticate.html"
    query = parse_qs(parts.query)
    assert query["ver"] == ["3"]
    assert query["url"] == [BASE + "/page?a=1&b=two"]
    assert query["desc"] == ["Test site"]
    assert "msg" not in query and "iact" not in query and "aauth" not in query
    [token] = browser.state["tokens"]  # named by its cookie; its digest travels
    assert query["params"] == [pending.params_for(token)]
    assert "principal" not in (browser.state or {})


def test_each_redirect_gets_a_fresh_token_each_in_a_cookie_of_its_own(browser):
    sent = [browser.start("/")[1] for _ in range(5)]
    assert len(set(sent)) == len(sent)
    assert all(len(token) >= 20 for token in sent)
    assert [pending.params_for(t) for t in browser.state["tokens"]] == sent
    assert browser.session() == {}  # nothing in the session: no answer overwrites another's


def test_request_carries_configured_desc_aauth_iact_msg_fail(make_app, browser_for):
    auth = AuthDecorator(desc="Caf\u00e9 & co", aauth=["pwd"], iact=True, msg="Members only")
    app, _ = make_app(auth, RAVEN_FAIL=True)
    _, _, query = browser_for(app).start("/")
    assert query["desc"] == "Caf&#233; &amp; co"
    assert query["aauth"] == "pwd"
    assert query["iact"] == "yes"
    assert query["msg"] == "Members only"
    assert query["fail"] == "yes"


def test_post_that_needs_a_login_is_redirected_and_logged(browser, raven_log):
    r = browser.open("/page", method="POST", data={"field": "value"},  # a form, as a browser
                     headers={"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"})
    assert r.status_code == 303
    assert r.location.startswith(LOCAL_WLS)
    [line] = raven_log(logging.WARNING)
    assert "POST" in line.getMessage() and "/page" in line.getMessage()
    assert "value" not in line.getMessage()


# --- coming back --------------------------------------------------------------------


def test_login_round_trip(browser, raven_log):
    url, params, _ = browser.start("/page?x=1")
    r = browser.come_back(url, make_response(url, params=params, life=3600))
    assert r.status_code == 303
    assert r.location == BASE + "/page?x=1"
    state = browser.state
    assert state["principal"] == "test0001"
    assert state["ptags"] == frozenset({"current"})
    assert state["life"] == 3600
    assert abs(state["issue"] - time.time()) < 5
    assert abs(state["last"] - time.time()) < 5
    assert state["tokens"] == []  # the one used is spent
    r = browser.get(r.location)
    assert r.status_code == 200
    assert r.data == b"page for test0001"
    assert r.headers["Cache-Control"] == "private"
    assert raven_log(logging.WARNING) == []


def test_session_properties(browser):
    assert browser.get("/public").json["principal"] is None
    browser.login("/", life=600)
    data = browser.get("/public").json
    state = browser.state
    assert data["principal"] == "test0001"
    assert data["ptags"] == ["current"]
    assert data["issue"] == state["issue"]
    assert data["life"] == 600
    assert data["last"] == state["last"]
    assert data["expires"] == state["issue"] + 7200
    assert data["expires_all"] == [["config max life", state["issue"] + 7200]]


def test_authenticated_requests_do_not_rewrite_the_cookie(browser):
    browser.login("/")
    r = browser.get("/")
    assert r.status_code == 200
    assert "Set-Cookie" not in r.headers


def test_app_wide_before_request(make_app, browser_for):
    app, _ = make_app(app_wide=True)
    browser = browser_for(app)
    assert browser.get("/page").status_code == 303
    assert browser.login("/page").data == b"page for test0001"
    assert browser.get("/").data == b"You are test0001"


def test_two_tabs_can_log_in_at_once(browser):
    url1, params1, _ = browser.start("/page?tab=1")
    url2, params2, _ = browser.start("/page?tab=2")
    assert browser.come_back(url2, make_response(url2, params=params2)).status_code == 303
    r = browser.come_back(url1, make_response(url1, params=params1))
    assert r.status_code == 303 and r.location == url1


@pytest.mark.parametrize(
    "path",
    [
        "/page",
        "/page?",
        "/page?a=1&a=2",
        "/page?q=a+b&r=%2B%26%3D",
        "/page?caf%C3%A9=th%C3%A9",
        "/page?x=%2F..%2F&empty=&flag",
        "/page?sp=a%20b&quote=%22&lt=%3C",
        "/page?WLS-Responsible=1",
    ],
)
def test_unusual_urls_survive_the_round_trip(browser, path):
    url, params, _ = browser.start(path)
    r = browser.come_back(url, make_response(url, params=params))
    assert r.status_code == 303, r.data
    assert r.location == url
    assert browser.get(url).status_code == 200


def test_version_1_cancel_that_dropped_the_query_is_understood(browser, raven_log):
    """Raven answers a cancel in version 1, with the query string removed."""
    url, params, _ = browser.start("/page?x=1")
    response = make_response(url, status=410, params=params, ver=1)
    r = browser.come_back(BASE + "/page", response)
    assert r.status_code == 401
    assert b"cancelled" in r.data
    assert "principal" not in (browser.state or {})


@pytest.mark.parametrize("status", [410, 510, 530, 540, 560, 570])
def test_failure_status_is_shown_once_without_a_loop(browser, status):
    browser.login("/")  # an earlier login is ended by a failure
    browser.edit_state(issue=int(time.time()) - 8000)
    url, params, _ = browser.start("/")
    r = browser.come_back(url, make_response(url, status=status, params=params, msg="Sorry!"))
    assert r.status_code == 401
    assert "Location" not in r.headers
    assert b"Sorry!" in r.data
    if status == 410:  # the user's own choice, said in words
        assert b"You cancelled the login" in r.data
    else:
        assert f"Raven answered {status} ({STATUS_CODES[status]}).".encode() in r.data
        # what it means, in plain words
        assert STATUS_ADVICE[status][0] in html.unescape(r.get_data(as_text=True))
    assert "principal" not in (browser.state or {})
    assert browser.get("/public").json["principal"] is None
    # a fresh visit goes back to the WLS: the user chooses to try again
    assert browser.get("/").status_code == 303


def test_unsupported_version_failure_in_version_1(browser):
    url, params, _ = browser.start("/")
    r = browser.come_back(url, make_response(url, status=520, ver=1, params=params))
    assert r.status_code == 401
    assert b"Unsupported protocol version" in r.data


def test_wls_message_is_escaped(browser):
    url, params, _ = browser.start("/")
    r = browser.come_back(url, make_response(url, status=410, params=params, msg="<b>x</b>"))
    assert b"<b>x</b>" not in r.data
    assert b"&lt;b&gt;x&lt;/b&gt;" in r.data


# --- session life -----------------------------------------------------------------


def test_max_life_expiry_sends_back_with_timeout_message(browser, raven_log):
    browser.login("/")
    browser.edit_state(issue=int(time.time()) - 7200)
    assert browser.get("/public").json["principal"] is None
    r = browser.get("/")
    assert r.status_code == 303
    query = parse_qs(urlsplit(r.location).query)
    assert query["msg"] == ["your session on the site has expired"]
    assert any("config max life" in rec.getMessage() for rec in raven_log(logging.INFO))


def test_use_wls_life(make_app, browser_for):
    app, _ = make_app(RAVEN_USE_WLS_LIFE=True)
    browser = browser_for(app)
    browser.login("/", life=100)
    issue = browser.state["issue"]
    assert browser.get("/public").json["expires_all"] == [
        ["config max life", issue + 7200], ["wls life", issue + 100],
    ]
    assert browser.get("/public").json["expires"] == issue + 100
    browser.edit_state(issue=issue - 100)
    assert browser.get("/").status_code == 303


def test_wls_life_ignored_by_default(browser):
    browser.login("/", life=100)
    browser.edit_state(issue=browser.state["issue"] - 200)
    assert browser.get("/").status_code == 200


def test_inactive_timeout(make_app, browser_for):
    app, _ = make_app(AuthDecorator(inactive_timeout=600, max_life=None))
    browser = browser_for(app)
    browser.login("/")
    now = int(time.time())
    assert browser.get("/public").json["expires_all"] == [["inactive", browser.state["last"] + 600]]
    browser.edit_state(last=now - 300)  # activity moves the deadline on
    r = browser.get("/")
    assert r.status_code == 200 and "Set-Cookie" in r.headers
    assert browser.state["last"] >= now
    browser.edit_state(last=now - 600)
    r = browser.get("/")
    assert r.status_code == 303
    assert parse_qs(urlsplit(r.location).query)["msg"] == ["your session on the site has expired"]


def test_no_expiry_at_all(make_app, browser_for):
    app, _ = make_app(AuthDecorator(max_life=None))
    browser = browser_for(app)
    browser.login("/")
    browser.edit_state(issue=0)
    assert browser.get("/").status_code == 200
    assert browser.get("/public").json["expires"] is None
    assert browser.get("/public").json["expires_all"] == []


# --- session_new ---------------------------------------------------------------------


class Counting(AuthDecorator):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.new_sessions = 0

    def session_new(self):
        self.new_sessions += 1


def test_session_new_on_first_login_and_on_change_only(make_app, browser_for):
    auth = Counting(require_ptags=None)
    app, _ = make_app(auth)
    browser = browser_for(app)
    browser.login("/")
    assert auth.new_sessions == 1
    browser.edit_state(issue=int(time.time()) - 7200)  # expired: same user again
    browser.login("/")
    assert auth.new_sessions == 1
    browser.edit_state(issue=int(time.time()) - 7200)  # same user, ptags changed
    browser.login("/", ptags=set())
    assert auth.new_sessions == 2
    browser.edit_state(issue=int(time.time()) - 7200)  # someone else
    browser.login("/", principal="test0002", ptags=set())
    assert auth.new_sessions == 3


def test_session_new_may_clear_the_session(make_app, browser_for):
    from flask import session

    class Clearing(AuthDecorator):
        def session_new(self):
            session.clear()

    app, _ = make_app(Clearing())
    browser = browser_for(app)
    with browser.client.session_transaction(base_url=browser.base_url) as sess:
        sess["cart"] = ["left over"]
    assert browser.login("/").status_code == 200
    with browser.client.session_transaction(base_url=browser.base_url) as sess:
        assert "cart" not in sess
        assert State.load(sess[SESSION_KEY]).login.principal == "test0001"


# --- authorisation ------------------------------------------------------------------


def test_non_current_user_is_forbidden_by_default(browser):
    r = browser.login("/", principal="test0401", ptags=set())
    assert r.status_code == 403
    assert b"test0401" in r.data
    # A user the decorator refuses is nobody on its other views too.
    assert browser.get("/public").json["principal"] is None


def test_version_1_success_counts_as_current(browser):
    url, params, _ = browser.start("/")
    r = browser.come_back(url, make_response(url, params=params, ver=1))
    assert r.status_code == 303
    assert browser.get("/").status_code == 200


def test_require_principal(make_app, browser_for):
    app, _ = make_app(AuthDecorator(require_principal={"test0002"}))
    assert browser_for(app).login("/").status_code == 403
    assert browser_for(app).login("/", principal="test0002").status_code == 200


def test_require_ptags_none_allows_anyone(make_app, browser_for):
    app, _ = make_app(AuthDecorator(require_ptags=None))
    assert browser_for(app).login("/", principal="test0401", ptags=set()).status_code == 200


def test_overridden_check_authorised(make_app, browser_for):
    class OddOnly(AuthDecorator):
        def check_authorised(self, principal, ptags):
            return int(principal[-1]) % 2 == 1

    app, _ = make_app(OddOnly())
    assert browser_for(app).login("/", principal="test0001").status_code == 200
    assert browser_for(app).login("/", principal="test0002").status_code == 403


# --- logout and headers -------------------------------------------------------------


def test_logout(browser):
    browser.login("/")
    r = browser.get("/logout")
    assert r.status_code == 303
    # the local test WLS's logout page links back to the site
    assert r.location == LOCAL_WLS + "/auth/logout.html?return=" + quote(BASE + "/", safe="")
    assert browser.state is None
    assert browser.get("/").status_code == 303


def test_cache_control_can_be_changed_or_turned_off(make_app, browser_for):
    app, _ = make_app(RAVEN_CACHE_CONTROL="no-store")
    assert browser_for(app).login("/").headers["Cache-Control"] == "no-store"
    app, _ = make_app(RAVEN_CACHE_CONTROL=None)
    assert "Cache-Control" not in browser_for(app).login("/").headers


def test_cache_control_respects_the_view_but_never_leaves_it_public(make_app, browser_for):
    app, auth = make_app()

    @app.route("/cached/<kind>")
    @auth
    def cached(kind):
        value = {"strict": "no-store", "public": "public, max-age=60"}[kind]
        return "x", 200, {"Cache-Control": value}

    browser = browser_for(app)
    browser.login("/")
    assert browser.get("/cached/strict").headers["Cache-Control"] == "no-store"
    assert browser.get("/cached/public").headers["Cache-Control"] == "private, max-age=60"


def test_an_error_page_for_a_logged_in_user_is_private_too_and_only_for_that_request(
    make_app, browser_for,
):
    app, auth = make_app()

    @app.route("/broken")
    @auth
    def broken():
        abort(404)

    @app.route("/open")
    def open_page():
        return "for anyone"

    browser = browser_for(app)
    browser.login("/")
    r = browser.get("/broken")
    assert (r.status_code, r.headers["Cache-Control"]) == (404, "private")
    assert "Cache-Control" not in browser.get("/open").headers


def test_stale_issue_is_relative_to_now(browser):
    """A response issued 10 s ago is within the default (15, 5) bounds."""
    url, params, _ = browser.start("/")
    response = make_response(url, params=params, issue=utcnow() - timedelta(seconds=10))
    assert browser.come_back(url, response).status_code == 303


def test_async_views_are_wrapped_as_coroutines(make_app):
    import asyncio
    import inspect

    app, auth = make_app()

    async def view():
        return "ran"

    wrapped = auth(view)
    assert inspect.iscoroutinefunction(wrapped)
    assert wrapped.__name__ == "view"
    with app.test_request_context("/", base_url=BASE):
        answer = asyncio.run(wrapped())
        assert answer.status_code == 303  # not logged in: the view did not run
    with app.test_request_context("/", base_url=BASE) as ctx:
        wls, now = auth._settings().wls, int(time.time())
        login = Login("test0001", frozenset({"current"}), now, None, now, "pwd", frozenset(),
                      wls.issuer_of("901"))
        ctx.session[SESSION_KEY] = State((), login).dump()
        assert asyncio.run(wrapped()) == "ran"


def test_a_session_cookie_that_came_back_unreadable_is_not_called_refused(browser):
    url, params, _ = browser.start("/")
    for cookie in list(browser.client._cookies.values()):  # the login's own cookie lost
        browser.client.delete_cookie(cookie.key, domain="www.example.cam.ac.uk")
    # the same cookie name, signed with another secret (another worker's, a restart's)
    browser.client.set_cookie("session", "eyJ4IjoxfQ.forged.signature",
                              domain="www.example.cam.ac.uk")
    r = browser.come_back(url, make_response(url, params=params))
    assert r.status_code == 400
    assert b"refuses cookies" not in r.data
    assert b"Check that failed: params" in r.data
