"""RSA keys: the ones we ship, the ones users add, and signing for tests.

Keys are parsed once (at import or configuration), never per response.
A *keyring* is a plain ``dict`` from kid (the decimal string found in a
response) to a loaded public key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from ..protocol import encode_sig

Keyring = dict[str, RSAPublicKey]

_PADDING = padding.PKCS1v15()
_SHA1 = hashes.SHA1()  # the protocol's choice, not ours


def _read(name: str) -> str:
    return resources.files(__name__).joinpath(name).read_text("ascii")


#: Live Raven's public key (kid 2), PEM text.
PUBKEY2 = _read("pubkey2.pem")
#: The hosted demo server's public key (kid 901), PEM text.
PUBKEY901 = _read("pubkey901.pem")
#: The demo server's private key, which the University published for
#: testing. Anything it signs proves nothing: tests and the local WLS only.
DEMO_PRIVATE_KEY_PEM = _read("demo901-private.pem")
DEMO_KID = "901"
LIVE_KID = "2"

_KID = re.compile(r"[1-9][0-9]{0,7}")


def load_public_key(pem: str | bytes) -> RSAPublicKey:
    """Load a PEM public key (``RSA PUBLIC KEY`` or ``PUBLIC KEY``), or the
    key of a PEM certificate (as Raven also publishes its keys: only the key
    is used; the certificate's dates and issuer mean nothing here)."""
    data = pem.encode("ascii") if isinstance(pem, str) else pem
    try:
        if b"-----BEGIN CERTIFICATE-----" in data:
            key = x509.load_pem_x509_certificate(data).public_key()
        else:
            key = serialization.load_pem_public_key(data)
    except ValueError as exc:
        raise ValueError(f"not a PEM public key or certificate: {exc}") from None
    if not isinstance(key, RSAPublicKey):
        raise ValueError("Ucam-WebAuth keys are RSA keys")
    return key


def keyring(keys: Mapping[str | int, str | bytes | RSAPublicKey]) -> Keyring:
    """Build a keyring from kid → PEM text (or already loaded key)."""
    ring: Keyring = {}
    for kid, key in keys.items():
        kid = str(kid)
        if not _KID.fullmatch(kid):
            raise ValueError(f"kid {kid!r} must be a number with no leading zeros")
        ring[kid] = key if isinstance(key, RSAPublicKey) else load_public_key(key)
    return ring


def keyring_from_directory(path: str | Path) -> Keyring:
    """Trust every ``pubkeyNNN`` (or ``pubkeyNNN.pem``) file in a directory,

    the layout of mod_ucam_webauth's AAKeyDir.
    """
    found = {}
    for file in Path(path).iterdir():
        match = re.fullmatch(r"pubkey([1-9][0-9]{0,7})(?:\.pem)?", file.name)
        if match:
            found[match.group(1)] = file.read_bytes()
    if not found:
        raise ValueError(f"no pubkeyNNN files in {path}")
    return keyring(found)


LIVE_KEYS: Keyring = keyring({LIVE_KID: PUBKEY2})
DEMO_KEYS: Keyring = keyring({DEMO_KID: PUBKEY901})


def verify(key: RSAPublicKey, signature: bytes, data: bytes) -> bool:
    """RSASSA-PKCS1-v1_5 with SHA-1, as the protocol fixes."""
    try:
        key.verify(signature, data, _PADDING, _SHA1)
    except InvalidSignature:
        return False
    return True


class SigningKey:
    """A private key and its kid, for the local WLS and test helpers only."""

    def __init__(self, private_key: RSAPrivateKey, kid: str = DEMO_KID) -> None:
        self.private_key = private_key
        self.kid = str(kid)
        if not _KID.fullmatch(self.kid):
            raise ValueError(f"kid {self.kid!r} must be a number with no leading zeros")
        live = LIVE_KEYS[LIVE_KID].public_numbers()
        if self.kid == LIVE_KID or private_key.public_key().public_numbers() == live:
            raise ValueError("refusing to sign as live Raven (kid 2)")

    @classmethod
    def from_pem(cls, pem: str | bytes, kid: str | int) -> SigningKey:
        data = pem.encode("ascii") if isinstance(pem, str) else pem
        key = serialization.load_pem_private_key(data, password=None)
        if not isinstance(key, RSAPrivateKey):
            raise ValueError("Ucam-WebAuth keys are RSA keys")
        return cls(key, str(kid))

    @classmethod
    def demo(cls) -> SigningKey:
        """The published demo key (kid 901)."""
        return _demo_signing_key()

    @property
    def public_key(self) -> RSAPublicKey:
        return self.private_key.public_key()

    def sign(self, data: bytes) -> str:
        """The signature in the protocol's base64 variant."""
        return encode_sig(self.private_key.sign(data, _PADDING, _SHA1))


_demo: list[SigningKey] = []


def _demo_signing_key() -> SigningKey:
    if not _demo:  # parsed on first use: live applications never load it
        _demo.append(SigningKey.from_pem(DEMO_PRIVATE_KEY_PEM, DEMO_KID))
    return _demo[0]
