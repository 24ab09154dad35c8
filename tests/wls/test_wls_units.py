"""The test WLS's own pieces: where answers go, users, configuration, bad input."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from raven.demoserver import Response as DemoResponse
from raven.flow import split_response
from raven.keys import SigningKey
from raven.wls import User, Users, builtin_user, create_app, parse_user_spec, response_location
from raven.wls.app import LISTENING_HOST, host_name, logout_path_for


@pytest.mark.parametrize(
    "url, ver, expected",
    [
        ("http://a/p", 3, "http://a/p?WLS-Response=R"),
        ("http://a/p?x=1", 3, "http://a/p?x=1&WLS-Response=R"),
        ("http://a/p?x=1", 2, "http://a/p?x=1&WLS-Response=R"),
        ("http://a/p?x=1", 1, "http://a/p?WLS-Response=R"),
        ("http://a/p?", 3, "http://a/p?&WLS-Response=R"),
        ("http://a/p?x=1&", 3, "http://a/p?x=1&&WLS-Response=R"),
        ("http://a/p?x=1#top", 3, "http://a/p?x=1&WLS-Response=R#top"),
        ("http://a/p#top", 1, "http://a/p?WLS-Response=R"),
    ],
)
def test_response_location(url, ver, expected):
    assert response_location(url, ver, "R") == expected


def test_response_location_percent_encodes_the_response():
    location = response_location("http://a/", 3, "3!200!a b%21c&d=e")
    assert location == "http://a/?WLS-Response=3!200!a%20b%2521c%26d%3De"


def test_response_location_is_ascii_for_an_iri():
    assert response_location("http://a/caf\u00e9", 3, "R") == "http://a/caf%C3%A9?WLS-Response=R"


@pytest.mark.parametrize(
    "name, ptags",
    [("test0001", {"current"}), ("test0400", {"current"}), ("test0401", set()),
     ("test0500", set())],
)
def test_built_in_users(name, ptags):
    user = builtin_user(name)
    assert user is not None and user.password == "test" and user.ptags == ptags


@pytest.mark.parametrize("name", ["test0000", "test0501", "test1", "test00001", "TEST0001", ""])
def test_not_built_in_users(name):
    assert builtin_user(name) is None


def test_extra_users_win_and_passwords_are_checked():
    users = Users([User("test0002", "other", {"x"}), ("carol", "pw", "current")])
    assert users.check_password("test0002", "test") is None
    assert users.check_password("test0002", "other").ptags == {"x"}
    assert users.check_password("carol", "pw").ptags == {"current"}
    assert users.check_password("carol", "PW") is None
    assert users.check_password("test0003", "test").name == "test0003"


@pytest.mark.parametrize(
    "spec, name, password, ptags",
    [
        ("alice:secret", "alice", "secret", set()),
        ("alice:secret:current", "alice", "secret", {"current"}),
        ("alice:secret:current,staff", "alice", "secret", {"current", "staff"}),
        ("alice:se:cret:", "alice", "se:cret", set()),
    ],
)
def test_parse_user_spec(spec, name, password, ptags):
    user = parse_user_spec(spec)
    assert (user.name, user.password, user.ptags) == (name, password, ptags)


@pytest.mark.parametrize(
    "make",
    [
        lambda: parse_user_spec("alice"),
        lambda: User("", "pw"),
        lambda: User("a b", "pw"),
        lambda: User("a!b", "pw"),
        lambda: User("alice", ""),
        lambda: User("alice", "pw", {"a,b"}),
        lambda: Users([42]),
    ],
)
def test_bad_users_are_refused(make):
    with pytest.raises(ValueError):
        make()


@pytest.mark.parametrize(
    "config, error",
    [
        ({"RAVEN_WLS_SESSION_LIFETIME": 0}, ValueError),
        ({"RAVEN_WLS_SESSION_LIFETIME": "7200"}, ValueError),
        ({"RAVEN_WLS_SIGNING_KEY": "901"}, TypeError),
        ({"RAVEN_WLS_CLOCK": 12}, TypeError),
        ({"RAVEN_WLS_USERS": [("bad name", "pw")]}, ValueError),
    ],
)
def test_bad_configuration_is_refused_at_once(config, error):
    with pytest.raises(error):
        create_app(config)


def test_a_live_key_cannot_be_configured():
    # The core refuses to make a signing key that claims to be live Raven.
    with pytest.raises(ValueError, match="live"):
        SigningKey(SigningKey.demo().private_key, "2")


# --- no input makes it fail: the Flask test client, for speed -------------------------

_app = create_app({"TESTING": True})  # TESTING: a bug raises here, not a quiet 500
_names = st.sampled_from(
    ["ver", "url", "desc", "aauth", "iact", "msg", "params", "date", "skew", "fail",
     "userid", "pwd", "cancel", "x"]
)
_values = st.one_of(
    st.sampled_from(["1", "2", "3", "4", "yes", "no", "", "pwd", "x-y", "http://a/?q",
                     "https://127.0.0.1:9/", "test0001", "test", "/rel", "http://",
                     "http://a/\x85", "\x01", "9" * 5000, "x-" + "a" * 3000]),
    st.text(max_size=30),
)
_pairs = st.lists(st.tuples(_names, _values), max_size=8)


_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pairs=_pairs, post=st.booleans(), with_token=st.booleans())
def test_no_request_makes_it_fail(pairs, post, with_token):
    """Never a 500 (TESTING raises it here), and each answer is one a WLS
    may give: a form, a refusal, or a redirect carrying a signed response."""
    with _app.test_client() as c:
        if post:
            if with_token:  # as a browser would: the form's token, then anything at all
                page = c.get("/auth/authenticate.html?ver=3&url=http://a/").text
                pairs = [*pairs, ("csrf_token", _TOKEN.search(page).group(1))]
            r = c.post("/auth/authenticate.html", data=MultiDict(pairs))
        else:
            r = c.get("/auth/authenticate.html", query_string=pairs)
    if post and not with_token:  # no form of ours was ever served to this browser
        assert r.status_code == 400 and b"cookie is missing" in r.data
        return
    assert r.status_code in (200, 303, 400, 403), r.status_code
    if r.status_code == 303:  # sent back: a response the demo key verifies, for that url
        location = r.headers["Location"]
        [value], _ = split_response(urlsplit(location).query.encode())
        response = DemoResponse(value)
        assert location.startswith(response.url.split("#")[0].split("?")[0])
    elif r.status_code == 403:  # a failure shown here, only when the request asked so
        assert ("fail", "yes") in pairs
    elif r.status_code == 200:
        assert _TOKEN.search(r.text), "a 200 is the login form"


def test_raw_query_bytes_that_are_not_utf8_get_a_400():
    client = create_app().test_client()
    r = client.get("/auth/authenticate.html", environ_overrides={"QUERY_STRING": "ver=3&url=\x80"})
    assert r.status_code == 400


@pytest.mark.parametrize(
    "header, host",
    [("127.0.0.1:5001", "127.0.0.1"), ("LOCALHOST", "localhost"), ("[::1]:80", "[::1]"),
     ("a.example", "a.example"), ("a@b", None), ("", None), (None, None), ("a:", None),
     ("a:1:2", None), ("[::1", None), ("caf\u00e9", None), ("a b", None), (":80", None)],
)
def test_host_name(header, host):
    assert host_name(header) == host


@pytest.mark.parametrize("names, error", [
    (["a:80"], ValueError), (["a@b"], ValueError), (["0.0.0.0"], ValueError),
    (["::"], ValueError), ([""], ValueError), ([5], ValueError), (["[::1]:80"], ValueError),
    ("a.example", TypeError), (None, TypeError),
])
def test_bad_allowed_hosts_are_refused(names, error):
    with pytest.raises(error):
        create_app({"RAVEN_WLS_ALLOWED_HOSTS": names})


@pytest.mark.parametrize(
    "listening, host, code",
    [("192.0.2.5", "192.0.2.5:5001", 200), ("192.0.2.5", "192.0.2.6", 400),
     ("2001:db8::5", "[2001:db8::5]:1", 200), ("0.0.0.0", "0.0.0.0:5001", 400),
     ("::", "[::]", 400), (None, "192.0.2.5", 400)],
)
def test_a_server_bound_to_one_address_answers_to_it(listening, host, code):
    # Set by LiveServer (see test_wls_server); a client cannot set an environ key.
    extra = {} if listening is None else {LISTENING_HOST: listening}
    r = create_app().test_client().get("/", headers={"Host": host}, environ_overrides=extra)
    assert r.status_code == code


def test_built_in_users_can_be_turned_off():
    users = Users([("alice", "pw")], builtin=False)
    assert users.get("test0001") is None and users.check_password("test0001", "test") is None
    assert users.check_password("alice", "pw").name == "alice"
    assert Users([("alice", "pw")]).check_password("test0001", "test").name == "test0001"


@pytest.mark.parametrize("config, error", [
    ({"RAVEN_WLS_TEST_USERS": False}, ValueError),  # nobody could log in
    ({"RAVEN_WLS_TEST_USERS": "no"}, TypeError),
])
def test_bad_test_user_settings_are_refused(config, error):
    with pytest.raises(error):
        create_app(config)



@pytest.mark.parametrize("auth, logout", [
    ("/auth/authenticate.html", "/auth/logout.html"),
    ("/some/path/authenticate", "/some/path/logout"),
    ("/login", "/logout"),
    ("/wls/", "/wls/logout"),
])
def test_logout_path_for(auth, logout):
    assert logout_path_for(auth) == logout


@pytest.mark.parametrize("config", [
    {"RAVEN_WLS_AUTHENTICATE_PATH": "auth"},
    {"RAVEN_WLS_AUTHENTICATE_PATH": "/"},
    {"RAVEN_WLS_AUTHENTICATE_PATH": "/favicon.ico"},
    {"RAVEN_WLS_AUTHENTICATE_PATH": "/a//b"},
    {"RAVEN_WLS_AUTHENTICATE_PATH": "/a/./b"},
    {"RAVEN_WLS_AUTHENTICATE_PATH": "/<int:x>"},
    {"RAVEN_WLS_AUTHENTICATE_PATH": "/caf\u00e9"},
    {"RAVEN_WLS_AUTHENTICATE_PATH": "/" + "a" * 300},
    {"RAVEN_WLS_AUTHENTICATE_PATH": 5},
    {"RAVEN_WLS_LOGOUT_PATH": "/auth/authenticate.html"},
    {"RAVEN_WLS_AUTHENTICATE_PATH": "/x/logout"},
    {"RAVEN_WLS_LOGOUT_PATH": "/q?x=1"},
])
def test_bad_paths_are_refused(config):
    with pytest.raises(ValueError):
        create_app(config)



_logout_fields = st.lists(st.tuples(
    st.sampled_from(["csrf_token", "return", "x", ""]),
    st.one_of(st.sampled_from(["http://a/", "javascript:x", "http://[x", "http://a:99999/",
                               "http://" + "a" * 70 + ".x/", "\x00", "%FF"]),
              st.text(max_size=30)),
), max_size=5)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fields=_logout_fields, post=st.booleans(), with_token=st.booleans(),
       referrer=st.one_of(st.none(), st.text(st.characters(  # no lone surrogates:
           min_codepoint=32, blacklist_categories=("Cs",)), max_size=30),  # not encodable
                          st.sampled_from(["http://localhost/", "http://[::1", "javascript:x"])))
def test_no_logout_makes_it_fail(fields, post, with_token, referrer):
    """A GET always shows the page; a POST logs out exactly when it carries
    the form's one token, and is otherwise refused."""
    headers = {} if referrer is None else {"Referer": referrer.encode("utf-8").decode("latin-1")}
    with _app.test_client() as c:
        page = c.get("/auth/authenticate.html?ver=3&url=http://a/").text
        login = {"ver": "3", "url": "http://a/", "userid": "test0001", "pwd": "test",
                 "csrf_token": _TOKEN.search(page).group(1)}
        assert c.post("/auth/authenticate.html", data=login).status_code == 303
        token = _TOKEN.search(c.get("/auth/logout.html").text).group(1)
        if post:
            if with_token:  # the logout form's token, as the page shows it
                fields = [*fields, ("csrf_token", token)]
            r = c.post("/auth/logout.html", data=MultiDict(fields), headers=headers)
        else:
            r = c.get("/auth/logout.html", query_string=fields, headers=headers)
    sent = [value for name, value in fields if name == "csrf_token"]
    expected = 200 if not post or sent == [token] else 400
    assert r.status_code == expected, (sent, r.status_code)


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "TRACE", "BREW"])
@pytest.mark.parametrize("path", ["/", "/auth/authenticate.html", "/auth/logout.html",
                                  "/favicon.ico", "/nowhere"])
def test_odd_methods_get_4xx(method, path):
    r = _app.test_client().open(path, method=method)
    assert r.status_code == (404 if path == "/nowhere" else 405)


@pytest.mark.parametrize("body", [b"ver=3&url=http://a/&userid=\xff", b"\xc3(", b"a=\xed\xa0\x80"])
@pytest.mark.parametrize("path", ["/auth/authenticate.html", "/auth/logout.html"])
def test_a_form_that_is_not_utf8_gets_a_400_that_says_so(body, path):
    r = _app.test_client().post(path, data=body,
                                content_type="application/x-www-form-urlencoded")
    assert r.status_code == 400 and b"not UTF-8" in r.data
