"""The flow core with an OpenID provider, no I/O: back-channel answers are
made here, ID tokens signed with a real RSA key."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from raven import flow
from raven.flow import BackChannel, Incoming, LoggedIn, Refuse, State, ToWLS
from raven.oidc import GROUPS, HTTPResponse
from raven.oidc.jws import jwk_of, sign
from raven.settings import Settings

NOW = 1_800_000_000.0
SITE = "https://site.example"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def settings(**more):
    return Settings.from_config({
        "RAVEN_WLS": "entra", "RAVEN_OIDC_CLIENT_ID": "c1", "RAVEN_OIDC_CLIENT_SECRET": "s",
        "RAVEN_ORIGIN": SITE, **more})


def start(s):
    """A login starts: its params token, and the provider's query."""
    go = flow.decide(Incoming("GET", "https", "site.example", "/page", b"a=1"), None, s, NOW,
                     "t" * 22)
    assert isinstance(go, ToWLS)
    # The token goes into a cookie of its own (raven.pending), not the session.
    assert go.started == "t" * 22 and go.state is None
    query = {k: v[0] for k, v in parse_qs(urlsplit(go.location).query).items()}
    assert query["code_challenge_method"] == "S256" and query["response_mode"] == "query"
    return go.started, query


def back(s, pending, query, stored=None, **kwargs):
    """The browser back from the provider. ``pending``: the tokens of the
    logins under way that its cookies hold; ``stored``: its session's state."""
    incoming = Incoming("GET", "https", "site.example", "/raven/callback",
                        f"code=abc&state={query['state']}".encode(), pending=pending)
    return flow.decide(incoming, None if stored is None else stored.dump(), s, NOW, "u" * 22,
                       **kwargs)


def after(pending, decision):
    """The tokens the browser's cookies hold once ``decision`` is answered:
    the one it spent is gone."""
    return tuple(t for t in pending if t != decision.spent)


def token_answer(s, sent_nonce, kid="k1", **changes):
    claims = {"iss": s.wls.issuer, "aud": "c1", "tid": s.wls.tenant, "iat": int(NOW),
              "exp": int(NOW) + 3600, "nonce": sent_nonce, "oid": "o-1",
              "preferred_username": "abc123@cam.ac.uk", "auth_time": int(NOW),
              "groups": [GROUPS["UOC_USERS_STUDENT"]], **changes}
    claims = {k: v for k, v in claims.items() if v is not None}
    body = json.dumps({"id_token": sign(claims, KEY, kid), "token_type": "Bearer"})
    return HTTPResponse(200, body.encode(), "application/json")


def jwks_answer():
    return HTTPResponse(200, json.dumps({"keys": [jwk_of(KEY.public_key(), "k1")]}).encode())


def test_a_login_through_both_back_channel_calls():
    s = settings()
    token, query = start(s)
    step = back(s, (token,), query, fetch=None)
    assert isinstance(step, BackChannel) and step.request.purpose == "token endpoint"
    form = parse_qs(step.request.body.decode())
    assert form["code_verifier"][0] and form["redirect_uri"] == [SITE + "/raven/callback"]
    step = step.resume(token_answer(s, query["nonce"]))
    assert isinstance(step, BackChannel) and step.request.purpose == "jwks"
    done = step.resume(jwks_answer())
    assert isinstance(done, LoggedIn), done
    assert done.location == SITE + "/page?a=1" and done.spent == token
    assert (done.login.principal, done.login.ptags, done.login.oid) == (
        "abc123", {"current"}, "o-1")
    # stored as version 3, read back whole; the page now lets the user through
    dumped = done.state.dump()
    assert dumped["v"] == 3 and State.load(dumped).login == done.login
    page = Incoming("GET", "https", "site.example", "/page")
    assert isinstance(flow.decide(page, dumped, s, NOW + 1, "v" * 22), flow.Allow)
    # the return works once
    assert after((token,), done) == ()
    again = back(s, after((token,), done), query, done.state, fetch=None)
    assert isinstance(again, LoggedIn) and again.state is None  # back button: no change
    assert again.spent is None


def test_a_login_kept_in_the_session_by_an_earlier_release_still_completes():
    s = settings()
    token, query = start(s)
    answers = {"token endpoint": token_answer(s, query["nonce"]), "jwks": jwks_answer()}
    done = back(s, (), query, State((token,)), fetch=lambda r: answers[r.purpose])
    assert isinstance(done, LoggedIn), done
    assert done.state.tokens == () and done.spent == token
    assert done.login.principal == "abc123"


def test_the_sync_seam_is_the_providers_fetch():
    calls = []
    s0 = settings()

    def fetch(request):
        calls.append(request.purpose)
        return token_answer(s0, nonce) if request.purpose == "token endpoint" else jwks_answer()

    s = settings(RAVEN_OIDC_FETCH=fetch)
    s0 = s
    token, query = start(s)
    nonce = query["nonce"]
    assert isinstance(back(s, (token,), query), LoggedIn)
    assert calls == ["token endpoint", "jwks"]
    token, query = start(s)
    nonce = query["nonce"]
    assert isinstance(back(s, (token,), query), LoggedIn)
    assert calls[2:] == ["token endpoint"]  # keys cached


@pytest.mark.parametrize(("answer", "check", "status"), [
    (HTTPResponse(0, error="TimeoutError: timed out"), "token endpoint", 403),
    (HTTPResponse(400, b'{"error":"invalid_grant"}'), "token endpoint", 400),
    (HTTPResponse(200, b"<html>"), "token endpoint", 400),
    (HTTPResponse(200, b'{"access_token":"x"}'), "token endpoint", 400),
])
@pytest.mark.parametrize("kept", ["cookie", "session"])
def test_token_endpoint_failures_are_refusals(answer, check, status, kept):
    s = settings()
    token, query = start(s)
    if kept == "cookie":
        refused = back(s, (token,), query, fetch=lambda request: answer)
    else:  # by an earlier release
        refused = back(s, (), query, State((token,)), fetch=lambda request: answer)
        assert refused.state is not None and refused.state.tokens == ()
    assert isinstance(refused, Refuse) and (refused.check, refused.status) == (check, status)
    assert refused.spent == token  # spent


def test_a_fetch_that_raises_is_no_answer():
    def broken(request):
        raise RuntimeError("boom")

    s = settings(RAVEN_OIDC_FETCH=broken)
    token, query = start(s)
    refused = back(s, (token,), query)
    assert isinstance(refused, Refuse) and refused.check == "token endpoint"


def test_an_unknown_kid_refetches_at_most_so_often():
    s = settings()
    token, query = start(s)
    answers = {"token endpoint": token_answer(s, query["nonce"], kid="unknown"),
               "jwks": jwks_answer()}
    asked = []

    def fetch(request):
        asked.append(request.purpose)
        return answers[request.purpose]

    refused = back(s, (token,), query, fetch=fetch)
    assert isinstance(refused, Refuse) and refused.check == "kid"
    token, query = start(s)
    answers["token endpoint"] = token_answer(s, query["nonce"], kid="unknown")
    refused = back(s, (token,), query, fetch=fetch)
    assert refused.check == "kid"
    assert asked == ["token endpoint", "jwks", "token endpoint"]  # not fetched again


@pytest.mark.parametrize(("change", "check"), [
    ({"iss": "https://elsewhere.example/v2.0"}, "iss"), ({"aud": "c2"}, "aud"),
    ({"tid": "t2"}, "tid"), ({"exp": int(NOW) - 100}, "exp"), ({"nonce": "x"}, "nonce"),
    ({"iat": int(NOW) + 100}, "iat"), ({"preferred_username": "a@cantab.ac.uk"}, "domain"),
    ({"groups": None}, "groups"),
])
def test_bad_tokens_are_refused_naming_the_check(change, check):
    s = settings()
    token, query = start(s)
    answers = {"token endpoint": token_answer(s, query["nonce"], **change),
               "jwks": jwks_answer()}
    refused = back(s, (token,), query, fetch=lambda r: answers[r.purpose])
    assert isinstance(refused, Refuse) and refused.check == check
    assert refused.log is not None and f"check {check}" in refused.log.message


def test_a_return_from_another_browser_is_refused():
    s = settings()
    _, query = start(s)
    # This browser's own logins under way, in its cookies and (by an
    # earlier release) its session: none is the one the return is for.
    refused = back(s, ("w" * 22,), query, State(("v" * 22,)), fetch=None)
    assert isinstance(refused, Refuse) and refused.check == "state"
    assert refused.spent is None  # this browser's own logins go on


def test_a_provider_error_is_a_page_once():
    s = settings()
    token, query = start(s)
    incoming = Incoming("GET", "https", "site.example", "/raven/callback",
                        f"error=access_denied&state={query['state']}".encode(),
                        pending=(token,))
    refused = flow.decide(incoming, None, s, NOW, "x" * 22)
    assert isinstance(refused, Refuse) and refused.status == 401
    assert refused.context["wls_status"] == "access_denied" and refused.spent == token


def test_logins_belong_to_their_service():
    entra = settings()
    raven = Settings.from_config({"RAVEN_WLS": "http://127.0.0.1:5001",
                                  "RAVEN_ORIGIN": SITE, "RAVEN_REQUIRE_PTAGS": None})
    login = flow.Login("abc123", frozenset({"current"}), int(NOW), None, int(NOW), "pwd",
                       frozenset(), raven.wls.issuer_of("901"))
    page = Incoming("GET", "https", "site.example", "/page")
    stored = State((), login).dump()
    assert isinstance(flow.decide(page, stored, raven, NOW, "y" * 22), flow.Allow)
    assert isinstance(flow.decide(page, stored, entra, NOW, "y" * 22), ToWLS)
    oidc_login = login._replace(issuer=entra.wls.issuer_of(), oid="o")
    stored = State((), oidc_login).dump()
    assert isinstance(flow.decide(page, stored, raven, NOW, "y" * 22), ToWLS)


@pytest.mark.parametrize(("config", "words"), [
    ({"RAVEN_AAUTH": "x509"}, "aauth"),
    ({"RAVEN_OIDC_CLIENT_SECRET": None}, "client_secret"),
    ({"RAVEN_KEY_DIR": "/tmp"}, "KEY_DIR"),
    ({"RAVEN_OIDC_AUTHORITY": "http://login.example.com"}, "https"),
])
def test_bad_settings_are_refused_at_start_up(config, words):
    with pytest.raises(Exception, match=words):
        settings(**config)


def test_oidc_settings_without_entra_are_refused():
    with pytest.raises(Exception, match="only mean something"):
        Settings.from_config({"RAVEN_WLS": "live", "RAVEN_ORIGIN": SITE,
                              "RAVEN_OIDC_CLIENT_ID": "c1"})


def test_a_provider_error_ends_an_earlier_login_as_a_wls_failure_does():
    s = settings()
    login = flow.Login("abc123", frozenset({"current"}), int(NOW), None, int(NOW), "pwd",
                       frozenset(), s.wls.issuer_of(), "o")
    token, query = start(s)  # a logged-in user asked to log in again (a fresher password)
    incoming = Incoming("GET", "https", "site.example", "/raven/callback",
                        f"error=access_denied&state={query['state']}".encode(),
                        pending=(token,))
    refused = flow.decide(incoming, State((), login).dump(), s, NOW, "x" * 22)
    assert isinstance(refused, Refuse) and refused.status == 401
    assert refused.state == State(())  # the earlier login is ended, not kept
