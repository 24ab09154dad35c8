"""The ID token's signature and registered claims, checked with joserfc.

Nothing here does JOSE by hand: joserfc parses the compact JWS, verifies
the RS256 signature (RSA and SHA-256 by the ``cryptography`` package) and
validates ``iss``, ``aud``, ``exp``, ``nbf``, ``iat`` and any claim with an
expected value against the time the caller passes in. This module chooses
what is allowed (RS256 only, chosen by configuration, never by the
token), picks the key by ``kid`` from a key set the caller already holds
(joserfc never fetches anything), and turns every library exception into
an :class:`~raven.oidc.errors.IDTokenError` naming its check.

joserfc comes with the ``entra`` extra: ``pip install 'ucam-raven[entra]'``.
Without it this module still imports; :func:`require` says what to install.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from .errors import IDTokenError

try:
    from joserfc import jws as _jws
    from joserfc import jwt as _jwt
    from joserfc.errors import (
        BadSignatureError,
        ClaimError,
        ExpiredTokenError,
        JoseError,
        MissingClaimError,
        UnsupportedAlgorithmError,
    )
    from joserfc.jwk import RSAKey
except ImportError:  # the entra extra is not installed: require() says so
    _jws = _jwt = None  # type: ignore[assignment]

__all__ = [
    "ALGORITHMS", "INSTALL", "MAX_TOKEN_LENGTH", "MIN_RSA_BITS", "available",
    "b64url_decode", "b64url_encode", "check_claims", "jwk_of", "parse_jwks",
    "read_header", "require", "rsa_key", "sign", "verify",
]

#: The algorithms this module can verify. A site chooses among them.
ALGORITHMS = frozenset({"RS256"})
#: Entra's ID tokens are a few kilobytes; a group-heavy one maybe 10.
MAX_TOKEN_LENGTH = 32_768
MIN_RSA_BITS = 2048
INSTALL = "pip install 'ucam-raven[entra]'"
_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_KID = re.compile(r"[\x21-\x7e]{1,200}")


def available() -> bool:
    """Is the JOSE library (joserfc) installed?"""
    return _jwt is not None


def require() -> None:
    """ValueError naming the extra to install, if joserfc is missing."""
    if not available():
        raise ValueError("an OpenID login's ID tokens are verified with joserfc, which is "
                         f"not installed here: {INSTALL}")


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def b64url_decode(text: str, what: str = "value") -> bytes:
    """Unpadded base64url, strictly: other alphabets, padding and
    non-canonical trailing bits are refused (for ``state``, not tokens)."""
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise IDTokenError(f"the {what} is not base64url", check="format")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64url_encode(data) != text:
        raise IDTokenError(f"the {what} is not canonical base64url", check="format")
    return data


class _StrictJSON(json.JSONDecoder):
    """JSON objects without repeated members, and without NaN or Infinity:
    a claim given twice must not mean one thing to us and another to
    whoever else reads the token."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.update(object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
        super().__init__(**kwargs)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate member")
    return result


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _compact(token: object) -> bytes:
    if not isinstance(token, str) or not token.isascii():
        raise IDTokenError("the ID token is not a string of ASCII characters", check="format")
    if len(token) > MAX_TOKEN_LENGTH:
        raise IDTokenError(f"the ID token is longer than {MAX_TOKEN_LENGTH} characters",
                           check="format")
    if token.count(".") != 2 or not all(_B64URL.fullmatch(p) for p in token.split(".")):
        raise IDTokenError("the ID token is not a signed JWT (three base64url parts "
                           "separated by dots)", check="format")
    return token.encode("ascii")


def read_header(token: object, algorithms: Iterable[str]) -> tuple[str, dict[str, Any]]:
    """The key id and header of a compact JWS (parsed by joserfc, not yet
    verified), once its header passes: ``alg`` one of ``algorithms`` (never
    ``none``, never HMAC), a ``kid``, no ``crit`` extension, ``typ`` JWT if
    given. Raises IDTokenError."""
    value = _compact(token)
    require()
    try:
        header = dict(_jws.extract_compact(value).headers())
    except (JoseError, ValueError, TypeError, RecursionError):
        raise IDTokenError("the ID token's header is not a JSON object",
                           check="format") from None
    alg = header.get("alg")
    allowed = set(algorithms) & ALGORITHMS
    if not isinstance(alg, str) or alg not in allowed:
        raise IDTokenError(
            f"the ID token is signed with alg {str(alg)[:20]!r}; this site accepts "
            f"{', '.join(sorted(allowed)) or 'nothing'}", check="alg")
    if "crit" in header or "b64" in header:
        raise IDTokenError("the ID token's header has critical extensions we do not know",
                           check="format")
    typ = header.get("typ", "JWT")
    if not isinstance(typ, str) or typ.upper() not in ("JWT", "APPLICATION/JWT"):
        raise IDTokenError("the ID token's typ is not JWT", check="format")
    kid = header.get("kid")
    if not isinstance(kid, str) or not _KID.fullmatch(kid):
        raise IDTokenError("the ID token names no usable key (kid)", check="kid")
    return kid, header


def rsa_key(key: Any) -> Any:
    """A joserfc RSA key (public or private) from a joserfc key, a
    ``cryptography`` RSA key or a JWK dict. Raises ValueError."""
    require()
    if isinstance(key, RSAKey):
        return key
    try:
        return RSAKey.import_key(key)
    except (JoseError, ValueError, TypeError) as exc:
        raise ValueError(f"not an RSA public key: {exc}") from None


def verify(token: str, key: Any, algorithms: Iterable[str]) -> dict[str, Any]:
    """The claims of ``token`` if joserfc finds it signed by ``key`` with
    one of ``algorithms``; IDTokenError otherwise. Only the signature and
    the format are checked here: :func:`check_claims` does the claims."""
    read_header(token, algorithms)
    allowed = sorted(set(algorithms) & ALGORITHMS)
    try:
        decoded = _jwt.decode(token, rsa_key(key), algorithms=allowed,
                              decoder_cls=_StrictJSON)
    except BadSignatureError:
        raise IDTokenError("the ID token's signature does not verify: it was altered "
                           "or not made by the login service", check="signature") from None
    except UnsupportedAlgorithmError:
        raise IDTokenError("the ID token's alg is not one this site accepts",
                           check="alg") from None
    except (JoseError, ValueError, TypeError, RecursionError) as exc:
        raise IDTokenError(f"the ID token could not be read ({type(exc).__name__})",
                           check="format") from None
    return dict(decoded.claims)


def check_claims(claims: Mapping[str, Any], *, now: float, leeway: float,
                 expected: Mapping[str, Any]) -> None:
    """Validate the registered claims with joserfc at ``now`` (seconds):
    ``exp`` and ``iat`` present, ``exp``, ``nbf`` and ``iat`` within
    ``leeway``, and each of ``expected`` (claim name -> value) present with
    that value (``aud`` may be a list holding it). Raises IDTokenError whose
    check is the claim's name."""
    require()
    options: dict[str, Any] = {"exp": {"essential": True}, "iat": {"essential": True}}
    for name, value in expected.items():
        options[name] = {"essential": True, "value": value}
    for name in expected:  # joserfc lets a list hold the value: only aud may be one
        if name != "aud" and isinstance(claims.get(name), list | dict):
            raise IDTokenError(f"the ID token's {name} claim is not a single value",
                               check=name)
    registry = _jwt.JWTClaimsRegistry(now=now, leeway=leeway, **options)  # type: ignore[arg-type]
    try:
        registry.validate(dict(claims))
    except MissingClaimError as exc:
        missing = exc.claim.split(",")
        first = next((n for n in ("iss", "aud", "tid", "exp", "iat", "nonce") if n in missing),
                     missing[0])
        raise IDTokenError(f"the ID token has no {first} claim", check=first) from None
    except ExpiredTokenError:
        raise IDTokenError("the ID token has expired", check="exp") from None
    except ClaimError as exc:
        raise IDTokenError(f"the ID token's {exc.claim} claim is wrong: {exc.description}",
                           check=exc.claim) from None
    except (JoseError, ValueError, TypeError, OverflowError) as exc:  # never a 500
        raise IDTokenError(f"the ID token's claims could not be checked "
                           f"({type(exc).__name__})", check="format") from None


def sign(claims: Mapping[str, Any], key: Any, kid: str,
         header: Mapping[str, Any] | None = None) -> str:
    """A compact RS256 JWT of ``claims``, made by joserfc (for the local test
    provider and tests)."""
    require()
    head = {"typ": "JWT", "alg": "RS256", "kid": kid, **(header or {})}
    return _jwt.encode(head, dict(claims), rsa_key(key), algorithms=[head["alg"]])


def jwk_of(key: Any, kid: str) -> dict[str, str]:
    """The public JWK of an RSA key, as a JWKS lists it."""
    found = rsa_key(key)
    jwk = dict(found.as_dict(private=False))
    return {"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
            "n": jwk["n"], "e": jwk["e"]}


def parse_jwks(data: bytes) -> dict[str, Any]:
    """The RSA signing keys of a JWKS document, by kid, as joserfc keys.
    Keys of other types or uses, or too small, are left out; a document
    that is not a JWKS raises IDTokenError (check ``jwks``)."""
    require()
    try:
        document = json.loads(data.decode("utf-8"), cls=_StrictJSON)
    except (UnicodeDecodeError, ValueError, RecursionError):
        document = None
    if not isinstance(document, dict):
        raise IDTokenError("the login service's key set is not JSON", check="jwks")
    listed = document.get("keys")
    if not isinstance(listed, list):
        raise IDTokenError("the login service's key set has no keys list", check="jwks")
    keys: dict[str, Any] = {}
    for item in listed[:100]:
        if not isinstance(item, dict) or item.get("kty") != "RSA":
            continue
        alg = item.get("alg", "RS256")
        if item.get("use", "sig") != "sig" or not isinstance(alg, str) or alg not in ALGORITHMS:
            continue
        kid, n, e = item.get("kid"), item.get("n"), item.get("e")
        if not (isinstance(kid, str) and _KID.fullmatch(kid) and isinstance(n, str)
                and isinstance(e, str) and len(n) <= 2000 and len(e) <= 12):
            continue
        if kid in keys or any(name in item for name in ("d", "p", "q")):
            continue  # a repeated kid keeps the first; private parts: not a JWKS key
        try:  # too small a modulus is left out before joserfc would warn about it
            if int.from_bytes(b64url_decode(n, "modulus"), "big").bit_length() < MIN_RSA_BITS:
                continue
            keys[kid] = RSAKey.import_key({"kty": "RSA", "n": n, "e": e, "kid": kid})
        except (IDTokenError, JoseError, ValueError, TypeError):
            continue
    return keys
