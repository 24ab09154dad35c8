"""The test WLS over real HTTP: every status, SSO, iact, versions, fail=yes."""

from __future__ import annotations

import html
import re
import socket
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

import raven
import raven.demoserver
from raven.errors import UnknownKeyError
from raven.keys import SigningKey
from raven.protocol import strip_query
from raven.services import wls_from_settings
from raven.wls import AUTHENTICATE_PATH, COOKIE_NAME, LOGOUT_PATH
from raven.wls.app import FORM_COOKIE_PREFIX, app_settings
from raven.wls.forms import FORM_LIFETIME, MAX_WAITING_FORMS

RETURN_URL = "http://127.0.0.1:9/app/page?next=%2Fhome&x=1"
TESTING_ONLY = "for development and testing only"


def fields_of(r) -> list[str]:
    """The raw fields of the response a redirect carries."""
    string = parse_qs(urlsplit(r.headers["Location"]).query)["WLS-Response"][0]
    return string.split("!")


# --- pages -------------------------------------------------------------------


def test_index_explains_the_test_users(client):
    r = client.get("/")
    assert r.status_code == 200
    assert TESTING_ONLY in r.text
    for text in ("test0001", "test0400", "test0401", "test0500", "current", "RAVEN_WLS"):
        assert text in r.text
    # Plain HTML, nothing fetched from elsewhere.
    assert not re.search(r"<script|<link|<img|src=|@import", r.text)


def test_login_page_shows_who_asks_and_a_form(client):
    r = client.ask(desc="The Library", msg="to renew books", params="abc")
    assert r.status_code == 200
    assert TESTING_ONLY in r.text
    assert "<strong>127.0.0.1:9</strong>" in r.text
    assert "The Library" in r.text and "to renew books" in r.text


def test_form_fields_carry_the_request(client):
    r = client.ask(desc="d", params="p!%q", iact="yes", aauth="pwd")
    form = client.form(r)
    assert form.action == "/auth/authenticate.html"
    assert form.inputs["userid"]["type"] == "text"
    assert form.inputs["pwd"]["type"] == "password"
    assert form.buttons["cancel"]["type"] == "submit"
    hidden = form.hidden()
    assert len(hidden.pop("csrf_token")) >= 40
    assert hidden == {
        "ver": "3", "url": RETURN_URL, "desc": "d", "params": "p!%q",
        "iact": "yes", "aauth": "pwd",
    }


def test_desc_and_msg_escape_markup_but_keep_entities(client):
    desc = "Fish &amp; Chips <script>alert(1)</script> caf&#233;"
    msg = '<img src=x onerror="alert(2)"> &lt;ok&gt;'
    r = client.ask(desc=desc, msg=msg)
    assert r.status_code == 200
    assert "Fish &amp; Chips &lt;script&gt;alert(1)&lt;/script&gt; caf&#233;" in r.text
    assert "&lt;img src=x onerror=\"alert(2)\"&gt; &lt;ok&gt;" in r.text
    assert "<script" not in r.text and "<img" not in r.text
    # The hidden copy survives a round trip unchanged.
    assert client.form(r).hidden()["desc"] == desc


def test_every_page_says_testing_only_and_sets_strict_headers(client):
    for r in (client.get("/"), client.ask(), client.get(LOGOUT_PATH),
              client.get("/nowhere"), client.ask({"ver": "3"})):
        assert TESTING_ONLY in r.text, r.url
        assert "default-src 'none'" in r.headers["Content-Security-Policy"]
        assert r.headers["Cache-Control"] == "no-store"


# --- logging in ----------------------------------------------------------------


def test_good_password_answers_200_with_auth_pwd(start_wls, clock):
    c = start_wls(clock)
    r = c.login("test0001", "test", params="state-42")
    resp = c.response(r, iact=True, aauth={"pwd"})
    assert resp.status == raven.STATUS_SUCCESS
    assert resp.principal == "test0001"
    assert resp.ptags == {"current"}
    assert resp.auth == "pwd" and resp.sso == frozenset()
    assert resp.life == 7200
    assert resp.params == "state-42"
    assert resp.kid == "901" and resp.signed
    assert resp.issue == clock.utc()
    [cookie] = [c for c in r.raw.headers.getlist("Set-Cookie") if c.startswith(f"{COOKIE_NAME}=")]
    assert "HttpOnly" in cookie


def test_users_beyond_0400_have_no_ptags(client):
    resp = client.response(client.login("test0401"))
    assert resp.principal == "test0401" and resp.ptags == frozenset()
    resp = client.response(client.login("test0500", iact="yes"))
    assert resp.principal == "test0500"


@pytest.mark.parametrize(
    "userid, pwd", [("test0001", "wrong"), ("test0501", "test"), ("test0000", "test"),
                    ("nobody", "test"), ("", "")],
)
def test_wrong_password_shows_the_form_again(client, userid, pwd):
    r = client.login(userid, pwd, params="keep")
    assert r.status_code == 200
    assert "wrong password" in r.text
    assert COOKIE_NAME not in r.headers.get("Set-Cookie", "")
    # The request is still there, and a second try works.
    resp = client.response(client.fill_in(r, "test0002", "test"))
    assert resp.principal == "test0002" and resp.params == "keep"


def test_a_login_error_is_tied_to_both_fields_and_named_in_the_title(client):
    first = client.ask()
    assert "<title>Log in" in first.text and "aria-invalid" not in first.text
    assert 'role="alert"' not in first.text  # the banner is no alert: only errors are
    r = client.login("test0001", "wrong")
    title = re.search(r"<title>(.*?)</title>", r.text).group(1)
    assert title.startswith("Error: ")
    error = re.search(r'<p class="error" id="([^"]+)" role="alert">([^<]+)</p>', r.text)
    assert error.group(2) == "Unknown user or wrong password."
    for field in ("userid", "pwd"):
        tag = re.search(rf'<input type="[a-z]+" id="{field}"[^>]*>', r.text).group(0)
        assert 'aria-invalid="true"' in tag
        assert f'aria-describedby="{error.group(1)}"' in tag
    assert r.text.count('role="alert"') == 1


def test_responses_have_unique_ids(client):
    seen = set()
    for _ in range(5):
        resp = client.response(client.login(iact="yes"))
        seen.add((resp.issue, resp.id))
    assert len(seen) == 5


# --- forged forms -------------------------------------------------------------------


def _logged_in_as(client) -> str | None:
    """Who the WLS's session says this client is, asked without a password."""
    resp = client.response(client.ask(iact="no"))
    return resp.principal


@pytest.mark.parametrize("token", [None, "", "forged", "x" * 43])
def test_a_login_form_without_its_token_is_refused(client, token):
    page = client.ask(params="p")
    fields = client.form(page).hidden()
    if token is None:
        del fields["csrf_token"]
    else:
        fields["csrf_token"] = token
    fields.update(userid="test0001", pwd="test")
    r = client.post(fields)
    assert r.status_code == 400
    assert "Location" not in r.headers
    assert "security token" in r.text and TESTING_ONLY in r.text
    assert _logged_in_as(client) is None
    # The page's own token still works.
    assert client.response(client.fill_in(page)).principal == "test0001"


def test_a_cancel_without_its_token_is_refused(client):
    fields = client.form(client.ask()).hidden()
    fields.update(csrf_token="forged", cancel="cancel")
    r = client.post(fields)
    assert r.status_code == 400 and "Location" not in r.headers


def test_a_token_belongs_to_its_own_cookie(client, other_client):
    # A token copied from another browser's page is no good with this cookie.
    other = other_client
    fields = other.form(other.ask()).hidden()
    fields.update(userid="test0001", pwd="test")
    client.csrf_token()  # this client has a cookie and a token of its own
    r = client.post(fields)
    assert r.status_code == 400 and "security token" in r.text
    # Without any cookie, the page says cookies are needed.
    bare = requests.post(client.base + AUTHENTICATE_PATH, data=fields,
                         allow_redirects=False, timeout=10)
    assert bare.status_code == 400 and "Allow cookies" in bare.text
    assert _logged_in_as(client) is None and _logged_in_as(other) is None


def test_each_form_in_a_browser_has_a_token_of_its_own(client):
    first, second = client.ask(params="1"), client.ask(params="2")
    assert client.form(first).hidden()["csrf_token"] != client.form(second).hidden()["csrf_token"]
    assert client.response(client.fill_in(first)).params == "1"
    assert client.response(client.fill_in(second)).params == "2"


def _form_cookies(client) -> dict[str, requests.cookies.Cookie]:
    return {c.name: c for c in client.http.cookies if c.name.startswith(FORM_COOKIE_PREFIX)}


def test_a_form_token_lives_in_a_cookie_named_after_it(client):
    page = client.ask()
    token = client.form(page).hidden()["csrf_token"]
    [line] = page.raw.headers.getlist("Set-Cookie")  # and not the session cookie
    assert line.startswith(f"{FORM_COOKIE_PREFIX}{token}=")
    attributes = {a.strip().partition("=")[0].lower(): a.strip().partition("=")[2]
                  for a in line.split(";")[1:]}
    assert attributes["path"] == AUTHENTICATE_PATH
    assert attributes["samesite"] == "Strict" and "httponly" in attributes
    assert attributes["max-age"] == str(FORM_LIFETIME)


def test_a_token_is_spent_when_its_form_is_sent(client):
    page = client.ask()
    fields = client.form(page).login_fields("test0001", "wrong")
    again = client.post(fields)
    assert again.status_code == 200 and "wrong password" in again.text
    # The browser forgot the first form's cookie; the new form has one of its own.
    new = client.form(again).hidden()["csrf_token"]
    assert set(_form_cookies(client)) == {FORM_COOKIE_PREFIX + new}
    r = client.post(fields)
    assert r.status_code == 400 and "security token" in r.text
    assert client.response(client.fill_in(again)).principal == "test0001"
    assert not _form_cookies(client)


def test_a_form_cookie_the_wls_did_not_sign_is_refused(client, start_wls):
    page = client.ask()
    fields = client.form(page).login_fields()
    name = FORM_COOKIE_PREFIX + fields["csrf_token"]
    [cookie] = _form_cookies(client).values()
    issued = cookie.value.partition(".")[0]
    # Planted by someone without the key; another form's value under this
    # name; a value signed with another WLS's key.
    other = start_wls()
    other.ask()
    [signed_elsewhere] = _form_cookies(other).values()
    client.csrf_token()
    another = next(c.value for n, c in _form_cookies(client).items() if n != name)
    for value in (f"{issued}.{'A' * 43}", "1", "\u00b2.x", another, signed_elsewhere.value):
        client.http.cookies.set(name, value, domain=cookie.domain, path=AUTHENTICATE_PATH)
        r = client.post(fields)
        assert r.status_code == 400 and "security token" in r.text, value
    assert _logged_in_as(client) is None


def test_a_form_is_only_good_on_its_own_page(client):
    # The login form's token and cookie are no good for logging out.
    client.response(client.login("test0011"))
    token = client.form(client.ask(iact="yes")).hidden()["csrf_token"]
    [cookie] = _form_cookies(client).values()
    client.http.cookies.set(cookie.name, cookie.value, domain=cookie.domain, path=LOGOUT_PATH)
    r = client.http.post(client.base + LOGOUT_PATH, data={"csrf_token": token}, timeout=10)
    assert r.status_code == 400 and "security token" in r.text
    assert _logged_in_as(client) == "test0011"


def test_a_form_expires(start_wls, clock):
    c = start_wls(clock)
    page = c.ask()
    clock.t += FORM_LIFETIME
    r = c.fill_in(page)
    assert r.status_code == 400 and "expired" in r.text
    clock.t -= 1
    assert c.response(c.fill_in(page)).principal == "test0001"


def test_forms_never_sent_are_forgotten(client):
    pages = [client.ask(params=str(i)) for i in range(MAX_WAITING_FORMS + 5)]
    assert len(_form_cookies(client)) == MAX_WAITING_FORMS
    assert client.fill_in(pages[4]).status_code == 400
    assert client.response(client.fill_in(pages[5])).params == "5"


def test_planted_form_cookies_get_a_bounded_answer(client):
    """Cookies planted by the thousand (by another server on the host, say)
    are dropped a few at a time, not answered with as many headers."""
    for i in range(500):
        client.http.cookies.set(f"{FORM_COOKIE_PREFIX}{i:043d}", "1",
                                domain=urlsplit(client.base).hostname,
                                path=client.auth_path)
    page = client.ask()
    assert page.status_code == 200
    assert len(page.raw.headers.getlist("Set-Cookie")) == 17  # 16 dropped, 1 new
    assert client.response(client.fill_in(page)).principal == "test0001"


# --- the WLS's own session -------------------------------------------------------


def test_session_gives_single_sign_on(start_wls, clock):
    c = start_wls(clock)
    c.response(c.login("test0003"))
    clock.t += 100
    r = c.ask(params="again")
    resp = c.response(r, iact=False)
    assert resp.principal == "test0003"
    assert resp.auth is None and resp.sso == {"pwd"}
    assert resp.life == 7100
    assert resp.params == "again"


def test_session_ends_after_its_lifetime(start_wls, clock):
    c = start_wls(clock, RAVEN_WLS_SESSION_LIFETIME=600)
    assert c.response(c.login()).life == 600
    clock.t += 599
    assert c.response(c.ask()).life == 1
    clock.t += 1
    assert c.ask().status_code == 200  # the form again: nobody is logged in
    assert c.response(c.ask(iact="no")).status == 540


def test_iact_yes_always_asks_for_the_password(client):
    client.response(client.login("test0004"))
    r = client.ask(iact="yes")
    assert r.status_code == 200
    assert "type your password again" in r.text and "test0004" in r.text
    resp = client.response(client.fill_in(r, "test0004", "test"), iact=True)
    assert resp.auth == "pwd" and resp.principal == "test0004"


def test_iact_no_without_a_session_answers_540(client):
    resp = client.response(client.ask(iact="no", params="p"))
    assert resp.status == raven.STATUS_INTERACTION_REQUIRED
    assert resp.ver == 3 and resp.principal is None and resp.params == "p"


def test_iact_no_with_a_session_succeeds_silently(client):
    client.response(client.login("test0005"))
    resp = client.response(client.ask(iact="no"), iact=False)
    assert resp.principal == "test0005" and resp.sso == {"pwd"}


def test_iact_no_refuses_a_typed_password(client):
    fields = {"ver": "3", "url": RETURN_URL, "iact": "no", "userid": "test0001", "pwd": "test",
              "csrf_token": client.csrf_token()}
    assert client.response(client.post(fields)).status == 540


def test_logout_ends_the_session(client):
    client.response(client.login("test0006"))
    r = client.logout()
    assert r.status_code == 200 and "Location" not in r.headers
    assert "Logged out" in r.text and "no longer logged in as <strong>test0006" in r.text
    assert client.ask().status_code == 200  # asks again
    assert _logged_in_as(client) is None
    page = client.get(LOGOUT_PATH)
    assert "You are not logged in here" in page.text and 'id="logout"' not in page.text


def test_getting_the_logout_page_logs_nobody_out(client):
    # A link or an image on another site can make a browser GET it.
    client.response(client.login("test0009"))
    for query in ("", "?return=http://127.0.0.1:9/"):
        page = client.get(LOGOUT_PATH + query)
        assert page.status_code == 200 and "test0009" in page.text
        assert client.form(page).action == LOGOUT_PATH
    assert _logged_in_as(client) == "test0009"


@pytest.mark.parametrize("token", [None, "forged"])
def test_a_logout_without_its_token_is_refused(client, token):
    client.response(client.login("test0010"))
    fields = client.form(client.get(LOGOUT_PATH)).hidden()
    if token is None:
        del fields["csrf_token"]
    else:
        fields["csrf_token"] = token
    r = client.http.post(client.base + LOGOUT_PATH, data=fields, timeout=10)
    assert r.status_code == 400 and "security token" in r.text
    assert _logged_in_as(client) == "test0010"


def _back_link(page) -> str | None:
    match = re.search(r'<a id="back" href="([^"]*)">', page.text)
    return html.unescape(match.group(1)) if match else None


@pytest.mark.parametrize("back", [
    "http://127.0.0.1:5000/", "https://app.example/bye?x=1&y=2", "http://127.0.0.1:9/a%20b",
])
def test_logging_out_links_back_to_an_http_return_url(client, back):
    client.response(client.login())
    r = client.logout(params={"return": back})
    assert r.status_code == 200 and "Location" not in r.headers
    assert 'http-equiv' not in r.text  # a link to click, no automatic redirect
    assert _back_link(r) == back
    # Logged out already, the page offers the link at once.
    assert _back_link(client.get(LOGOUT_PATH, params={"return": back})) == back


@pytest.mark.parametrize("back", [
    "javascript:alert(1)", "JavaScript:alert(1)", "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox", "//elsewhere.example/", "/relative", "ftp://127.0.0.1/",
    "http://raven.cam.ac.uk@elsewhere.example/", "http:///nohost", "http://a b/",
    " javascript:alert(1)", "http://a/\x00", "http://a/" + "x" * 3000, "",
])
def test_logging_out_never_links_to_anything_else(client, back):
    client.response(client.login())
    page = client.get(LOGOUT_PATH, params={"return": back})
    assert "return" not in client.form(page).hidden()
    assert "no link back is offered" in page.text  # an empty return too: it is not a URL
    r = client.logout(params={"return": back})
    assert r.status_code == 200 and _back_link(r) is None
    # Nor when the POST is made by hand with the same return.
    client.response(client.login())
    fields = {"csrf_token": client.logout_token(), "return": back}
    r = client.http.post(client.base + LOGOUT_PATH, data=fields, timeout=10)
    assert r.status_code == 200 and _back_link(r) is None


def test_logging_out_links_back_to_a_page_of_this_wls(client):
    index = client.base + "/"
    client.response(client.login())
    r = client.logout(headers={"Referer": index})
    assert _back_link(r) == index
    # Another site's page is not where the WLS sends anyone back to.
    for referrer in ("http://127.0.0.1:9/x", "javascript:alert(1)", client.base + LOGOUT_PATH):
        client.response(client.login())
        assert _back_link(client.logout(headers={"Referer": referrer})) is None


def test_pages_of_the_wls_send_their_address_only_to_the_wls(client):
    assert client.get("/").headers["Referrer-Policy"] == "same-origin"


def test_a_new_login_replaces_the_session(client):
    client.response(client.login("test0007"))
    client.response(client.login("test0008", iact="yes"))
    assert client.response(client.ask()).principal == "test0008"


def test_session_cookie_is_its_own(start_wls, client):
    # The application's cookie (same host, other port) is neither read nor changed.
    client.http.cookies.set("session", "the-apps-own")
    client.response(client.login())
    assert client.http.cookies.get("session") == "the-apps-own"
    assert client.http.cookies.get(COOKIE_NAME)
    # Another WLS does not accept this one's cookie: it has its own secret.
    other = start_wls()
    other.http.cookies.set(COOKIE_NAME, client.http.cookies.get(COOKIE_NAME))
    assert other.ask().status_code == 200


# --- versions ----------------------------------------------------------------------


@pytest.mark.parametrize("ver, nfields", [(1, 13), (2, 13), (3, 14)])
def test_answers_in_the_version_asked(client, ver, nfields):
    r = client.login(ver=str(ver))
    resp = client.response(r, ver=ver)
    assert resp.success and resp.principal == "test0001"
    assert len(fields_of(r)) == nfields
    location = r.headers["Location"]
    if ver == 1:  # the query part of url is dropped
        assert location.startswith(strip_query(RETURN_URL) + "?WLS-Response=")
    else:
        assert location.startswith(RETURN_URL + "&WLS-Response=")
    assert resp.url == RETURN_URL
    # Single sign-on answers in the version asked, too.
    assert client.response(client.ask(ver=str(ver)), ver=ver).sso == {"pwd"}


@pytest.mark.parametrize("ver", ["1", "2"])
def test_old_versions_only_succeed_for_current_people(client, ver):
    resp = client.response(client.login("test0450", ver=ver), ver=int(ver))
    assert resp.status == raven.STATUS_AUTHENTICATION_DECLINED
    assert "current" in resp.msg


@pytest.mark.parametrize("ver", ["4", "0", "99", "9" * 5000])
def test_unsupported_version_answers_520_in_version_1(client, ver):
    r = client.ask(ver=ver)
    resp = client.response(r, ver=1)
    assert resp.status == raven.STATUS_UNSUPPORTED_VERSION
    assert len(fields_of(r)) == 13


# --- bad requests -------------------------------------------------------------------


@pytest.mark.parametrize(
    "query, ver",
    [
        ({"url": RETURN_URL}, 1),                                 # ver missing
        ({"ver": "three", "url": RETURN_URL}, 1),
        ({"ver": "3", "url": RETURN_URL, "colour": "red"}, 3),     # unknown
        ({"ver": "3", "url": RETURN_URL, "userid": "test0001"}, 3),
        ([("ver", "3"), ("url", RETURN_URL), ("desc", "a"), ("desc", "b")], 3),  # repeated
        ([("ver", "2"), ("ver", "3"), ("url", RETURN_URL)], 1),
        ({"ver": "3", "url": RETURN_URL, "iact": "maybe"}, 3),
        ({"ver": "3", "url": RETURN_URL, "fail": "sometimes"}, 3),
        ({"ver": "3", "url": RETURN_URL, "desc": "caf\u00e9"}, 3),  # not ASCII
        ({"ver": "3", "url": RETURN_URL, "msg": "tab\there"}, 3),
        ({"ver": "3", "url": RETURN_URL, "aauth": "pwd,,x"}, 3),
        ({"ver": "2", "url": RETURN_URL, "aauth": "PWD"}, 2),
    ],
)
def test_bad_parameters_answer_530(client, query, ver):
    r = client.ask(query)
    resp = client.response(r, ver=ver)
    assert resp.status == raven.STATUS_BAD_REQUEST
    assert resp.msg


def test_530_echoes_params(client):
    resp = client.response(client.ask(colour="red", params="mine"))
    assert resp.status == 530 and resp.params == "mine"


def test_failure_messages_stay_short(client):
    resp = client.response(client.ask(aauth="pwd," + "X" * 5000))
    assert resp.status == 530 and 0 < len(resp.msg) <= 200


@pytest.mark.parametrize("aauth", ["x-token", "x-a,x-b"])
def test_no_acceptable_auth_type_answers_510(client, aauth):
    assert client.response(client.ask(aauth=aauth)).status == raven.STATUS_NOATYPES


@pytest.mark.parametrize("aauth", ["pwd", "pwd,x-token", ""])
def test_acceptable_auth_types_are_asked_for(client, aauth):
    r = client.ask(aauth=aauth)
    assert r.status_code == 200
    assert client.response(client.fill_in(r), aauth=None if not aauth else aauth.split(","))


@pytest.mark.parametrize(
    "query",
    [
        {"ver": "3"},
        {"ver": "3", "url": ""},
        {"ver": "3", "url": "/relative/path"},
        {"ver": "3", "url": "ftp://127.0.0.1/file"},
        {"ver": "3", "url": "javascript:alert(1)"},
        {"ver": "3", "url": "http:///no-host"},
        [("ver", "3"), ("url", RETURN_URL), ("url", RETURN_URL)],
    ],
)
def test_no_usable_url_shows_an_error_page(client, query):
    r = client.ask(query)
    assert r.status_code == 400
    assert "Location" not in r.headers
    assert "cannot send you back" in r.text
    assert TESTING_ONLY in r.text


@pytest.mark.parametrize(
    "query, says",
    [
        # a C1 control: raven.Request refuses the url itself
        ({"ver": "3", "url": "http://127.0.0.1:9/\x85", "colour": "red"}, "cannot send you back"),
        ({"ver": "3", "url": RETURN_URL, "params": "\x01", "iact": "no"}, "no valid response"),
    ],
)
def test_an_answer_no_application_could_read_is_not_sent(client, query, says):
    r = client.ask(query)
    assert r.status_code == 400 and "Location" not in r.headers
    assert says in r.text


def test_a_post_without_a_request_is_a_bad_request(client):
    token = client.csrf_token()
    r = client.post({"userid": "test0001", "pwd": "test", "csrf_token": token})
    assert r.status_code == 400 and "no url parameter" in r.text
    r = client.http.post(client.base + "/auth/authenticate.html", json={"x": 1}, timeout=10)
    assert r.status_code == 400


def test_other_methods_and_paths_get_4xx_pages(client):
    r = client.http.put(client.base + "/auth/authenticate.html", timeout=10)
    assert r.status_code == 405 and "GET" in r.headers["Allow"]
    r = client.get("/auth/nothing.html")
    assert r.status_code == 404 and TESTING_ONLY in r.text


# --- cancel and fail=yes ---------------------------------------------------------------


def test_cancel_answers_410_in_version_1(client):
    r = client.fill_in(client.ask(params="p"), cancel=True)
    location = r.headers["Location"]
    assert location.startswith(strip_query(RETURN_URL) + "?WLS-Response=")
    resp = client.response(r, ver=1)
    assert resp.status == raven.STATUS_CANCELLED
    assert not resp.success and resp.principal is None
    assert resp.params == "p"
    assert COOKIE_NAME not in r.headers.get("Set-Cookie", "")


@pytest.mark.parametrize(
    "how, status, code",
    [
        ("cancel", 410, 403),
        ("iact=no", 540, 403),
        ("aauth", 510, 400),
        ("unknown", 530, 400),
        ("ver", 520, 400),
        ("old-version", 570, 403),
    ],
)
def test_fail_yes_shows_failures_instead_of_sending_them(client, how, status, code):
    if how == "cancel":
        r = client.fill_in(client.ask(fail="yes"), cancel=True)
    elif how == "iact=no":
        r = client.ask(fail="yes", iact="no")
    elif how == "aauth":
        r = client.ask(fail="yes", aauth="x-other")
    elif how == "unknown":
        r = client.ask(fail="yes", colour="red")
    elif how == "ver":
        r = client.ask(fail="yes", ver="7")
    else:
        r = client.login("test0499", ver="2", fail="yes")
    assert r.status_code == code
    assert "Location" not in r.headers
    assert str(status) in r.text and "fail=yes" in r.text
    assert TESTING_ONLY in r.text


def test_fail_yes_still_sends_successes(client):
    assert client.response(client.login(fail="yes")).success


# --- configuration ----------------------------------------------------------------------


def test_extra_users(start_wls):
    c = start_wls(RAVEN_WLS_USERS=[
        ("alice", "wonderland", ["current", "staff"]),
        {"name": "bob", "password": "builder"},
        ("test0001", "changed"),
    ])
    resp = c.response(c.login("alice", "wonderland"))
    assert resp.principal == "alice" and resp.ptags == {"current", "staff"}
    c.logout()
    assert c.response(c.login("bob", "builder")).ptags == frozenset()
    c.logout()
    assert c.login("test0001", "test").status_code == 200  # overridden
    assert c.response(c.login("test0001", "changed")).ptags == frozenset()
    assert "alice" in c.get("/").text


def test_built_in_users_off(start_wls):
    c = start_wls(RAVEN_WLS_USERS=[("alice", "wonderland", ["current"])],
                  RAVEN_WLS_TEST_USERS=False)
    page = c.login("test0001", "test")
    assert page.status_code == 200 and "wrong password" in page.text
    assert "password <code>test</code>" not in page.text  # no hint of test users
    assert c.response(c.fill_in(page, "alice", "wonderland")).principal == "alice"
    index = c.get("/").text
    assert "alice" in index and "are off on this server" in index
    assert "<code>test0400</code>" not in index


def test_another_test_key(start_wls):
    private = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    c = start_wls(RAVEN_WLS_SIGNING_KEY=SigningKey(private, "77"))
    r = c.login()
    string = parse_qs(urlsplit(r.headers["Location"]).query)["WLS-Response"][0]
    resp = raven.Response(string, keys={"77": private.public_key()})
    assert resp.kid == "77" and resp.principal == "test0001"
    with pytest.raises(UnknownKeyError):
        raven.demoserver.Response(string)
    with pytest.raises(UnknownKeyError):
        raven.Response(string)  # live Raven's keyring trusts only kid 2


def test_return_url_without_query_gets_a_question_mark(client):
    url = "https://app.example/only/path"
    r = client.login(url=url)
    assert r.headers["Location"].startswith(url + "?WLS-Response=")
    assert client.response(r, url).url == url


# --- the Host check: loopback names only (no DNS rebinding) ---------------------------


def raw_get(base: str, path: str, host: bytes | None) -> tuple[int, str]:
    """GET ``path`` with exactly this Host header (or none), byte for byte."""
    port = int(base.rsplit(":", 1)[1])
    head = b"GET " + path.encode() + b" HTTP/1.1\r\n"
    if host is not None:
        head += b"Host: " + host + b"\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(head + b"Connection: close\r\n\r\n")
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    status_line, _, rest = data.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2].decode("utf-8", "replace")


@pytest.mark.parametrize("host", [
    b"127.0.0.1", b"127.0.0.1:5001", b"127.9.8.7:1", b"localhost", b"LocalHost:80",
    b"[::1]", b"[::1]:5001", b"[0:0:0:0:0:0:0:1]:65535",
])
def test_loopback_names_are_answered(wls_url, host):
    status, page = raw_get(wls_url, "/", host)
    assert status == 200 and "Test users" in page


@pytest.mark.parametrize("host", [
    b"evil.example", b"evil.example:5001", b"127.0.0.1.evil.example", b"localhost.",
    b"localhost.evil.example", b"10.0.0.1", b"0.0.0.0", b"[::]", b"[::ffff:10.0.0.1]",
    b"a@b", b"test@127.0.0.1", b"127.0.0.1@evil.example", b"", b" ", b"127.0.0.1 ",
    b"caf\xc3\xa9.example", b"127.0.0.1\xff", b"\x00", b"127.0.0.1:", b"127.0.0.1:0",
    b"127.0.0.1:65536", b"127.0.0.1:99999999999", b"127.0.0.1:abc", b"127.0.0.1:80:80",
    b"::1", b"[::1", b"[::1]x", b"[::1%25lo]", b"[evil.example]", b"127.0.0.01",
    b"127.0.0.256", b"127.1", b"2130706433", b"0x7f000001", b"127.0.0.1,evil.example",
    b"x" * 3000, None,
])
@pytest.mark.parametrize("path", ["/", "/auth/authenticate.html?ver=3&url=http://a/", "/nowhere"])
def test_any_other_host_gets_a_400_page(wls_url, host, path):
    status, page = raw_get(wls_url, path, host)
    assert status == 400
    assert TESTING_ONLY in page
    assert "loopback name" in page
    assert "Log in" not in page


def test_the_host_check_names_the_rule(wls_url):
    status, page = raw_get(wls_url, "/", b"rebound.example:5001")
    assert status == 400 and "loopback name" in page
    assert "rebound.example:5001" in page


def test_a_post_to_another_host_logs_nobody_in(client):
    fields = client.form(client.ask()).hidden()
    fields.update(userid="test0001", pwd="test")
    r = client.http.post(client.base + AUTHENTICATE_PATH, data=fields, timeout=10,
                         headers={"Host": "rebound.example"}, allow_redirects=False)
    assert r.status_code == 400 and "Location" not in r.headers
    assert _logged_in_as(client) is None


def test_allowed_hosts_can_be_added(start_wls):
    c = start_wls(RAVEN_WLS_ALLOWED_HOSTS=["wls.test", "192.0.2.7", "2001:db8::7"])
    for host in (b"wls.test", b"WLS.test:8080", b"192.0.2.7:5001", b"[2001:db8::7]", b"127.0.0.1"):
        assert raw_get(c.base, "/", host)[0] == 200, host
    for host in (b"other.test", b"192.0.2.8", b"wls.test.", b"x.wls.test"):
        assert raw_get(c.base, "/", host)[0] == 400, host



# --- a path of its own -------------------------------------------------------------------


def test_a_wls_at_a_path_of_its_own(start_wls):
    c = start_wls(RAVEN_WLS_AUTHENTICATE_PATH="/society/wls/authenticate",
                  RAVEN_WLS_LOGOUT_PATH="/society/wls/logout")
    resp = c.response(c.login("test0011", params="p"))
    assert resp.principal == "test0011" and resp.auth == "pwd"
    assert c.response(c.ask()).sso == {"pwd"}
    assert "no longer logged in as <strong>test0011" in c.logout().text
    # The default paths are not served by it.
    assert c.get(AUTHENTICATE_PATH + "?ver=3&url=http://127.0.0.1:9/").status_code == 404
    assert c.get(LOGOUT_PATH).status_code == 404
    index = c.get("/").text
    assert (f'<code>RAVEN_WLS = "{c.base}/society/wls/authenticate"</code> and '
            f'<code>RAVEN_WLS_LOGOUT = "{c.base}/society/wls/logout"</code>') in index


@pytest.mark.parametrize("auth, logout, settings", [
    ("/auth/authenticate.html", "/auth/logout.html", ["RAVEN_WLS"]),
    ("/x/authenticate.html", "/x/logout.html", ["RAVEN_WLS"]),
    ("/x/authenticate", "/x/logout", ["RAVEN_WLS", "RAVEN_WLS_LOGOUT"]),
    ("/x/authenticate.html", "/y/bye", ["RAVEN_WLS", "RAVEN_WLS_LOGOUT"]),
])
def test_the_settings_it_gives_name_it(auth, logout, settings):
    # What the index and the banner tell an application to set, read the way
    # applications read it.
    base = "http://127.0.0.1:5002"
    given = app_settings(base, auth, logout)
    assert sorted(given) == settings
    wls = wls_from_settings(given)
    assert (wls.auth_url, wls.logout_url, wls.kind) == (base + auth, base + logout, "local")


def test_the_logout_path_defaults_to_a_sibling(start_wls):
    c = start_wls(RAVEN_WLS_AUTHENTICATE_PATH="/other/authenticate")
    c.response(c.login())
    c.logout_path = "/other/logout"
    assert "Logged out" in c.logout().text



# --- for newcomers -----------------------------------------------------------------------


def test_a_404_says_what_this_server_is(client):
    r = client.get("/auth/authenticate")  # a near miss
    assert r.status_code == 404
    assert "no page at '/auth/authenticate' on this server" in html.unescape(r.text)
    assert "local test web login service" in r.text
    assert '<a href="/">index page</a>' in r.text
    assert "<code>/auth/authenticate.html</code>" in r.text


def test_favicon_is_no_error(client):
    r = client.get("/favicon.ico")
    assert r.status_code == 204 and r.content == b""


def test_a_wrong_password_keeps_the_user_name(client):
    r = client.login("test0012", "wrong")
    assert "wrong password" in r.text
    form = client.form(r)
    assert form.inputs["userid"]["value"] == "test0012"
    assert "autofocus" in form.inputs["pwd"] and "autofocus" not in form.inputs["userid"]
    assert client.response(client.fill_in(r, "test0012", "test")).principal == "test0012"


def test_a_user_name_is_kept_escaped(client):
    r = client.login('"><script>x</script>', "wrong")
    assert "<script>x" not in r.text
    assert client.form(r).inputs["userid"]["value"] == '"><script>x</script>'


def test_the_index_says_what_old_versions_do(client):
    text = " ".join(client.get("/").text.split())
    assert "answers a version 1 or 2 request for them with status 570" in text
    assert "no <code>ptags</code> field" in text
    assert "Version 1 responses also drop the query part of the return URL" in text



# --- odd input gets a 4xx page, never a 500 ---------------------------------------------


def test_a_huge_form_is_refused_with_413(client):
    fields = client.form(client.ask()).hidden()
    fields.update(userid="test0001" * 200_000, pwd="test")
    r = client.post(fields)
    assert r.status_code == 413 and TESTING_ONLY in r.text
    assert _logged_in_as(client) is None


def test_long_fields_within_the_limit_are_answered(client):
    page = client.login("a" * 100_000, "b" * 100_000)
    assert page.status_code == 200 and "wrong password" in page.text
    assert client.form(page).inputs["userid"].get("value") is None  # not echoed back


def test_a_form_that_is_not_utf8_is_refused_over_http(client):
    token = client.csrf_token()
    body = f"csrf_token={token}&ver=3&url=http://127.0.0.1:9/&userid=test0001&pwd=".encode()
    r = client.http.post(client.base + AUTHENTICATE_PATH, data=body + b"\xff", timeout=10,
                         headers={"Content-Type": "application/x-www-form-urlencoded"},
                         allow_redirects=False)
    assert r.status_code == 400 and "not UTF-8" in r.text
