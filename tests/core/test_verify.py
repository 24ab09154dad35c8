"""raven.keys.verify against cryptography's own verify, on real and crafted signatures.

The crafted ones are made with the demo key's private numbers, so any
block OpenSSL could meet (a different hash, a DigestInfo without its NULL,
short or broken padding, trailing bytes) is a real RSA signature of it.
"""

import hashlib
from datetime import datetime

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

import raven.demoserver as demo
from raven.errors import SignatureError
from raven.keys import DEMO_KEYS, SigningKey, verify
from raven.protocol import decode_sig, encode_sig
from raven.testing import make_response

PRIVATE = SigningKey.demo().private_key
NUMBERS = PRIVATE.private_numbers()
N, D = NUMBERS.public_numbers.n, NUMBERS.d
SIZE = (N.bit_length() + 7) // 8
PUBLIC = DEMO_KEYS["901"]
SHA1_INFO = bytes.fromhex("3021300906052b0e03021a05000414")
SHA256_INFO = bytes.fromhex("3031300d060960864801650304020105000420")
DATA = b"3!200!!20130705T150000Z!1!http://h/!test0001!current!pwd!!!"


def reference(key, signature, data):
    try:
        key.verify(signature, data, padding.PKCS1v15(), hashes.SHA1())
    except InvalidSignature:
        return False
    return True


def raw_sign(block: bytes) -> bytes:
    """The RSA private operation on a whole block, whatever it holds."""
    assert len(block) == SIZE
    return pow(int.from_bytes(block, "big"), D, N).to_bytes(SIZE, "big")


def pkcs1(payload: bytes, block_type: bytes = b"\x01", fill: bytes = b"\xff") -> bytes:
    return b"\x00" + block_type + fill * (SIZE - 3 - len(payload)) + b"\x00" + payload


DIGEST = hashlib.sha1(DATA).digest()
CRAFTED = {
    "canonical": (raw_sign(pkcs1(SHA1_INFO + DIGEST)), True),
    "SHA-256 DigestInfo": (raw_sign(pkcs1(SHA256_INFO + hashlib.sha256(DATA).digest())), False),
    "DigestInfo without NULL": (
        raw_sign(pkcs1(bytes.fromhex("301f300706052b0e03021a0414") + DIGEST)), False),
    "bare digest": (raw_sign(pkcs1(DIGEST)), False),
    "block type 2": (raw_sign(pkcs1(SHA1_INFO + DIGEST, b"\x02", b"\x55")), False),
    "padding not all FF": (
        raw_sign(pkcs1(SHA1_INFO + DIGEST)[:20] + b"\xfe" + pkcs1(SHA1_INFO + DIGEST)[21:]),
        False),
    "trailing byte": (raw_sign(pkcs1(SHA1_INFO + DIGEST + b"\x00")), False),
    "other digest": (raw_sign(pkcs1(SHA1_INFO + hashlib.sha1(b"other").digest())), False),
    "no zero after padding": (
        raw_sign(b"\x00\x01" + b"\xff" * (SIZE - 2 - 35) + SHA1_INFO + DIGEST), False),
    "zero": (bytes(SIZE), False),
    "one": ((1).to_bytes(SIZE, "big"), False),
    "modulus": (N.to_bytes(SIZE, "big"), False),
    "all FF, beyond the modulus": (b"\xff" * SIZE, False),
    "empty": (b"", False),
}


@pytest.mark.parametrize("name", CRAFTED)
def test_crafted_signatures_agree_with_cryptography(name):
    signature, expected = CRAFTED[name]
    assert verify(PUBLIC, signature, DATA) is expected
    assert reference(PUBLIC, signature, DATA) is expected


def test_the_crafted_canonical_signature_is_what_signing_makes():
    assert CRAFTED["canonical"][0] == PRIVATE.sign(DATA, padding.PKCS1v15(), hashes.SHA1())


def test_changed_signatures_and_data_agree_with_cryptography():
    signature = PRIVATE.sign(DATA, padding.PKCS1v15(), hashes.SHA1())
    assert verify(PUBLIC, signature, DATA) and reference(PUBLIC, signature, DATA)
    variants = [bytes([b ^ (1 << bit)]) for b in signature[:1] for bit in range(8)]
    changed = [v + signature[1:] for v in variants]
    changed += [signature[:i] + bytes([signature[i] ^ 0x80]) + signature[i + 1:]
                for i in range(0, SIZE, 7)]
    changed += [signature[:-1], signature + b"\x00", b"\x00" + signature, signature[1:]]
    for bad in changed:
        assert verify(PUBLIC, bad, DATA) is False
        assert reference(PUBLIC, bad, DATA) is False
    for data in (DATA[:-1], DATA + b"!", b"", DATA.replace(b"test0001", b"test0002")):
        assert verify(PUBLIC, signature, data) is False
        assert reference(PUBLIC, signature, data) is False


def test_another_keys_signature_agrees_with_cryptography():
    other = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    signature = other.sign(DATA, padding.PKCS1v15(), hashes.SHA1())
    assert verify(other.public_key(), signature, DATA) is True
    assert verify(PUBLIC, signature, DATA) is False
    assert reference(PUBLIC, signature, DATA) is False


def test_a_2048_bit_key_verifies_too():
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    signature = other.sign(DATA, padding.PKCS1v15(), hashes.SHA1())
    assert len(signature) == 256
    assert verify(other.public_key(), signature, DATA) is True
    assert verify(other.public_key(), signature, DATA + b"x") is False


def _response_whose_signature_starts_with_zero():
    for i in range(20000):  # about one in 200 does; the search is deterministic
        text = make_response("http://h/", issue=datetime(2013, 7, 5, 15, 0, 0), id=str(i))
        if decode_sig(text.rsplit("!", 1)[1])[0] == 0:
            return text
    raise AssertionError("no signature with a leading zero byte found")


def test_a_signature_with_a_leading_zero_byte_has_one_spelling():
    text = _response_whose_signature_starts_with_zero()
    body, sig = text.rsplit("!", 1)
    assert demo.Response(text).signed
    short = decode_sig(sig)[1:]  # the same number in 127 bytes
    assert pow(int.from_bytes(short, "big"), 65537, N) == pow(
        int.from_bytes(decode_sig(sig), "big"), 65537, N)
    with pytest.raises(SignatureError):
        demo.Response(f"{body}!{encode_sig(short)}")
    assert reference(PUBLIC, short, body.rsplit("!", 1)[0].encode()) is False
