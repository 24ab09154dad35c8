"""The attack list (tests/oidc/attacks.py) against the flow core: the site is
``raven.flow.decide`` with settings for Entra ID, the provider the local one
served for real on 127.0.0.1, and the back channel (token endpoint, JWKS)
real HTTP through urllib. Each attack is refused with its check and one log
line; the same journey without the attack logs in, so each refusal is the
attack's doing."""

from __future__ import annotations

import logging
import secrets
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from tests.browsing import Form
from tests.oidc.attacks import ATTACKS, Attack, AttackProvider, by_id, served

from raven import flow
from raven.flow import Incoming, LoggedIn, LogLine, Refuse, State, ToWLS
from raven.oidc.http import MAX_TIMEOUT, MIN_TIMEOUT, timed_fetch
from raven.oidc.testprovider import site_settings
from raven.settings import Settings

SITE = "https://site.example"


@pytest.fixture(scope="module")
def provider():
    with served() as attackable:
        yield attackable


def settings_for(provider: AttackProvider, attack: Attack | None) -> Settings:
    return Settings.from_config({**site_settings(provider.url), "RAVEN_ORIGIN": SITE,
                                 **(attack.settings() if attack else {})})


def start(settings: Settings) -> tuple[str, str]:
    """A login starts: its params token (the browser keeps it in a cookie of
    its own, raven.pending) and where the browser is sent."""
    go = flow.decide(Incoming("GET", "https", "site.example", "/page", b"a=1"), None,
                     settings, time.time(), secrets.token_urlsafe(16))
    assert isinstance(go, ToWLS) and go.started is not None
    return go.started, go.location


def log_in_at_provider(location: str, user: str = "test0001") -> bytes:
    """A browser at the provider: the login form, filled; the query it is
    sent back to the site with."""
    browser = requests.Session()
    page = browser.get(location, timeout=10)
    assert page.status_code == 200, page.text
    done = browser.post(page.url, data=Form(page.text).login_fields(user, "test"),
                        allow_redirects=False, timeout=10)
    back = done.headers["Location"]
    assert back.startswith(SITE + "/raven/callback?"), back
    return urlsplit(back).query.encode()


def come_back(settings: Settings, pending: tuple[str, ...], state: State | None,
              query: bytes):
    """The browser back at the site: ``pending``, the tokens its login
    cookies hold; ``state``, what its session holds."""
    incoming = Incoming("GET", "https", "site.example", "/raven/callback", query,
                        pending=pending)
    return flow.decide(incoming, None if state is None else state.dump(), settings,
                       time.time(), secrets.token_urlsafe(16))


def journey(provider: AttackProvider, attack: Attack | None):
    """Carry out ``attack.journey`` (an ordinary login without an attack):
    the site's last decision, and the token of the browser's login."""
    settings = settings_for(provider, attack)
    kind = attack.journey if attack else "login"
    token, location = start(settings)
    query = log_in_at_provider(location)
    if kind == "other_session":
        # The attacker's own login gives a code; the victim's browser is
        # brought back with it and the victim's own (valid) state.
        _, elsewhere = start(settings)
        stolen = parse_qs(log_in_at_provider(elsewhere, "test0002").decode())["code"][0]
        mine = parse_qs(query.decode())
        query = urlencode({"code": stolen, "state": mine["state"][0]}).encode()
    first = come_back(settings, (token,), None, query)
    if kind == "replay":
        assert isinstance(first, LoggedIn), first  # the first time, a login
        assert first.spent == token  # its cookie is spent
        first = come_back(settings, (), State(first.state.tokens, None), query)
    return first, token


@pytest.fixture()
def attacking(provider):
    def under(attack: Attack | None):
        provider.attack = attack
        provider.forged.clear()
        return journey(provider, attack)

    yield under
    provider.attack = None


def test_without_an_attack_the_same_journey_logs_in(attacking):
    done, token = attacking(None)
    assert isinstance(done, LoggedIn), done
    assert done.spent == token
    assert (done.login.principal, done.login.ptags) == ("test0001", {"current"})
    assert done.location == SITE + "/page?a=1"


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda a: a.id)
def test_each_attack_is_refused_with_its_check_and_one_log_line(attacking, provider, attack):
    began = time.monotonic()
    refused, token = attacking(attack)
    took = time.monotonic() - began
    assert isinstance(refused, Refuse), refused
    assert (refused.check, refused.status) == (attack.check, attack.status), refused.log
    assert isinstance(refused.log, LogLine)  # one line: the decision carries exactly one
    assert refused.log.level == logging.WARNING
    assert f"(check {attack.check})" in refused.log.message
    assert "\n" not in refused.log.message
    assert refused.context.get("check") == attack.check
    if attack.forge is not None:
        assert provider.forged.is_set()  # the token really was replaced
    if attack.journey != "replay":
        assert refused.spent == token  # spent: no retry
    if attack.delay:
        assert took < attack.delay, f"the site waited {took:.2f} s for a slow provider"
        assert "timed out" in refused.log.message


def test_a_refused_token_never_leaks_into_the_log(attacking):
    refused, _ = attacking(by_id("attacker-key"))
    assert "eyJ" not in refused.log.message  # no token, nor any part of one


def test_the_list_covers_what_the_issue_names():
    ids = {a.id for a in ATTACKS}
    assert len(ids) == len(ATTACKS)
    assert ids >= {"wrong-iss", "wrong-aud", "wrong-tid", "expired", "not-yet-valid",
                   "issued-in-the-future", "alg-none", "hmac-with-public-key", "unknown-kid",
                   "replayed-state", "nonce-mismatch", "code-from-another-session",
                   "other-domain", "missing-groups", "provider-timeout"}


@pytest.mark.parametrize("bad", [0, 0.01, MAX_TIMEOUT + 1, -1, True, "3", None])
def test_the_back_channel_timeout_is_bounded(bad):
    with pytest.raises(ValueError, match="timeout"):
        timed_fetch(bad)
    assert timed_fetch(MIN_TIMEOUT).timeout == MIN_TIMEOUT
