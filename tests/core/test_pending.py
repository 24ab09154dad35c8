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
    assert pending.read(sent(header), True, NOW + 1) == ((TOKEN,), True)


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
    assert pending.read(sent(started(secure=False)), True, NOW) == ((), False)


@pytest.mark.parametrize("header", [
    f"__Host-raven-login-{TOKEN}=",
    f"__Host-raven-login-{TOKEN}=soon",
    f"__Host-raven-login-{TOKEN}=-5",
    f"__Host-raven-login-{TOKEN}={NOW}{NOW}",
    f"__Host-raven-login-short={NOW}",
    f"__Host-raven-login-{TOKEN}!={NOW}",
    f"__Host-raven-login-{'x' * 65}={NOW}",
    f"__Host-raven-login-{TOKEN}={NOW - pending.WAIT - 1}",  # the login waited too long
    f"__Host-raven-login-{TOKEN}={NOW + 3600}",  # from the future
])
def test_a_malformed_or_stale_cookie_is_no_login_under_way(header):
    assert pending.read(header, True, NOW) == ((), True)  # but a cookie came back


def test_no_cookie_of_ours():
    assert pending.read("", True, NOW) == pending.read("session=x", True, NOW) == ((), False)


def test_only_the_newest_logins_are_read():
    tokens = [f"{i:02d}" + "t" * 20 for i in range(pending.MAX_PENDING + 3)]
    header = sent(*(started(t, NOW + i) for i, t in enumerate(tokens)))
    assert pending.read(header, True, NOW + 20).tokens == tuple(tokens[3:])


def test_an_answer_to_a_response_spends_the_token_of_its_cookie():
    for decision in (LoggedIn("/", None, None, False, None, TOKEN),  # type: ignore[arg-type]
                     Refuse(400, "issue", "bad_response", spent=TOKEN)):
        (spent,) = pending.changes(decision, NOW, True)
        assert spent.name == f"__Host-raven-login-{TOKEN}" and spent.value == "spent"
        assert "Secure" in spent.header()  # a __Host- cookie is replaced only when Secure
        # The same response again finds no token, but a cookie came back.
        assert pending.read(sent(started(), spent.header()), True, NOW) == ((), True)
    assert pending.changes(Refuse(400, "params", "bad_response"), NOW, True) == []


def test_a_token_that_cannot_name_a_cookie_is_not_started():
    with pytest.raises(ValueError, match="URL-safe"):
        pending.changes(ToWLS("https://wls/", None, None, "a token; Path=/x"), NOW, True)
