"""Live Raven's kid-2 and the demo server's kid-901 certificates, as sites
really keep them: both have serial number 0, which ``cryptography`` warns
it will one day refuse. Only the public key inside is used, and it is read
without ``cryptography``'s certificate parser, so they load with no warning
whatever that parser comes to refuse."""

from __future__ import annotations

import base64
import shutil
import warnings
from pathlib import Path

import pytest

from raven import keys
from raven.errors import KeyLoadError
from raven.keys import _der
from raven.settings import Settings

CERTS = Path(__file__).parent / "certs"
LIVE_CRT = CERTS / "pubkey2.crt"
DEMO_CRT = CERTS / "pubkey901.crt"


@pytest.fixture(autouse=True)
def warnings_are_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def test_both_certificates_have_serial_number_zero():
    """What makes them awkward: the serial number INTEGER holds one 0 byte."""
    for path in (LIVE_CRT, DEMO_CRT):
        der = _der.certificate_der(path.read_bytes())
        assert b"\xa0\x03\x02\x01\x02\x02\x01\x00" in der[:16]  # version 3, then serial 0


def test_a_key_directory_with_both_certificates(tmp_path):
    shutil.copy(LIVE_CRT, tmp_path)
    shutil.copy(DEMO_CRT, tmp_path)
    listed = keys.describe_keys(tmp_path)
    assert [(k.kid, k.form, k.bits) for k in listed] == [
        ("2", "certificate", 1024), ("901", "certificate", 1024)]
    assert listed[0].fingerprint == keys.fingerprint(keys.LIVE_KEYS["2"])
    assert listed[1].fingerprint == keys.fingerprint(keys.DEMO_KEYS["901"])


def test_raven_key_dir_setting_with_the_live_certificate(tmp_path):
    shutil.copy(LIVE_CRT, tmp_path)
    settings = Settings.from_config({
        "RAVEN_WLS": "live", "RAVEN_KEY_DIR": str(tmp_path),
        "RAVEN_ORIGIN": "https://www.example.cam.ac.uk",
    })
    assert settings.wls.keys["2"].public_numbers() == keys.LIVE_KEYS["2"].public_numbers()


def test_ucamwebauth_certs_form_pem_text_by_kid():
    """django-ucamwebauth's UCAMWEBAUTH_CERTS: {kid: certificate PEM text}."""
    ring = keys.load_keys({2: LIVE_CRT.read_text(), 901: DEMO_CRT.read_text()})
    assert ring["2"].public_numbers() == keys.LIVE_KEYS["2"].public_numbers()
    assert ring["901"].public_numbers() == keys.DEMO_KEYS["901"].public_numbers()


def test_windows_line_ends_and_surrounding_text_are_read(tmp_path):
    """As a certificate pasted from an e-mail or saved on Windows comes."""
    text = "Raven public key 2, as published:\r\n" + LIVE_CRT.read_text().replace("\n", "\r\n")
    path = tmp_path / "pubkey2.crt"
    path.write_bytes(text.encode())
    assert keys.load_keys(path)["2"].public_numbers() == keys.LIVE_KEYS["2"].public_numbers()


def test_every_truncation_of_a_certificate_is_refused():
    der = _der.certificate_der(LIVE_CRT.read_bytes())
    for end in range(len(der)):
        with pytest.raises(_der.DERError):
            _der.subject_public_key_info(der[:end])


def test_trailing_bytes_after_a_certificate_are_refused():
    der = _der.certificate_der(DEMO_CRT.read_bytes())
    with pytest.raises(_der.DERError, match="after the certificate"):
        _der.subject_public_key_info(der + b"\x00")


@pytest.mark.parametrize("der, words", [
    pytest.param(b"\x30\x80\x00\x00", "indefinite length", id="indefinite-length"),
    pytest.param(b"\x30\x85\x00\x00\x00\x00\x01", "too large", id="five-byte-length"),
    pytest.param(b"\x30\x03\x02\x01\x00", "tag 0x02 where 0x30", id="no-signed-part"),
    pytest.param(b"\x1f\x01\x00", "multi-byte tag", id="high-tag"),
    pytest.param(b"\x30\x04\x30\x05\x02\x01", "longer than", id="child-overruns-parent"),
])
def test_malformed_der_is_refused_with_the_reason(der, words):
    with pytest.raises(_der.DERError, match=words):
        _der.subject_public_key_info(der)


def test_a_certificate_with_its_key_replaced_by_garbage_names_the_file(tmp_path):
    der = bytearray(_der.certificate_der(LIVE_CRT.read_bytes()))
    spki = _der.subject_public_key_info(bytes(der))
    at = bytes(der).index(spki)
    assert der[at + 3:at + 7] == b"\x30\x0d\x06\x09"  # AlgorithmIdentifier, OID
    der[at + 7:at + 16] = b"\x2a" * 9  # rsaEncryption becomes an unknown algorithm

    path = tmp_path / "pubkey2.crt"
    path.write_bytes(b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(bytes(der))
                     + b"-----END CERTIFICATE-----\n")
    with pytest.raises(KeyLoadError, match="certificate cannot be parsed") as caught:
        keys.load_keys(path)
    assert str(path) in str(caught.value)
