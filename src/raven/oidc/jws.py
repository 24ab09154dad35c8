"""The JSON Web Signature (JWS) subset an OpenID Connect relying party needs:
compact serialisation, RS256 only, keys as JWKs.

Written narrowly on purpose: one algorithm, chosen by configuration and
never by the token; the header is read only to find the key. The RSA and
SHA-256 work is done by the ``cryptography`` package.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from .errors import IDTokenError

__all__ = [
    "ALGORITHMS", "MAX_TOKEN_LENGTH", "MIN_RSA_BITS", "b64url_decode", "b64url_encode",
    "jwk_of", "parse_jwks", "read_header", "sign", "verify",
]

#: The algorithms this module can verify. A site chooses among them.
ALGORITHMS = frozenset({"RS256"})
#: Entra's ID tokens are a few kilobytes; a group-heavy one maybe 10.
MAX_TOKEN_LENGTH = 32_768
MIN_RSA_BITS = 2048
_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_KID = re.compile(r"[\x21-\x7e]{1,200}")


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def b64url_decode(text: str, what: str = "value") -> bytes:
    """Unpadded base64url, strictly: other alphabets, padding and
    non-canonical trailing bits are refused."""
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise IDTokenError(f"the {what} is not base64url", check="format")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise IDTokenError(f"the {what} is not base64url", check="format") from None
    if b64url_encode(data) != text:
        raise IDTokenError(f"the {what} is not canonical base64url", check="format")
    return data


def _json_object(data: bytes, what: str) -> dict[str, Any]:
    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result = dict(pairs)
        if len(result) != len(pairs):
            raise ValueError("duplicate member")
        return result

    try:
        value = json.loads(data.decode("utf-8"), object_pairs_hook=no_duplicates,
                           parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise IDTokenError(f"the {what} is not a JSON object", check="format") from None
    if not isinstance(value, dict):
        raise IDTokenError(f"the {what} is not a JSON object", check="format")
    return value


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _split(token: object) -> tuple[str, str, str]:
    if not isinstance(token, str) or not token.isascii():
        raise IDTokenError("the ID token is not a string of ASCII characters", check="format")
    if len(token) > MAX_TOKEN_LENGTH:
        raise IDTokenError(f"the ID token is longer than {MAX_TOKEN_LENGTH} characters",
                           check="format")
    parts = token.split(".")
    if len(parts) != 3:
        raise IDTokenError("the ID token is not a signed JWT (three parts separated by dots)",
                           check="format")
    return parts[0], parts[1], parts[2]


def read_header(token: object, algorithms: Iterable[str]) -> tuple[str, dict[str, Any]]:
    """The key id and header of a compact JWS, once its header passes:
    ``alg`` one of ``algorithms`` (never ``none``, never HMAC), a ``kid``,
    no ``crit`` extension, ``typ`` JWT if given. Raises IDTokenError."""
    header_part, _, _ = _split(token)
    header = _json_object(b64url_decode(header_part, "ID token's header"), "ID token's header")
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in algorithms or alg not in ALGORITHMS:
        raise IDTokenError(
            f"the ID token is signed with alg {str(alg)[:20]!r}; this site accepts "
            f"{', '.join(sorted(set(algorithms) & ALGORITHMS)) or 'nothing'}", check="alg")
    if "crit" in header:
        raise IDTokenError("the ID token's header has critical extensions we do not know",
                           check="format")
    typ = header.get("typ", "JWT")
    if not isinstance(typ, str) or typ.upper() not in ("JWT", "APPLICATION/JWT"):
        raise IDTokenError("the ID token's typ is not JWT", check="format")
    kid = header.get("kid")
    if not isinstance(kid, str) or not _KID.fullmatch(kid):
        raise IDTokenError("the ID token names no usable key (kid)", check="kid")
    return kid, header


def verify(token: str, key: rsa.RSAPublicKey, algorithms: Iterable[str]) -> dict[str, Any]:
    """The claims of ``token`` if it is signed by ``key`` with one of
    ``algorithms``; IDTokenError otherwise. Only the signature and the
    format are checked here: the claims are the caller's."""
    read_header(token, algorithms)
    header_part, payload_part, signature_part = _split(token)
    signature = b64url_decode(signature_part, "ID token's signature")
    if len(signature) != key.key_size // 8 + (1 if key.key_size % 8 else 0):
        raise IDTokenError("the ID token's signature has the wrong length", check="signature")
    try:
        key.verify(signature, f"{header_part}.{payload_part}".encode("ascii"),
                   padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise IDTokenError("the ID token's signature does not verify: it was altered "
                           "or not made by the login service", check="signature") from None
    return _json_object(b64url_decode(payload_part, "ID token's claims"), "ID token's claims")


def sign(claims: Mapping[str, Any], key: rsa.RSAPrivateKey, kid: str,
         header: Mapping[str, Any] | None = None) -> str:
    """A compact RS256 JWS of ``claims`` (for the local test provider and tests)."""
    head = {"typ": "JWT", "alg": "RS256", "kid": kid, **(header or {})}
    signing_input = (b64url_encode(json.dumps(head, separators=(",", ":")).encode())
                     + "." + b64url_encode(json.dumps(dict(claims), separators=(",", ":"))
                                           .encode()))
    signature = key.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64url_encode(signature)}"


def _uint(value: int) -> str:
    return b64url_encode(value.to_bytes((value.bit_length() + 7) // 8 or 1, "big"))


def jwk_of(key: rsa.RSAPublicKey, kid: str) -> dict[str, str]:
    """The public JWK of an RSA key, as a JWKS lists it."""
    numbers = key.public_numbers()
    return {"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
            "n": _uint(numbers.n), "e": _uint(numbers.e)}


def parse_jwks(data: bytes) -> dict[str, rsa.RSAPublicKey]:
    """The RSA signing keys of a JWKS document, by kid. Keys of other types
    or uses, or too small, are left out; a document that is not a JWKS
    raises IDTokenError (check ``jwks``)."""
    try:
        document = _json_object(data, "JWKS")
    except IDTokenError:
        raise IDTokenError("the login service's key set is not JSON", check="jwks") from None
    listed = document.get("keys")
    if not isinstance(listed, list):
        raise IDTokenError("the login service's key set has no keys list", check="jwks")
    keys: dict[str, rsa.RSAPublicKey] = {}
    for item in listed[:100]:
        if not isinstance(item, dict) or item.get("kty") != "RSA":
            continue
        if item.get("use", "sig") != "sig" or item.get("alg", "RS256") not in ALGORITHMS:
            continue
        kid, n, e = item.get("kid"), item.get("n"), item.get("e")
        if not (isinstance(kid, str) and _KID.fullmatch(kid) and isinstance(n, str)
                and isinstance(e, str) and len(n) <= 2000 and len(e) <= 12):
            continue
        try:
            modulus = int.from_bytes(b64url_decode(n, "key's modulus"), "big")
            exponent = int.from_bytes(b64url_decode(e, "key's exponent"), "big")
            key = rsa.RSAPublicNumbers(exponent, modulus).public_key()
        except (IDTokenError, ValueError):
            continue
        if key.key_size >= MIN_RSA_BITS and kid not in keys:
            keys[kid] = key
    return keys
