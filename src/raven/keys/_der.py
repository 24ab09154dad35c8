"""The public key of an X.509 certificate, read with a small DER reader.

Only the ``subjectPublicKeyInfo`` field of a certificate is used: Raven's
certificates are self-signed containers for one RSA key, and nothing else
in them (issuer, dates, serial number, signature) is checked or trusted.
Live Raven's kid-2 certificate and the demo server's kid-901 one have
serial number 0, which RFC 5280 forbids and which ``cryptography`` warns it
will refuse; reading the one field here keeps them loading whatever
``cryptography``'s certificate parser comes to refuse.

The reader takes definite-length DER only and checks that every length
stays inside its parent, so a hostile file can only be refused.
"""

from __future__ import annotations

import base64
import binascii
import re

_SEQUENCE = 0x30
_INTEGER = 0x02
_VERSION = 0xA0  # [0] EXPLICIT Version
_PEM_CERTIFICATE = re.compile(
    rb"-----BEGIN CERTIFICATE-----\r?\n(.*?)-----END CERTIFICATE-----", re.DOTALL
)


class DERError(ValueError):
    """The bytes are not the DER certificate they should be."""


def _element(data: bytes, pos: int, end: int) -> tuple[int, int, int]:
    """The element at ``pos``: ``(tag, content start, content end)``; it
    must end by ``end``."""
    if pos + 2 > end:
        raise DERError("truncated")
    tag = data[pos]
    if tag & 0x1F == 0x1F:
        raise DERError("a multi-byte tag, which no certificate field uses")
    first = data[pos + 1]
    pos += 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0:
            raise DERError("an indefinite length, which DER forbids")
        if count > 4 or pos + count > end:
            raise DERError("a length too large")
        length = int.from_bytes(data[pos:pos + count], "big")
        pos += count
    if pos + length > end:
        raise DERError("an element longer than what holds it")
    return tag, pos, pos + length


def _expect(data: bytes, pos: int, end: int, tag: int, what: str) -> tuple[int, int]:
    found, start, stop = _element(data, pos, end)
    if found != tag:
        raise DERError(f"{what}: tag 0x{found:02x} where 0x{tag:02x} belongs")
    return start, stop


def subject_public_key_info(der: bytes) -> bytes:
    """The DER ``SubjectPublicKeyInfo`` of a DER X.509 certificate.

    Raises :class:`DERError` if the certificate's outline (a SEQUENCE
    holding the to-be-signed SEQUENCE, whose seventh field, counting the
    optional version, is the key) is not there.
    """
    start, end = _expect(der, 0, len(der), _SEQUENCE, "the certificate")
    if end != len(der):
        raise DERError("bytes after the certificate")
    pos, tbs_end = _expect(der, start, end, _SEQUENCE, "the signed part")
    if _element(der, pos, tbs_end)[0] == _VERSION:
        pos = _element(der, pos, tbs_end)[2]
    # serialNumber, signature, issuer, validity, subject: skipped unread
    for tag, what in ((_INTEGER, "the serial number"), (_SEQUENCE, "the signature algorithm"),
                      (_SEQUENCE, "the issuer"), (_SEQUENCE, "the validity"),
                      (_SEQUENCE, "the subject")):
        pos = _expect(der, pos, tbs_end, tag, what)[1]
    key_end = _expect(der, pos, tbs_end, _SEQUENCE, "the public key")[1]
    return der[pos:key_end]


def certificate_der(pem: bytes) -> bytes:
    """The DER inside one PEM ``CERTIFICATE`` block."""
    match = _PEM_CERTIFICATE.search(pem)
    if match is None:
        raise DERError("no '-----END CERTIFICATE-----' line after the BEGIN line")
    body = b"".join(match.group(1).split())
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise DERError("its base64 is broken") from None
