"""RavenMiddleware on a bare WSGI application: configuration, what it hands
on, cookies, caching, protected paths, logout, pages."""

from __future__ import annotations

import logging
import re
import time
from urllib.parse import quote

import pytest
from wsgi_kit import BASE, HOST, LOCAL_WLS, SECRET, Visitor, build, echo

from raven.flow import State
from raven.settings import ConfigurationError
from raven.wsgi import AUTH_TYPE, RavenMiddleware

# --- configuration ---------------------------------------------------------------


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"secret_key": None}, "secret_key"),
    ({"secret_key": "short"}, "16 characters"),
    ({"origin": None}, "RAVEN_ORIGIN"),
    ({"origin": "https://x.example/path"}, "origin"),
    ({"max_life": -1}, "max_life"),
    ({"cookie_name": "bad name"}, "cookie name"),
    ({"cookie_name": "__Host-x", "origin": "http://127.0.0.1:8000"}, "Secure"),
    ({"cookie_max_age": 0}, "cookie_max_age"),
    ({"protect": ["admin"]}, "protect"),
    ({"logout_path": "logout"}, "logout_path"),
    ({"cookie_secure": "yes"}, "cookie_secure"),
])
def test_a_bad_configuration_fails_at_construction(kwargs, words, caplog):
    with pytest.raises(ConfigurationError, match=words):
        build(**kwargs)
    assert any(r.levelno == logging.ERROR for r in caplog.records if r.name == "raven")


def test_a_plain_http_origin_others_reach_is_said_once_when_built(caplog):
    caplog.set_level(logging.WARNING, logger="raven")
    build(origin="http://www.example.cam.ac.uk")
    [record] = [r for r in caplog.records if hasattr(r, "raven_mismatch")]
    assert record.raven_mismatch == "plain http"
    assert "RAVEN_ORIGIN http://www.example.cam.ac.uk is plain http" in record.getMessage()
    caplog.clear()
    build(origin="http://127.0.0.1:8000")
    build()  # https
    assert [r for r in caplog.records if hasattr(r, "raven_mismatch")] == []


def test_the_first_request_at_another_address_says_where_the_site_is(caplog):
    caplog.set_level(logging.WARNING, logger="raven")
    visitor = Visitor(build())
    for _ in range(2):
        assert visitor.get("/page", base_url="http://localhost:8000").status_code == 400
    lines = [r.getMessage() for r in caplog.records if "check host" in r.getMessage()]
    assert len(lines) == 2
    assert f"reached at 'http://localhost:8000', and this site answers only at {BASE} " \
           "(RAVEN_ORIGIN)" in lines[0]
    assert "reached at" not in lines[1]


def test_the_missing_origin_error_names_only_what_a_wsgi_site_can_set():
    with pytest.raises(ConfigurationError, match="RAVEN_ORIGIN") as raised:
        build(origin=None)
    assert "TRUSTED_HOSTS" not in str(raised.value)
    assert "ALLOWED_HOSTS" not in str(raised.value)


def test_an_unknown_setting_fails_at_construction():
    with pytest.raises(ConfigurationError, match="no_such_setting"):
        build(no_such_setting=1)


def test_settings_from_a_mapping_with_arguments_winning():
    config = {"RAVEN_WLS": LOCAL_WLS, "RAVEN_ORIGIN": BASE, "RAVEN_SECRET_KEY": SECRET,
              "RAVEN_DESC": "from config", "RAVEN_MAX_LIFE": 600}
    middleware = RavenMiddleware(echo, config, desc="from code")
    assert middleware.settings.desc == "from code"
    assert middleware.settings.max_life == 600
    assert middleware.cookie.max_age == 600  # bounded by the login's own life
    visitor = Visitor(middleware)
    _, _, query = visitor.start("/")
    assert query["desc"] == "from code"


def test_cookie_name_and_flags_follow_the_origin():
    assert build().cookie.name == "__Host-raven"
    plain = build(origin="http://127.0.0.1:8000")
    assert (plain.cookie.name, plain.cookie.secure) == ("raven", None)
    assert build(max_life=None).cookie.max_age == 8 * 3600


# --- what the application sees ----------------------------------------------------


def test_the_identity_is_handed_on_as_mod_ucam_webauth_does(visitor):
    before = int(time.time())
    r = visitor.login("/members?x=1")
    assert r.status_code == 200
    seen = r.json
    assert (seen["remote_user"], seen["auth_type"], seen["principal"]) == (
        "test0001", AUTH_TYPE, "test0001")
    assert AUTH_TYPE == "Ucam-WebAuth"
    assert (seen["ptags"], seen["ptags_type"]) == (["current"], "frozenset")
    assert seen["login_principal"] == "test0001"
    assert before - 20 <= seen["issue"] <= before + 20
    assert seen["expires"] == seen["issue"] + 7200
    assert r.request.path == "/members" and r.request.args["x"] == "1"  # WLS-Response gone


def test_the_login_cookie_is_signed_httponly_lax_and_secure(visitor):
    url, params, _ = visitor.start("/")
    from raven.testing import make_response
    r = visitor.come_back(url, make_response(url, params=params, principal="test0002"))
    assert r.status_code == 303 and r.location == BASE + "/"
    header = r.headers["Set-Cookie"]
    assert header.startswith("__Host-raven=")
    for flag in ("Path=/", "HttpOnly", "SameSite=Lax", "Secure"):
        assert flag in header.split("; ")
    assert "test0002" not in header  # signed and base64ed, not plain text
    assert visitor.state.login.principal == "test0002"


def test_a_login_is_a_new_cookie_value(visitor):
    """Nothing planted before a login survives it."""
    planted = visitor.middleware.cookie.dumps(State(), time.time())  # valid, no login
    visitor.client.set_cookie(visitor.middleware.cookie.name, planted, domain=HOST,
                              secure=True)
    visitor.login("/", principal="test0002")
    assert visitor.cookie.value != planted
    assert visitor.state.login.principal == "test0002"


def test_authenticated_answers_are_private(visitor):
    visitor.login("/")
    assert visitor.get("/").headers["Cache-Control"] == "private"
    cached = visitor.get("/cached")  # the application said public, max-age=60
    assert cached.headers.getlist("Cache-Control") == ["private, max-age=60"]


def test_no_cookie_is_rewritten_on_an_ordinary_request(visitor):
    visitor.login("/")
    assert "Set-Cookie" not in visitor.get("/").headers


def test_inactivity_is_tracked_in_the_cookie(visitor_for):
    middleware = build(inactive_timeout=600)  # last is rewritten after 10 s
    visitor = visitor_for(middleware)
    visitor.login("/")
    state = visitor.state
    earlier = int(time.time()) - 300  # as if the last request was 5 minutes ago
    aged = state._replace(login=state.login._replace(last=earlier))
    visitor.client.set_cookie(middleware.cookie.name, middleware.cookie.dumps(aged, time.time()),
                              domain=HOST, secure=True)
    r = visitor.get("/")
    assert r.status_code == 200
    assert r.headers["Set-Cookie"].startswith("__Host-raven=")
    assert visitor.state.login.last >= earlier + 300
    aged = state._replace(login=state.login._replace(last=int(time.time()) - 700))
    visitor.client.set_cookie(middleware.cookie.name, middleware.cookie.dumps(aged, time.time()),
                              domain=HOST, secure=True)
    assert visitor.get("/").status_code == 303  # inactive too long: back to the WLS


def test_not_authorised_is_a_403_page(visitor):
    r = visitor.login("/", ptags=set())
    assert r.status_code == 403
    assert b"You are logged in to Test site as <strong>test0001</strong>" in r.data
    assert b"staff and students" not in r.data
    assert b'<form method="post" action="/raven/logout">' in r.data  # log out, try again
    assert r.headers["Cache-Control"] == "no-store"


def test_check_authorised_can_be_overridden():
    class OnlyTest2(RavenMiddleware):
        def check_authorised(self, principal, ptags):
            return principal == "test0002"

    middleware = OnlyTest2(echo, secret_key=SECRET, wls=LOCAL_WLS, origin=BASE)
    assert Visitor(middleware).login("/").status_code == 403
    assert Visitor(middleware).login("/", principal="test0002").status_code == 200


def test_require_principal_and_ptags_settings(visitor_for):
    visitor = visitor_for(build(require_principal="test0003", require_ptags=None))
    assert visitor.login("/", ptags=set()).status_code == 403
    assert visitor_for(visitor.middleware).login("/", principal="test0003",
                                                 ptags=set()).status_code == 200


# --- protected paths --------------------------------------------------------------


def test_only_the_configured_prefixes_need_a_login(visitor_for):
    visitor = visitor_for(build(protect=["/admin", "/staff/"]))
    for path in ("/admin", "/admin/users", "/staff/x", "/staff"):  # a trailing / means nothing
        assert visitor.get(path).status_code == 303, path
    for path in ("/", "/administrator", "/staffroom", "/public"):
        r = visitor.get(path)
        assert (r.status_code, r.json["remote_user"]) == (200, None), path


def test_a_public_page_can_ask_who_is_logged_in():
    seen = {}

    def app(environ, start_response):
        login = middleware.login(environ)
        seen["principal"] = None if login is None else login.principal
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    middleware = build(app, protect="/private")
    visitor = Visitor(middleware)
    visitor.get("/")
    assert seen["principal"] is None
    visitor.login("/private")
    visitor.get("/")
    assert seen["principal"] == "test0001"


def test_the_script_root_is_part_of_the_url(visitor):
    r = visitor.get("/page", environ_overrides={"SCRIPT_NAME": "/app"})
    url, _, _ = visitor.start("/page", environ_overrides={"SCRIPT_NAME": "/app"})
    assert r.status_code == 303
    assert url == BASE + "/app/page"


# --- logout -----------------------------------------------------------------------


def test_logout_forgets_the_login_and_ends_the_wls_session(visitor):
    visitor.login("/")
    r = visitor.logout()
    back = quote(BASE + "/", safe="")  # the local test WLS links back to the site
    assert (r.status_code, r.location) == (303, LOCAL_WLS + "/auth/logout.html?return=" + back)
    assert visitor.cookie is None
    assert visitor.get("/").status_code == 303


def test_logout_by_referer_when_no_origin_is_sent(visitor):
    visitor.login("/")
    r = visitor.open("/raven/logout", method="POST", headers={"Referer": BASE + "/members"})
    assert r.status_code == 303
    assert visitor.cookie is None


@pytest.mark.parametrize("headers", [
    {"Origin": "https://evil.example.com"},
    {"Origin": "null"},
    {"Referer": "https://evil.example.com/"},
    {},
])
def test_a_cross_site_logout_is_refused(visitor, raven_log, headers):
    visitor.login("/")
    r = visitor.open("/raven/logout", method="POST", headers=headers)
    assert r.status_code == 403
    assert b"You have not been logged out" in r.data
    assert b"Check that failed: logout origin" in r.data
    assert visitor.logged_in
    [line] = raven_log(logging.WARNING)
    assert "check logout origin" in line.getMessage()


def test_logout_by_get_is_refused(visitor, raven_log):
    visitor.login("/")
    r = visitor.get("/raven/logout", headers={"Origin": BASE})
    assert (r.status_code, r.headers["Allow"]) == (405, "POST")
    assert visitor.logged_in
    assert len(raven_log(logging.WARNING)) == 1


def test_logout_path_can_move_or_go(visitor_for):
    moved = visitor_for(build(logout_path="/bye", wls="demo"))
    moved.login("/")
    r = moved.open("/bye", method="POST", headers={"Origin": BASE})
    # The demo server's logout page cannot link back: the site's own page
    # offers it, and the way home.
    assert (r.status_code, r.location) == (200, None)
    text = r.get_data(as_text=True)
    assert 'href="https://demo.raven.cam.ac.uk/auth/logout.html" id="wls-logout"' in text
    assert 'id="logged-out-home"' in text
    none = visitor_for(build(logout_path=None))
    none.login("/")
    assert none.open("/raven/logout", method="POST").json["path"] == "/raven/logout"


# --- pages ------------------------------------------------------------------------


def test_an_application_replaces_our_pages(tmp_path, visitor_for):
    (tmp_path / "raven").mkdir()
    page = tmp_path / "raven" / "forbidden.html"
    page.write_text("No entry for {{ principal }} ({{ status }})")
    visitor = visitor_for(build(template_dirs=str(tmp_path)))
    r = visitor.login("/", ptags=set())
    assert (r.status_code, r.data) == (403, b"No entry for test0001 (403)")
    # the others are still ours
    url, params, _ = visitor_for(visitor.middleware).start("/")
    assert b"did not send back this site's cookie" in visitor_for(visitor.middleware).come_back(
        url, "x").data


def test_pages_escape_what_they_show(visitor):
    r = visitor.login("/", principal="<b>x</b>", ptags=set())
    assert r.status_code == 403
    assert b"<b>x</b>" not in r.data and b"&lt;b&gt;x&lt;/b&gt;" in r.data


# --- refusal pages offer a next step that works ---------------------------------------


def _form(html: bytes) -> tuple[str, dict[str, str]]:
    found = re.search(rb'<form method="post" action="([^"]+)">(.*?)</form>', html, re.S)
    assert found is not None, html
    fields = dict(re.findall(rb'<input type="hidden" name="([^"]+)" value="([^"]*)">',
                             found.group(2)))
    return found.group(1).decode(), {k.decode(): v.decode() for k, v in fields.items()}


def test_a_refused_logout_page_offers_a_log_out_button_that_works(visitor):
    visitor.login("/")
    r = visitor.get("/raven/logout")  # a link, not the button
    assert r.status_code == 405 and visitor.logged_in
    assert b"(a POST)" not in r.data
    action, fields = _form(r.data)
    assert action == "/raven/logout"
    # the button, pressed on that page: the browser sends this site as Origin
    out = visitor.open(action, method="POST", data=fields, headers={"Origin": BASE})
    assert out.status_code == 303 and not visitor.logged_in


def test_the_403_page_log_out_button_ends_the_login(visitor):
    r = visitor.login("/", ptags=set())
    assert r.status_code == 403
    action, fields = _form(r.data)
    out = visitor.open(action, method="POST", data=fields, headers={"Origin": BASE})
    assert out.status_code == 303 and not visitor.logged_in


def test_a_wrong_host_page_links_the_same_page_at_the_right_address(visitor):
    r = visitor.get("/some/page?x=1", base_url="https://localhost:8000")
    assert r.status_code == 400
    assert (f'<a id="right-address" href="{BASE}/some/page?x=1">'.encode()) in r.data
    assert b"Check that failed: host" in r.data


def test_a_cookie_that_came_back_unreadable_is_not_called_refused(visitor_for):
    from raven.testing import make_response

    visitor = visitor_for(build())
    url, params, _ = visitor.start("/")
    for cookie in list(visitor.client._cookies.values()):  # the login's own cookie lost
        visitor.client.delete_cookie(cookie.key, domain=HOST)
    visitor.client.set_cookie(visitor.middleware.cookie.name, "forged.value.here",
                              domain=HOST, secure=True)
    r = visitor.come_back(url, make_response(url, params=params))
    # A cookie came back: not the no-cookies page, but the check that failed
    # for want of the state it held (and a log line about the cookie).
    assert r.status_code == 400
    assert b"refuses cookies" not in r.data
    assert b"Check that failed: params" in r.data


def test_a_contact_line_and_debug_free_pages(visitor_for):
    visitor = visitor_for(build(contact="the IT desk, it@example.cam.ac.uk"))
    r = visitor.login("/", ptags=set())
    assert b"If you need help, ask the IT desk, it@example.cam.ac.uk." in r.data
    assert b"raven-debug" not in r.data
