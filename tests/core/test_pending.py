"""Logins under way, one cookie each (raven.pending): what is set, what is
read back, and what is never trusted."""

from __future__ import annotations

from http.cookies import SimpleCookie

import pytest

from raven import guard, pending
from raven.flow import LoggedIn, Refuse, ToWLS
from raven.services import DEMO
from raven.settings import Settings

NOW = 1_790_000_000
TOKEN = "A" * 10 + "b" * 12  # as guard.new_token makes: 22 URL-safe characters


def settings(origin: str) -> Settings:
    return Settings.from_config({"RAVEN_ORIGIN": origin}, {"wls": DEMO})


def started(token: str = TOKEN, now: float = NOW, secure: bool = True) -> str:
    (cookie,) = pending.changes(ToWLS("https://wls/", None, None, token), now, secure)
    return cookie.header()


def sent(*headers: str) -> str:
    """The Cookie header a browser sends back for these Set-Cookie values."""
    jar: SimpleCookie = SimpleCookie()
    for header in headers:
        jar.load(header)
    return "; ".join(f"{m.key}={m.value}" for m in jar.values())


def test_a_login_that_starts_sets_a_cookie_named_after_its_token():
    header = started()
    assert header.startswith(f"__Host-raven-login-{TOKEN}={NOW}; Path=/; HttpOnly; ")
    assert "SameSite=Lax" in header and "Secure" in header
    assert f"Max-Age={pending.WAIT}" in header and "Domain" not in header
    assert pending.read(sent(header), True, NOW + 1) == ((TOKEN,), True, ())


def test_new_tokens_are_valid_cookie_names():
    token = guard.new_token()
    assert pending.read(sent(started(token)), True, NOW).tokens == (token,)


def test_an_http_site_names_it_plainly_and_secures_it_as_the_request_came():
    site = settings("http://127.0.0.1:8000")
    assert not pending.secure_for(site, "http")
    assert pending.secure_for(site, "https")
    assert pending.secure_for(settings("https://www.example.cam.ac.uk"), "http")
    header = started(secure=False)
    assert header.startswith(f"raven-login-{TOKEN}=") and "Secure" not in header
    assert pending.read(sent(header), False, NOW).tokens == (TOKEN,)


def test_a_plain_named_cookie_counts_for_nothing_on_a_host_prefixed_site():
    """Another site under the same domain can set a plain cookie; it cannot
    set a __Host- one."""
    assert pending.read(sent(started(secure=False)), True, NOW) == pending.NOTHING


@pytest.mark.parametrize("value", [
    "", "soon", "-5", f"{NOW}{NOW}", f"+{NOW}", "\u00b2" * 3,  # a digit int() reads, not ASCII
    f"{NOW - pending.WAIT - 1}",  # the login waited too long
    f"{NOW + 3600}",  # from the future
])
def test_a_malformed_or_stale_cookie_is_no_login_under_way_and_is_deleted(value):
    seen = pending.read(f"__Host-raven-login-{TOKEN}={value}", True, NOW)
    assert seen == ((), True, (f"__Host-raven-login-{TOKEN}",))  # a cookie came back
    headers = [c.header() for c in pending.changes(
        ToWLS("https://wls/", None, None, "n" * 22), NOW, True, seen)]
    assert headers[0].startswith(f"__Host-raven-login-{TOKEN}=;") and "Max-Age=0" in headers[0]


@pytest.mark.parametrize("name", ["short", f"{TOKEN}!", "x" * 65, f"{TOKEN} x"])
def test_a_name_that_is_no_token_is_ignored_never_echoed(name):
    assert pending.read(f"__Host-raven-login-{name}={NOW}", True, NOW) == ((), True, ())


def test_no_cookie_of_ours():
    assert pending.read("", True, NOW) == pending.read("session=x", True, NOW) == pending.NOTHING


def test_only_the_newest_logins_are_read():
    tokens = [f"{i:02d}" + "t" * 20 for i in range(pending.MAX_PENDING + 3)]
    header = sent(*(started(t, NOW + i) for i, t in enumerate(tokens)))
    seen = pending.read(header, True, NOW + 20)
    assert seen.tokens == tuple(tokens[3:])
    # The next login deletes the older ones: none piles up.
    assert seen.surplus == tuple(f"__Host-raven-login-{t}" for t in tokens[:3])


def test_an_answer_to_a_response_spends_the_token_of_its_cookie():
    for decision in (LoggedIn("/", None, None, False, None, TOKEN),  # type: ignore[arg-type]
                     Refuse(400, "issue", "bad_response", spent=TOKEN)):
        (spent,) = pending.changes(decision, NOW, True)
        assert spent.name == f"__Host-raven-login-{TOKEN}" and spent.value == "spent"
        assert "Secure" in spent.header()  # a __Host- cookie is replaced only when Secure
        # The same response again finds no token, but a cookie came back.
        assert pending.read(sent(started(), spent.header()), True, NOW) == ((), True, ())
        # A second cookie of the name, set to a time, cannot bring it back.
        both = f"{sent(spent.header())}; __Host-raven-login-{TOKEN}={NOW}"
        assert pending.read(both, True, NOW).tokens == ()
    assert pending.changes(Refuse(400, "params", "bad_response"), NOW, True) == []


def test_a_token_that_cannot_name_a_cookie_is_not_started():
    with pytest.raises(ValueError, match="URL-safe"):
        pending.changes(ToWLS("https://wls/", None, None, "a token; Path=/x"), NOW, True)


def test_only_a_digest_of_the_token_travels():
    params = pending.params_for(TOKEN)
    assert len(params) == 22 and TOKEN not in params
    assert params == pending.params_for(TOKEN) != pending.params_for(TOKEN[:-1] + "c")


def test_a_logout_deletes_every_login_under_way():
    header = sent(started(TOKEN), started("z" * 22))
    gone = pending.forget(header + "; session=x; __Host-raven-login-bad!=1", True)
    assert [(c.name, c.max_age) for c in gone] == [
        (f"__Host-raven-login-{TOKEN}", 0), (f"__Host-raven-login-{'z' * 22}", 0)]
    assert pending.forget("session=x", True) == []


def test_an_answer_deletes_a_bounded_number_of_cookies_and_never_one_it_keeps():
    planted = "; ".join(f"__Host-raven-login-{i:022d}=bad" for i in range(100))
    seen = pending.read(f"{planted}; __Host-raven-login-{TOKEN}={NOW}", True, NOW)
    assert seen.tokens == (TOKEN,) and len(seen.surplus) == 16
    assert len(pending.forget(planted, True)) == 16
    twice = f"__Host-raven-login-{TOKEN}=bad; __Host-raven-login-{TOKEN}={NOW}"
    assert pending.read(twice, True, NOW) == ((TOKEN,), True, ())
