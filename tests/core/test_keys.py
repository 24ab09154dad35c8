import hashlib

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

import raven
import raven.demoserver as demo
from raven import keys
from raven.testing import make_response


@pytest.mark.parametrize("key, fingerprint", [
    (keys.LIVE_KEYS["2"], "71e70a79de32b5e8154b7f32aae2807d90cd723608fe4b98328eccbf6749a97a"),
    (keys.DEMO_KEYS["901"], "a0a28484963b0419822a12c5a5b4d629719b421b8b0f86fbab863680c336cb23"),
])
def test_shipped_keys_are_the_published_ones(key, fingerprint):
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    assert hashlib.sha256(der).hexdigest() == fingerprint


def test_live_trusts_kid_2_only_and_demo_kid_901_only():
    assert set(raven.Response.keys) == {"2"}
    assert set(demo.Response.keys) == {"901"}


def test_demo_private_key_matches_demo_public_key():
    assert (keys.SigningKey.demo().public_key.public_numbers()
            == keys.DEMO_KEYS["901"].public_numbers())


def test_signing_as_live_raven_is_refused():
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(ValueError):
        keys.SigningKey(key, "2")


@pytest.mark.parametrize("kid", ["abc", "07", ""])
def test_signing_key_needs_a_well_formed_kid(kid):
    with pytest.raises(ValueError):
        keys.SigningKey.from_pem(keys.DEMO_PRIVATE_KEY_PEM, kid)


def test_keyring_from_mapping_and_directory(tmp_path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    (tmp_path / "pubkey17").write_bytes(pem)
    (tmp_path / "pubkey2.pem").write_text(raven.PUBKEY2)
    (tmp_path / "README").write_text("not a key")
    ring = keys.keyring_from_directory(tmp_path)
    assert set(ring) == {"17", "2"}
    signer = keys.SigningKey(key, "17")
    r = raven.Response(make_response("http://h/", signing_key=signer), keys=ring)
    assert r.kid == "17"


@pytest.mark.parametrize("bad", [{"01": raven.PUBKEY2}, {"x": raven.PUBKEY2}, {"3": "nope"}])
def test_bad_keyrings_are_refused(bad):
    with pytest.raises(ValueError):
        keys.keyring(bad)


def test_empty_key_directory_is_refused(tmp_path):
    with pytest.raises(ValueError):
        keys.keyring_from_directory(tmp_path)


def test_subclass_trusting_another_key():
    key = keys.SigningKey(rsa.generate_private_key(public_exponent=65537, key_size=1024), "42")

    class MyResponse(raven.Response):
        keys = keys.keyring({"42": key.public_key})

    assert MyResponse(make_response("http://h/", signing_key=key)).kid == "42"
    with pytest.raises(raven.UnknownKeyError):
        MyResponse(make_response("http://h/"))
