"""The guard's rules, directly: paths, the login cookie, identity, privacy."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from raven import guard
from raven.flow import Login, State
from raven.guard import LoginCookie, PathRule, check_secret_key
from raven.settings import ConfigurationError, Settings

SETTINGS = Settings.from_config(None, {"origin": "https://www.example.cam.ac.uk",
                                       "wls": "demo"})
HTTP = Settings.from_config(None, {"origin": "http://127.0.0.1:8000", "wls": "demo"})
SECRET = "a guard test secret, long enough"


@pytest.mark.parametrize(("path", "covered"), [
    ("/admin", True), ("/admin/", True), ("/admin/x", True), ("//admin", True),
    ("/./admin", True), ("/public/../admin", True), ("/../../admin", True),
    ("/admin/..", True), ("/admin/%2e%2e", True), ("/ADMIN", True), ("/admin.", True),
    ("/admin;p", True), ("/x/..%2fadmin", True), ("/x\\..\\admin", True),
    ("/administrator", False), ("/public", False), ("/", False), ("", False),
    ("/adminx/..", False),
])
def test_a_prefix_covers_every_reading_of_a_path(path, covered):
    assert PathRule(["/admin/"]).needs_login(path) is covered
    assert PathRule(["/admin"]).needs_login(path) is covered
    assert PathRule(["/"]).needs_login(path) is True
    assert PathRule([]).needs_login(path) is False


@pytest.mark.parametrize(("path", "exempt"), [
    ("/static", True), ("/static/x", True), ("/static/./x", True), ("//static/x", True),
    ("/static/../admin", False), ("/static/..;/admin", False), ("/static/..%2fadmin", False),
    ("/reports/../static", False), ("/Static/x", False), ("/static/x/../../y", False),
])
def test_a_path_is_exempt_only_in_every_reading(path, exempt):
    assert PathRule("/", ["/static"]).needs_login(path) is not exempt


def test_prefixes_must_be_paths():
    with pytest.raises(ConfigurationError, match="protect must be path prefixes"):
        PathRule(["admin"])
    with pytest.raises(ConfigurationError, match="exempt must be path prefixes"):
        PathRule("/", [None])  # type: ignore[list-item]


segment = st.sampled_from(["admin", "x", ".", "..", "", "%2e%2e", "ADMIN", "admin.", "a;b"])


@given(st.lists(segment, max_size=6))
@settings(deadline=None)  # a busy machine's stall is no failure
def test_a_path_that_folds_under_a_prefix_needs_a_login(segments):
    path = "/" + "/".join(segments)
    folded = guard._fold(guard._split(path))
    if folded[:1] == ["admin"] or segments[:1] == ["admin"]:
        assert PathRule(["/admin"]).needs_login(path)


# --- the login cookie -------------------------------------------------------------


def test_check_secret_key_refuses_missing_and_weak_keys():
    for key in (None, "", b""):
        with pytest.raises(ConfigurationError, match="missing"):
            check_secret_key(key)
    for key in ("short", "x" * 64, "0101010101010101"):
        with pytest.raises(ConfigurationError, match="too weak"):
            check_secret_key(key)
    assert check_secret_key(SECRET) == SECRET.encode()


def test_the_cookie_name_and_flags_follow_the_origin():
    https, http = LoginCookie(SECRET, SETTINGS), LoginCookie(SECRET, HTTP)
    assert (https.name, https.secure) == ("__Host-raven", True)
    assert (http.name, http.secure) == ("raven", None)
    header = https.set_cookie(State(), 0, https=False)
    assert header.startswith("__Host-raven=") and "; Secure" in header
    assert "Domain" not in header and "; Path=/;" in header
    assert "; Secure" not in http.set_cookie(State(), 0, https=False)
    assert "; Secure" in http.set_cookie(State(), 0, https=True)
    with pytest.raises(ConfigurationError, match="Secure"):
        LoginCookie(SECRET, HTTP, name="__Host-x")


LOGIN = Login("abc123", frozenset({"current"}), 1000, None, 1000, "pwd", frozenset(), "x")


def test_a_cookie_round_trips_and_nothing_else_reads():
    cookie = LoginCookie(SECRET, SETTINGS)
    now = time.time()
    value = cookie.dumps(State(("t",), LOGIN), now)
    assert State.load(cookie.loads(value, now)) == State(("t",), LOGIN)
    others = [LoginCookie("another secret, long enough", SETTINGS),
              LoginCookie(SECRET, SETTINGS, name="__Host-other")]
    for other in others:
        with pytest.raises(ValueError):
            other.loads(value, now)
    for bad in (value[:-1], value + "x", "", ".", "a.b.c", value.replace(".", "", 1), "é"):
        with pytest.raises(ValueError):
            cookie.loads(bad, now)
    with pytest.raises(ValueError, match="too old"):
        cookie.loads(value, now + cookie.max_age + 1)
    with pytest.raises(ValueError, match="too old"):  # from the future
        cookie.loads(cookie.dumps(State(), now + 3600), now)


def test_a_remembered_cookie_is_still_checked_for_age_and_the_memory_is_bounded():
    from raven import guard

    cookie = LoginCookie(SECRET, SETTINGS)
    now = time.time()
    value = cookie.dumps(State(("t",), LOGIN), now)
    assert State.load(cookie.loads(value, now)).login == LOGIN  # verified, remembered
    for when in (now + cookie.max_age + 1, now - 3600):  # too old; signed in our future
        with pytest.raises(ValueError, match="too old"):
            cookie.loads(value, when)
    assert State.load(cookie.loads(value, now + 1)).login == LOGIN
    with pytest.raises(ValueError):  # one character changed is another value, verified
        cookie.loads(value[:-1] + ("A" if value[-1] != "A" else "B"), now)
    for i in range(guard.VERIFIED_CACHE + 10):
        cookie.loads(cookie.dumps(State((str(i),)), now), now)
    assert len(cookie._verified) <= guard.VERIFIED_CACHE


def test_two_genuine_cookies_are_no_state():
    cookie = LoginCookie(SECRET, SETTINGS)
    now = time.time()
    mine, planted = (cookie.dumps(State((t,)), now) for t in ("mine", "planted"))
    read = cookie.read(f"__Host-raven={mine}; __Host-raven={planted}", now)
    assert (read.stored, read.came_back) == (None, True)
    assert "another site" in (read.problem or "")
    # one genuine and one forged: the genuine one
    read = cookie.read(f"__Host-raven={mine}; __Host-raven=forged.1.x", now)
    assert State.load(read.stored).tokens == ("mine",)
    assert cookie.read("other=1", now) == (None, False, None)


# --- identity and privacy ----------------------------------------------------------


def test_a_user_the_rules_refuse_is_no_identity():
    now = time.time()
    login = LOGIN._replace(issue=int(now), last=int(now), issuer=SETTINGS.wls.issuer_of("901"))
    stored = State(login=login).dump()
    assert guard.identity(stored, SETTINGS, now) == login
    assert guard.identity(stored, SETTINGS, now, lambda p, t: False) is None
    assert guard.identity(stored, SETTINGS, now + 7201) is None  # expired
    assert guard.identity(None, SETTINGS, now) is None


def test_once_asks_an_override_point_once():
    calls = []
    rule = guard.once(lambda p, t: calls.append(p) or False)
    assert rule is not None
    assert [rule("a", frozenset()), rule("a", frozenset())] == [False, False]
    assert calls == ["a"]
