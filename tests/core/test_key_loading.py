"""Loading operators' keys: the AAKeyDir layout, Raven's certificate form,
explicit mappings, and every way a key file can be wrong."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

import raven
from raven import keys
from raven.errors import KeyLoadError
from raven.testing import make_response

URL = "http://h/"


def numbers(private_key):
    return private_key.public_key().public_numbers()


def signed_by(private_key, kid):
    return make_response(URL, signing_key=keys.SigningKey(private_key, kid))


# --- the forms a key comes in -------------------------------------------------------


def test_a_key_directory_in_all_three_forms(key_files):
    k2, k3, k4 = (key_files.private() for _ in range(3))
    key_files.write("pubkey12", k2, "pkcs1")
    key_files.write("pubkey13.pem", k3, "spki")
    key_files.write("pubkey14.crt", k4, "cert")
    (key_files.directory / "README").write_text("not a key")
    key_files.write("pubkey5.txt", key_files.private())  # renamed by a download: not a key file
    key_files.write("pubkey06", key_files.private())  # not a kid
    ring = keys.keyring_from_directory(key_files.directory)
    assert list(ring) == ["12", "13", "14"]
    for kid, private in (("12", k2), ("13", k3), ("14", k4)):
        assert ring[kid].public_numbers() == numbers(private)
        assert raven.Response(signed_by(private, kid), keys=ring).kid == kid
    with pytest.raises(raven.SignatureError):  # each kid is its own key
        raven.Response(signed_by(k3, "12"), keys=ring)


def test_describe_keys_says_where_each_came_from(key_files):
    big = key_files.private(2048)
    key_files.write("pubkey10.crt", big, "cert")
    key_files.write("pubkey9", key_files.private())
    listed = keys.describe_keys(key_files.directory)
    assert [k.kid for k in listed] == ["9", "10"]  # in kid order, not name order
    ten = listed[1]
    assert (ten.bits, ten.exponent, ten.form) == (2048, 65537, "certificate")
    assert ten.source == str(key_files.directory / "pubkey10.crt")
    assert ten.fingerprint == keys.fingerprint(big.public_key())
    assert listed[0].form == "public key"


@pytest.mark.parametrize("make_spec", [
    pytest.param(lambda d: str(d), id="directory-str"),
    pytest.param(lambda d: d, id="directory-path"),
    pytest.param(lambda d: str(d / "pubkey7.crt"), id="file-str"),
    pytest.param(lambda d: d / "pubkey7.crt", id="file-path"),
    pytest.param(lambda d: [d / "pubkey7.crt"], id="list"),
    pytest.param(lambda d: {"7": str(d / "pubkey7.crt")}, id="mapping-to-str-path"),
    pytest.param(lambda d: {7: d / "pubkey7.crt"}, id="mapping-to-path"),
    pytest.param(lambda d: {"7": (d / "pubkey7.crt").read_text()}, id="mapping-to-pem-str"),
    pytest.param(lambda d: {"7": (d / "pubkey7.crt").read_bytes()}, id="mapping-to-pem-bytes"),
])
def test_load_keys_takes_every_form_of_setting(key_files, make_spec):
    private = key_files.private()
    key_files.write("pubkey7.crt", private, "cert")
    ring = keys.load_keys(make_spec(key_files.directory))
    assert list(ring) == ["7"]
    assert ring["7"].public_numbers() == numbers(private)


def test_load_keys_several_kids_for_a_rollover(key_files):
    old, new = key_files.private(), key_files.private()
    old_file = key_files.write("pubkey12.crt", old, "cert")
    new_file = key_files.write("raven-2025.pem", new, "spki")  # any name, with its kid given
    ring = keys.load_keys({"12": str(old_file), "13": new_file})
    assert list(ring) == ["12", "13"]
    assert raven.Response(signed_by(old, "12"), keys=ring).kid == "12"
    assert raven.Response(signed_by(new, "13"), keys=ring).kid == "13"
    listed = keys.load_keys([old_file, key_files.write("pubkey13", new)])
    assert list(listed) == ["12", "13"]


def test_keyring_takes_pem_paths_and_loaded_keys(key_files):
    a, b, c = (key_files.private() for _ in range(3))
    ring = keys.keyring({
        "1": key_files.pem(a, "cert").decode(),
        "2": str(key_files.write("a-key", b)),
        "3": c.public_key(),
    })
    assert [ring[k].public_numbers() for k in "123"] == [numbers(a), numbers(b), numbers(c)]


def test_load_public_key_takes_a_certificate(key_files):
    private = key_files.private()
    key = keys.load_public_key(key_files.pem(private, "cert"))
    assert key.public_numbers() == numbers(private)


@pytest.mark.parametrize("name, kid", [
    ("pubkey2", "2"), ("pubkey2.pem", "2"), ("pubkey2.crt", "2"), ("/etc/raven/pubkey17.crt", "17"),
    ("pubkey02", None), ("pubkey2.txt", None), ("pubkey", None), ("pubkey2.crt.bak", None),
    ("Pubkey2", None), ("key2.pem", None), ("pubkey0", None),
])
def test_kid_from_filename(name, kid):
    assert keys.kid_from_filename(name) == kid


# --- fingerprints --------------------------------------------------------------------


@pytest.mark.parametrize("key, expected", [
    # As printed by: openssl pkey -pubin -in FILE -outform DER | sha256sum
    (keys.LIVE_KEYS["2"], "813ab90a52018aff372740e1baa571273d3573fff8d908952a87c19093522afd"),
    (keys.DEMO_KEYS["901"], "d61f4109c85e19bf58a4e7efaf822a4cf1b97a1dd25dcdd363b6d2386ec41a77"),
])
def test_fingerprint_of_the_shipped_keys(key, expected):
    assert keys.fingerprint(key) == expected


def test_fingerprint_is_the_key_not_the_file_form(key_files):
    private = key_files.private()
    forms = {keys.fingerprint(keys.load_public_key(key_files.pem(private, form)))
             for form in ("pkcs1", "spki", "cert")}
    der = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert forms == {hashlib.sha256(der).hexdigest()}
    assert keys.fingerprint(key_files.private().public_key()) not in forms


def test_keyring_fingerprint_names_the_key_set():
    live, demo = keys.LIVE_KEYS["2"], keys.DEMO_KEYS["901"]
    both = keys.keyring_fingerprint({"2": live, "901": demo})
    assert both == keys.keyring_fingerprint({"901": demo, "2": live})  # order is no matter
    assert len(both) == 64 and int(both, 16) >= 0
    others = {
        keys.keyring_fingerprint({"2": live}),
        keys.keyring_fingerprint({"3": live, "901": demo}),  # same keys, other kid
        keys.keyring_fingerprint({"2": demo, "901": live}),  # kids swapped
    }
    assert both not in others and len(others) == 3


# --- refusals -------------------------------------------------------------------------


def refused(spec, *words):
    """``load_keys(spec)`` fails with a KeyLoadError whose message holds ``words``."""
    with pytest.raises(KeyLoadError) as info:
        keys.load_keys(spec)
    assert type(info.value) is KeyLoadError  # never a raw OSError or UnicodeDecodeError
    assert isinstance(info.value, ValueError)
    message = str(info.value)
    assert "\n" not in message
    for word in words:
        assert str(word) in message, message
    return message


def test_a_small_key_is_refused(key_files):
    small = key_files.private(512)
    assert small.key_size == 512
    path = key_files.write("pubkey2", small)
    refused(path, path, "512-bit", "1024")
    refused({"2": small.public_key()}, "kid 2", "512-bit")


def test_a_key_just_big_enough_is_loaded(key_files):
    path = key_files.write("pubkey2", key_files.private(1024))
    assert keys.describe_keys(path)[0].bits == 1024


def test_an_exponent_other_than_65537_is_refused(key_files):
    e3 = key_files.private(1024, exponent=3)
    path = key_files.write("pubkey2.crt", e3, "cert")
    refused(path, path, "exponent 3", "65537")


def test_two_files_for_one_kid_are_refused(key_files):
    key = key_files.private()
    a = key_files.write("pubkey2", key)
    b = key_files.write("pubkey2.crt", key, "cert")  # even the same key: which is meant?
    refused(key_files.directory, "kid 2", a, b)
    refused({"2": key.public_key(), 2: key.public_key()}, "kid 2")
    refused([a, b], "kid 2", a, b)


def test_a_file_named_for_another_kid_is_refused(key_files):
    path = key_files.write("pubkey3.crt", key_files.private(), "cert")
    refused({"2": path}, path, "kid 3", "kid 2")


def test_a_file_whose_name_gives_no_kid_needs_one(key_files):
    path = key_files.write("raven.pem", key_files.private())
    refused(path, path, "kid", "pubkeyN")


def test_a_directory_where_a_file_was_expected(key_files, tmp_path):
    (tmp_path / "pubkey2").mkdir()
    refused({"2": tmp_path / "pubkey2"}, tmp_path / "pubkey2", "a directory")
    refused(tmp_path, tmp_path / "pubkey2", "a directory")
    with pytest.raises(KeyLoadError, match="a directory, not a key file"):
        keys.load_key_file(tmp_path / "pubkey2")


def test_a_file_where_a_directory_was_expected(key_files):
    path = key_files.write("pubkey2", key_files.private())
    with pytest.raises(KeyLoadError, match="a file, not a directory"):
        keys.keyring_from_directory(path)


def test_missing_files_and_directories(tmp_path):
    refused(tmp_path / "pubkey2", tmp_path / "pubkey2", "no such file")
    refused({"2": str(tmp_path / "nope.crt")}, tmp_path / "nope.crt", "no such file")
    with pytest.raises(KeyLoadError, match="no such directory"):
        keys.keyring_from_directory(tmp_path / "none")


def test_a_broken_link_is_a_missing_file(tmp_path):
    (tmp_path / "pubkey2").symlink_to(tmp_path / "gone")
    refused(tmp_path, tmp_path / "pubkey2", "no such file")


def test_a_link_to_a_key_is_followed(key_files, tmp_path):
    private = key_files.private()
    target = key_files.write("keys/current.crt", private, "cert")
    (tmp_path / "pubkey2.crt").symlink_to(target)
    assert keys.load_keys(tmp_path / "pubkey2.crt")["2"].public_numbers() == numbers(private)


def test_a_directory_without_key_files_names_near_misses(key_files):
    key_files.write("pubkey2.txt", key_files.private())
    (key_files.directory / "notes").write_text("hello")
    refused(key_files.directory, key_files.directory, "no key files", "pubkey2.txt")


def test_an_empty_directory(tmp_path):
    message = refused(tmp_path, tmp_path, "no key files")
    assert "not named" not in message


def _outcome_as_another_user(spec) -> str:
    """``load_keys(spec)`` run as an unprivileged user: root reads anything."""
    def attempt() -> str:
        try:
            keys.load_keys(spec)
        except KeyLoadError as exc:
            return f"KeyLoadError: {exc}"
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            return f"{type(exc).__name__}: {exc}"
        return "loaded"

    if os.geteuid() != 0:
        return attempt()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: drop to nobody, try, report, leave
        try:
            os.close(read_end)
            os.setgid(65534)
            os.setuid(65534)
            os.write(write_end, attempt().encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        outcome = pipe.read().decode()
    os.waitpid(pid, 0)
    return outcome


@pytest.fixture
def open_dir(key_files):
    """A directory others can enter (pytest's own are private to their user)."""
    path = Path(tempfile.mkdtemp())
    path.chmod(0o755)
    yield path
    for p in [path, *path.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)
    shutil.rmtree(path)


def test_an_unreadable_file(key_files, open_dir):
    path = key_files.write("pubkey2", key_files.private(), directory=open_dir)
    path.chmod(0o644)
    assert _outcome_as_another_user(path) == "loaded"  # readable: the test can tell
    path.chmod(0o000)
    outcome = _outcome_as_another_user(path)
    assert outcome.startswith("KeyLoadError: "), outcome
    assert str(path) in outcome and "permission denied" in outcome


def test_an_unreadable_directory(key_files, open_dir):
    key_files.write("pubkey2", key_files.private(), directory=open_dir)
    open_dir.chmod(0o300)  # can enter, cannot list
    outcome = _outcome_as_another_user(open_dir)
    assert outcome.startswith("KeyLoadError: "), outcome
    assert str(open_dir) in outcome and "permission denied" in outcome


@pytest.mark.parametrize("content, words", [
    pytest.param(b"hello, world\n", ["not a PEM public key or certificate"], id="text"),
    pytest.param(b"\xff\xfe\x80 not utf-8", ["not a PEM public key"], id="not-utf8"),
    pytest.param(b"", ["empty"], id="empty"),
    pytest.param(b"  \n\n", ["empty"], id="blank"),
    pytest.param(b"0\x82\x01\x0a\x00\x01", ["binary", "DER"], id="der"),
    pytest.param(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
                 ["certificate cannot be parsed"], id="broken-certificate"),
    pytest.param(b"-----BEGIN CERTIFICATE-----\n" + b"QUJD" * 40 + b"\n-----END CERTIFICATE-----\n",
                 ["certificate cannot be parsed"], id="certificate-of-garbage"),
    pytest.param(b"-----BEGIN RSA PUBLIC KEY-----\nAAAA\n-----END RSA PUBLIC KEY-----\n",
                 ["not a valid PEM public key"], id="broken-key"),
    pytest.param(b"-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n",
                 ["X509 CRL", "not a public key"], id="other-pem"),
])
def test_files_that_are_not_keys(tmp_path, content, words):
    path = tmp_path / "pubkey2.crt"
    path.write_bytes(content)
    refused(tmp_path, path, *words)


def test_a_huge_file_is_refused_unread(tmp_path):
    path = tmp_path / "pubkey2"
    with open(path, "wb") as fh:
        fh.truncate(1 << 30)  # a sparse gigabyte
    refused(path, path, "too large")


def test_a_pipe_is_refused_without_waiting(tmp_path):
    os.mkfifo(tmp_path / "pubkey2")  # opening it would block until a writer came
    refused(tmp_path, tmp_path / "pubkey2", "not a regular file")


def test_a_private_key_is_refused_without_showing_it(key_files):
    private = key_files.private()
    pem = private.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption())
    path = key_files.directory / "pubkey2"
    path.write_bytes(pem)
    message = refused(path, path, "private key")
    assert pem.decode().splitlines()[1][:20] not in message


def test_two_keys_in_one_file_are_refused(key_files):
    path = key_files.directory / "pubkey2.pem"
    path.write_bytes(key_files.pem(key_files.private()) + key_files.pem(key_files.private()))
    refused(path, path, "2 PEM blocks")


@pytest.mark.parametrize("form", ["spki", "cert"])
def test_a_key_that_is_not_rsa_is_refused(key_files, form):
    private = ec.generate_private_key(ec.SECP256R1())
    path = key_files.directory / "pubkey2.crt"
    path.write_bytes(key_files.pem(private, form))
    refused(path, path, "not an RSA key but EC")
    refused({"2": private.public_key()}, "kid 2", "not an RSA key but EC")


def test_a_private_key_object_is_refused(key_files):
    refused({"2": key_files.private()}, "kid 2", "private key", "public_key()")


@pytest.mark.parametrize("spec, words", [
    ({}, ["no keys"]),
    ([], ["no keys"]),
    ("", ["no key file"]),
    (42, ["int"]),
    ({"2": 42}, ["kid 2", "int"]),
    ({"02": keys.PUBKEY2}, ["'02'"]),
    ({"two": keys.PUBKEY2}, ["'two'"]),
    ({True: keys.PUBKEY2}, ["True"]),
    (keys.PUBKEY2, ["PEM text has no kid"]),
    ([42], ["int"]),
])
def test_settings_that_are_not_keys(spec, words):
    refused(spec, *words)


def test_the_shipped_keys_pass_the_checks():
    assert [keys.LIVE_KEYS["2"].key_size, keys.DEMO_KEYS["901"].key_size] == [1024, 1024]
    assert keys.keyring({"2": keys.PUBKEY2})["2"].public_numbers() == \
        keys.LIVE_KEYS["2"].public_numbers()
