"""Every ID-token check, with tokens minted directly with the JOSE library
(joserfc) and signed with real RSA keys: each bad token is refused with an
error naming its check, never with the library's own exception."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from joserfc import jwt
from joserfc.jwk import RSAKey

from raven.oidc import GROUPS, IDTokenError, OIDCError, Provider, Transaction
from raven.oidc.jws import b64url_encode, jwk_of, parse_jwks

NOW = 1_800_000_000
CLIENT = "client-1"
TENANT = "49a50445-bdfa-4b79-ade3-547b4f3986e9"
NONCE = "the-nonce"


@pytest.fixture(scope="module")
def key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def other_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture()
def provider():
    return Provider.entra(CLIENT, "secret", authority="http://127.0.0.1:9")


def sign(payload, key, kid, header=None):
    """A token minted by the library, not by the code under test."""
    return jwt.encode({"alg": "RS256", "kid": kid, "typ": "JWT", **(header or {})},
                      payload, RSAKey.import_key(key))


def claims(provider, **changes):
    base = {"iss": provider.issuer, "aud": CLIENT, "tid": TENANT, "iat": NOW, "nbf": NOW,
            "exp": NOW + 3600, "nonce": NONCE, "preferred_username": "abc123@cam.ac.uk",
            "oid": "oid-1", "auth_time": NOW - 2, "groups": [GROUPS["UOC_USERS_STAFF"]]}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def check(provider, token, key, **kwargs):
    return provider.verify_id_token(token, key.public_key(), NONCE, NOW, **kwargs)


def test_a_good_token_passes(provider, key):
    got = check(provider, sign(claims(provider), key, "k1"), key)
    assert provider.principal_of(got) == "abc123"
    assert provider.ptags_of(got, True) == {"current"}
    assert provider.oid_of(got) == "oid-1"


@pytest.mark.parametrize(("change", "name"), [
    ({"iss": "https://login.microsoftonline.com/other/v2.0"}, "iss"),
    ({"aud": "another-client"}, "aud"),
    ({"aud": [CLIENT, "another"]}, "aud"),  # several audiences, no azp
    ({"tid": "another-tenant"}, "tid"),
    ({"exp": NOW - 60}, "exp"),
    ({"exp": "soon"}, "exp"),
    ({"nbf": NOW + 600}, "nbf"),
    ({"iat": NOW + 600}, "iat"),  # issued in the future
    ({"iat": NOW - 600}, "iat"),  # too old
    ({"nonce": "another"}, "nonce"),
    ({"nonce": None}, "nonce"),
])
def test_each_claim_check(provider, key, change, name):
    with pytest.raises(IDTokenError) as caught:
        check(provider, sign(claims(provider, **change), key, "k1"), key)
    assert caught.value.check == name


def test_another_key_is_a_bad_signature(provider, key, other_key):
    with pytest.raises(IDTokenError) as caught:
        check(provider, sign(claims(provider), other_key, "k1"), key)
    assert caught.value.check == "signature"


def test_an_altered_payload_is_a_bad_signature(provider, key):
    head, _, sig = sign(claims(provider), key, "k1").split(".")
    body = b64url_encode(json.dumps(claims(provider, preferred_username="x@cam.ac.uk"))
                         .encode())
    with pytest.raises(IDTokenError) as caught:
        check(provider, f"{head}.{body}.{sig}", key)
    assert caught.value.check == "signature"


def _unsigned(header: dict, payload: dict) -> str:
    return (b64url_encode(json.dumps(header).encode()) + "."
            + b64url_encode(json.dumps(payload).encode()))


def test_alg_none_is_refused(provider, key):
    token = _unsigned({"alg": "none", "kid": "k1"}, claims(provider)) + "."
    with pytest.raises(IDTokenError) as caught:
        check(provider, token, key)
    assert caught.value.check == "alg"


def test_hmac_keyed_with_the_public_key_is_refused(provider, key):
    pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    signing_input = _unsigned({"alg": "HS256", "kid": "k1", "typ": "JWT"}, claims(provider))
    mac = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    with pytest.raises(IDTokenError) as caught:
        check(provider, f"{signing_input}.{b64url_encode(mac)}", key)
    assert caught.value.check == "alg"


@pytest.mark.parametrize("token", [
    "", "a.b", "a.b.c.d", "!!!.e30.", "e30.e30.", 12, "é.é.é", "x" * 40000,
    base64.urlsafe_b64encode(b'{"alg":"RS256","kid":"k"}').decode() + ".e30.AA",  # padded
])
def test_garbage_is_a_format_error_never_an_exception(provider, key, token):
    with pytest.raises(IDTokenError) as caught:
        check(provider, token, key)
    assert caught.value.check in ("format", "alg", "kid", "signature")


def test_a_critical_header_is_refused(provider, key):
    with pytest.raises(IDTokenError) as caught:  # one joserfc knows, but we do not
        check(provider, sign(claims(provider), key, "k1", {"crit": ["kid"]}), key)
    assert caught.value.check == "format"
    head = b64url_encode(json.dumps({"alg": "RS256", "kid": "k1", "crit": ["x"], "x": 1})
                         .encode())
    body = b64url_encode(json.dumps(claims(provider)).encode())
    with pytest.raises(IDTokenError) as caught:
        check(provider, f"{head}.{body}.AAAA", key)
    assert caught.value.check == "format"


@pytest.mark.parametrize(("change", "name"), [
    ({"tid": ["another-tenant", TENANT]}, "tid"),  # a list holding the value
    ({"nonce": [NONCE, "x"]}, "nonce"),
    ({"iss": None}, "iss"),
    ({"aud": None}, "aud"),
    ({"exp": None}, "exp"),
    ({"iat": None}, "iat"),
    ({"tid": None}, "tid"),
    ({"nbf": "later"}, "nbf"),
    ({"exp": float("nan")}, "format"),  # NaN is not JSON: refused before any claim
])
def test_claims_that_are_missing_or_of_the_wrong_shape(provider, key, change, name):
    with pytest.raises(IDTokenError) as caught:
        check(provider, sign(claims(provider, **change), key, "k1"), key)
    assert caught.value.check == name


def test_a_repeated_claim_is_refused(provider, key):
    """joserfc reads the claims; a repeated member must not mean one thing here
    and another elsewhere."""
    raw = json.dumps(claims(provider))[:-1] + ', "aud": "another-client"}'
    head = b64url_encode(b'{"alg":"RS256","kid":"k1","typ":"JWT"}')
    signing_input = f"{head}.{b64url_encode(raw.encode())}"
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    sig = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    with pytest.raises(IDTokenError) as caught:
        check(provider, f"{signing_input}.{b64url_encode(sig)}", key)
    assert caught.value.check == "format"


def test_the_time_is_the_one_passed_in(provider, key):
    """joserfc validates exp, nbf and iat against the caller's now, not the clock."""
    token = sign(claims(provider), key, "k1")
    assert check(provider, token, key)
    with pytest.raises(IDTokenError) as caught:
        provider.verify_id_token(token, key.public_key(), NONCE, NOW + 3700)
    assert caught.value.check == "exp"
    with pytest.raises(IDTokenError) as caught:
        provider.verify_id_token(token, key.public_key(), NONCE, NOW - 60)
    assert caught.value.check in ("iat", "nbf")  # both are ahead of that time


def test_fresh_authentication_when_asked(provider, key):
    stale = sign(claims(provider, auth_time=NOW - 3600), key, "k1")
    with pytest.raises(IDTokenError) as caught:
        check(provider, stale, key, max_age=0)
    assert caught.value.check == "auth_time"
    assert check(provider, sign(claims(provider), key, "k1"), key, max_age=0)


@pytest.mark.parametrize(("upn", "allowed", "expected"), [
    ("abc123@cam.ac.uk", (), "abc123"),
    ("ABC123@CAM.AC.UK", (), "abc123"),
    ("abc123@cantab.ac.uk", ("cantab.ac.uk",), "abc123@cantab.ac.uk"),
    ("guest@example.com", ("*",), "guest@example.com"),
])
def test_principal(upn, allowed, expected):
    p = Provider.entra(CLIENT, "s", authority="http://127.0.0.1:9", other_domains=allowed)
    assert p.principal_of({"preferred_username": upn}) == expected


@pytest.mark.parametrize(("found", "name"), [
    ({"preferred_username": "abc123@cantab.ac.uk"}, "domain"),
    ({"preferred_username": "abc123@cam.ac.uk.evil.example"}, "domain"),
    ({"preferred_username": "abc123"}, "upn"),
    ({"preferred_username": "a@b@cam.ac.uk"}, "upn"),
    ({}, "upn"),
    # Non-ASCII letters that lower-case to ASCII: no CRSid, nor @cam.ac.uk, made of them.
    ({"preferred_username": "\u212aab12@cam.ac.uk"}, "upn"),
    ({"preferred_username": "ab12@cam.ac.u\u212a"}, "upn"),
])
def test_bad_principals(provider, found, name):
    with pytest.raises(OIDCError) as caught:
        provider.principal_of(found)
    assert caught.value.check == name


def test_v1_tokens_name_the_user_in_upn(provider):
    assert provider.principal_of({"upn": "xy9@cam.ac.uk"}) == "xy9"


def test_missing_groups_refused_only_when_ptags_are_required(provider):
    with pytest.raises(OIDCError) as caught:
        provider.ptags_of({}, required=True)
    assert caught.value.check == "groups"
    assert provider.ptags_of({}, required=False) == frozenset()
    with pytest.raises(OIDCError):  # overage: the groups are elsewhere
        provider.ptags_of({"_claim_names": {"groups": "src1"}}, required=False)
    assert provider.ptags_of({"groups": [GROUPS["UOC_USERS_ALUMNI"]]}, True) == frozenset()


def test_state_is_bound_to_the_token_and_carries_the_page():
    t = Transaction("a-token-of-enough-length", "/page?x=1")
    found = Transaction.find(t.state, ["other-token-xxxxxxxx", t.token])
    assert found.return_path == "/page?x=1"
    assert found.code_verifier == t.code_verifier and len(t.code_verifier) == 43
    for tokens in ([], ["other-token-xxxxxxxx"]):
        with pytest.raises(OIDCError):
            Transaction.find(t.state, tokens)
    forged = Transaction("a-token-of-enough-length", "//evil.example/").state
    with pytest.raises(OIDCError):  # a valid mac cannot make another origin
        Transaction.find(forged, [t.token])
    for bad in ("", "nodot", "%%%.x", t.state + "x"):
        with pytest.raises(OIDCError):
            Transaction.find(bad, [t.token])


def test_jwks_round_trip_and_small_keys_left_out(key):
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.warns(UserWarning, match="2048"):  # the library warns of a small key
        small_jwk = jwk_of(small.public_key(), "k2")
    odd_alg = {**jwk_of(key.public_key(), "k4"), "alg": ["RS256"]}  # unhashable: left out
    doc = {"keys": [jwk_of(key.public_key(), "k1"), small_jwk, {"kty": "EC", "kid": "k3"},
                    "junk", odd_alg]}
    keys = parse_jwks(json.dumps(doc).encode())
    assert list(keys) == ["k1"]
    assert keys["k1"].raw_value.public_numbers() == key.public_key().public_numbers()
    for bad in (b"[]", b"{}", b"not json", b'{"keys": 3}'):
        with pytest.raises(IDTokenError):
            parse_jwks(bad)


def test_endpoints_must_be_https_but_for_loopback():
    with pytest.raises(ValueError, match="https"):
        Provider.entra(CLIENT, "s", authority="http://login.example.com")
    for named_like_loopback in ("http://127.0.0.1.example.org:8080", "http://localhost.example"):
        with pytest.raises(ValueError, match="https"):  # a DNS name: the secret would travel
            Provider.entra(CLIENT, "s", authority=named_like_loopback)
    for loopback in ("http://127.0.0.1:9", "http://127.5.5.5:9", "http://[::1]:9",
                     "http://localhost:9"):
        assert Provider.entra(CLIENT, "s", authority=loopback).kind == "local"
    with pytest.raises(ValueError, match="client_secret"):
        Provider.entra(CLIENT, "")


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                 max_size=3),
    max_leaves=8)
_NAMES = ("iss", "aud", "tid", "exp", "nbf", "iat", "nonce", "auth_time", "azp", "sub",
          "jti", "groups", "preferred_username")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(_NAMES), _json, max_size=6))
def test_any_signed_claims_give_claims_or_an_id_token_error(key, changes):
    """Whatever JSON a correctly signed token carries, the library's
    exceptions never escape: a verdict, or an IDTokenError naming a check."""
    provider = Provider.entra(CLIENT, "secret", authority="http://127.0.0.1:9")
    token = sign(claims(provider, **changes), key, "k1")
    try:
        got = provider.verify_id_token(token, key.public_key(), NONCE, NOW, max_age=0)
    except IDTokenError as exc:
        assert exc.check in {"iss", "aud", "tid", "exp", "nbf", "iat", "nonce", "auth_time",
                             "format", "sub", "jti"}
    else:
        assert got["nonce"] == NONCE and got["iss"] == provider.issuer
