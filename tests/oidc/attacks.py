"""The attack list for the relying party, as data, and the local provider
that carries it out.

Each :class:`Attack` says what goes wrong and how the site must answer
(the refusal's ``check`` and status). How it is carried out is adapter-free:

- ``forge`` replaces the ID token the provider's token endpoint gives a
  genuine login: it is given the genuine claims (with the nonce this login
  sent) and the keys, and mints a token directly with joserfc (the
  provider's key, or an attacker's), or by hand where joserfc itself
  refuses to make such a thing (HMAC keyed with an RSA public key);
- ``journey`` says what the browser does: ``"login"`` (an ordinary login),
  ``"replay"`` (log in, then bring the same return again, with the login
  gone from the session: a stolen or bookmarked return URL), or
  ``"other_session"`` (the return carries a code issued to another
  browser's login, with this browser's valid state: code injection);
- ``delay`` makes the token endpoint sleep that long before answering,
  and :meth:`Attack.settings` gives the site a short, bounded timeout.

:class:`AttackProvider` is the local test provider behind one WSGI layer
that applies the current attack. An adapter's test serves it, points a
site at it with ``site_settings(url) | attack.settings()``, sets
``provider.attack``, drives its browser through ``attack.journey`` and
checks the page's status and the one log line naming ``attack.check``::

    from tests.oidc.attacks import ATTACKS, AttackProvider

    @pytest.mark.parametrize("attack", ATTACKS, ids=lambda a: a.id)
    def test_refused(attack, ...): ...
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from joserfc import jwt
from joserfc.jwk import RSAKey

from raven.oidc.http import timed_fetch
from raven.oidc.jws import b64url_encode
from raven.oidc.testprovider import create_app
from raven.wls.server import LiveServer

__all__ = ["ATTACKS", "Attack", "AttackProvider", "Keys", "by_id", "served"]

#: An attacker's tenant, and another application's client id.
OTHER_TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
OTHER_CLIENT = "11111111-2222-4333-8444-555555555555"
#: How long the slow provider sleeps, and how long the site waits for it.
SLEEP, TIMEOUT = 1.5, 0.25


@dataclass(frozen=True)
class Keys:
    provider: RSAKey  # the local provider's signing key (private)
    kid: str  # its kid, as its JWKS lists it
    attacker: RSAKey  # a key the provider never published

    @property
    def public_pem(self) -> bytes:
        return self.provider.raw_value.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


Forge = Callable[[dict[str, Any], Keys], str]


@dataclass(frozen=True)
class Attack:
    id: str
    what: str
    check: str  # the refusal's check, named in its one log line
    status: int  # the refusal page's status
    forge: Forge | None = None
    journey: str = "login"  # "login", "replay" or "other_session"
    delay: float = 0.0  # seconds the token endpoint sleeps first

    def settings(self) -> dict[str, Any]:
        """Settings the site needs for this attack besides the provider's."""
        return {"RAVEN_OIDC_FETCH": timed_fetch(TIMEOUT)} if self.delay else {}


def _encode(header: dict[str, Any], claims: dict[str, Any], key: RSAKey | None) -> str:
    with warnings.catch_warnings():  # joserfc warns when asked for alg none
        warnings.simplefilter("ignore")
        return jwt.encode(header, claims, key, algorithms=[header["alg"]])


def resigned(**changes: Any) -> Forge:
    """The genuine claims with ``changes`` (None removes a claim), signed
    with the provider's own key: everything right but what changed."""
    def forge(claims: dict[str, Any], keys: Keys) -> str:
        for name, value in changes.items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value(claims) if callable(value) else value
        return _encode({"alg": "RS256", "kid": keys.kid, "typ": "JWT"}, claims, keys.provider)
    return forge


def _attacker_signed(kid: str | None = None) -> Forge:
    def forge(claims: dict[str, Any], keys: Keys) -> str:
        claims["preferred_username"] = "victim1@cam.ac.uk"
        return _encode({"alg": "RS256", "kid": kid or keys.kid, "typ": "JWT"}, claims,
                       keys.attacker)
    return forge


def _alg_none(claims: dict[str, Any], keys: Keys) -> str:
    claims["preferred_username"] = "victim1@cam.ac.uk"
    return _encode({"alg": "none", "kid": keys.kid, "typ": "JWT"}, claims, None)


def _hmac_with_public_key(claims: dict[str, Any], keys: Keys) -> str:
    """HS256 keyed with the provider's published key, the classic confusion.
    joserfc will not make this (it refuses an RSA key as an HMAC secret), so
    the attacker does it by hand."""
    claims["preferred_username"] = "victim1@cam.ac.uk"
    head = b64url_encode(json.dumps({"alg": "HS256", "kid": keys.kid, "typ": "JWT"}).encode())
    body = b64url_encode(json.dumps(claims).encode())
    mac = hmac.new(keys.public_pem, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64url_encode(mac)}"


ATTACKS: list[Attack] = [
    Attack("wrong-iss", "a token from another issuer", "iss", 400,
           resigned(iss=f"https://login.microsoftonline.com/{OTHER_TENANT}/v2.0")),
    Attack("wrong-aud", "a token issued to another application", "aud", 400,
           resigned(aud=OTHER_CLIENT)),
    Attack("wrong-tid", "a token naming another tenant", "tid", 400,
           resigned(tid=OTHER_TENANT)),
    Attack("expired", "a token that has expired", "exp", 400,
           resigned(exp=lambda c: c["iat"] - 60)),
    Attack("not-yet-valid", "a token not valid for ten minutes (nbf)", "nbf", 400,
           resigned(nbf=lambda c: c["iat"] + 600)),
    Attack("issued-in-the-future", "a token issued ten minutes ahead (iat)", "iat", 400,
           resigned(iat=lambda c: c["iat"] + 600, nbf=None)),
    Attack("alg-none", "an unsigned token (alg none)", "alg", 400, _alg_none),
    Attack("hmac-with-public-key", "HS256 keyed with the provider's public key", "alg", 400,
           _hmac_with_public_key),
    Attack("attacker-key", "a token signed by another key under the provider's kid",
           "signature", 400, _attacker_signed()),
    Attack("unknown-kid", "a token signed by a key the provider does not list", "kid", 400,
           _attacker_signed("attacker-key-1")),
    Attack("nonce-mismatch", "a token made for another login (nonce)", "nonce", 400,
           resigned(nonce="a-nonce-this-login-never-sent")),
    Attack("other-domain", "a user of another domain (an alumnus's UPN)", "domain", 403,
           resigned(preferred_username="abc123@cantab.ac.uk")),
    Attack("missing-groups", "no groups claim, on a site requiring ptags", "groups", 403,
           resigned(groups=None)),
    Attack("replayed-state", "the same return brought twice", "state", 400,
           journey="replay"),
    Attack("code-from-another-session", "a code issued to another browser's login",
           "token endpoint", 400, journey="other_session"),
    Attack("provider-timeout", "the token endpoint answers after the site's timeout",
           "token endpoint", 403, delay=SLEEP),
]


def by_id(name: str) -> Attack:
    return next(a for a in ATTACKS if a.id == name)


@dataclass
class AttackProvider:
    """The local test provider (a WSGI app) that applies :attr:`attack` to
    its token endpoint's answers. Serve it with ``LiveServer(provider)``."""

    config: dict[str, Any] = field(default_factory=dict)
    attack: Attack | None = None
    url: str = ""  # where it is served, once it is

    def __post_init__(self) -> None:
        self.app = create_app(self.config)
        state = self.app.extensions["raven_oidc_provider"]
        self.keys = Keys(RSAKey.import_key(state.key), state.kid,
                         RSAKey.generate_key(2048, private=True))
        self.forged = threading.Event()  # set when a token was replaced

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        attack = self.attack
        if attack is None or not environ.get("PATH_INFO", "").endswith("/oauth2/v2.0/token"):
            return self.app(environ, start_response)
        if attack.delay:
            time.sleep(attack.delay)
        answered: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None):
            answered.update(status=status, headers=headers)
            return lambda data: None

        result = self.app(environ, capture)
        try:
            body = b"".join(result)
        finally:
            getattr(result, "close", lambda: None)()
        if attack.forge is not None and answered["status"].startswith("200"):
            document = json.loads(body)
            genuine = jwt.decode(document["id_token"], self.keys.provider, algorithms=["RS256"])
            document["id_token"] = attack.forge(dict(genuine.claims), self.keys)
            body = json.dumps(document).encode()
            self.forged.set()
        headers = [(k, v) for k, v in answered["headers"] if k.lower() != "content-length"]
        start_response(answered["status"], [*headers, ("Content-Length", str(len(body)))])
        return [body]


@contextmanager
def served() -> Iterator[AttackProvider]:
    """An :class:`AttackProvider` served on 127.0.0.1 (its ``url`` set)."""
    attackable = AttackProvider()
    server = LiveServer(attackable).start()
    attackable.url = server.url
    try:
        yield attackable
    finally:
        server.stop()
