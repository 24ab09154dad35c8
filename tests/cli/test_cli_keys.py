"""``raven keys``: list a key directory or file, and check a response's
signature against it before a rollover."""

from __future__ import annotations

from urllib.parse import quote_plus, urlencode

import pytest

from raven import keys
from raven.keys import SigningKey
from raven.testing import make_response

URL = "https://app.example/page"


def table(output: str) -> dict[str, list[str]]:
    """The listing's rows by kid (header checked)."""
    lines = output.splitlines()
    assert lines[0].split() == ["KID", "BITS", "EXPONENT", "FINGERPRINT", "(SHA-256)", "FILE"]
    rows = {}
    for line in lines[1:]:
        if not line.strip():
            break
        if line.startswith("Note:"):
            continue
        cells = line.split(maxsplit=4)
        rows[cells[0]] = cells
    return rows


@pytest.fixture
def rollover(key_files):
    """A key directory during a rollover: the old key (kid 12) and the new (kid 13)."""
    old, new = key_files.private(), key_files.private(2048)
    key_files.write("pubkey12", old, "pkcs1")
    key_files.write("pubkey13.crt", new, "cert")
    (key_files.directory / "README").write_text("keys for our site")
    return key_files.directory, SigningKey(old, "12"), SigningKey(new, "13")


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help(raven, flag):
    result = raven("keys", flag)
    assert result.exit_code == 0
    for word in ("PATH", "--check", "--live", "--demo", "--kid", "AAKeyDir", "pubkeyN.crt"):
        assert word in result.output


def test_a_directory_is_listed_with_size_exponent_fingerprint_and_file(raven, rollover):
    directory, old, new = rollover
    result = raven("keys", str(directory))
    assert result.exit_code == 0, result.output
    rows = table(result.output)
    assert list(rows) == ["12", "13"]
    assert rows["12"] == ["12", "1024", "65537", keys.fingerprint(old.public_key),
                          str(directory / "pubkey12")]
    assert rows["13"] == ["13", "2048", "65537", keys.fingerprint(new.public_key),
                          f"{directory / 'pubkey13.crt'} (certificate)"]
    assert "Note:" not in result.output


def test_one_file(raven, rollover):
    directory, _, new = rollover
    result = raven("keys", str(directory / "pubkey13.crt"))
    assert result.exit_code == 0, result.output
    assert list(table(result.output)) == ["13"]


def test_a_file_with_any_name_and_its_kid(raven, key_files):
    path = key_files.write("next-key.pem", key_files.private(), "spki")
    result = raven("keys", str(path), "--kid", "44")
    assert result.exit_code == 0, result.output
    assert table(result.output)["44"][4] == str(path)
    raven.one_line_error(raven("keys", str(path)), "--kid", "pubkeyN")


@pytest.mark.parametrize("flag, kid, fingerprint", [
    ("--live", "2", "813ab90a52018aff372740e1baa571273d3573fff8d908952a87c19093522afd"),
    ("--demo", "901", "d61f4109c85e19bf58a4e7efaf822a4cf1b97a1dd25dcdd363b6d2386ec41a77"),
])
def test_the_shipped_keys(raven, flag, kid, fingerprint):
    result = raven("keys", flag)
    assert result.exit_code == 0, result.output
    row = table(result.output)[kid]
    assert row[1:4] == ["1024", "65537", fingerprint]
    assert row[4].startswith("shipped")
    assert ("published demo key" in result.output) == (flag == "--demo")


def test_the_demo_key_in_a_directory_is_pointed_out(raven, tmp_path):
    (tmp_path / "pubkey901").write_text(keys.PUBKEY901)
    result = raven("keys", str(tmp_path))
    assert result.exit_code == 0
    assert "Note: kid 901 is the published demo key" in result.output


def test_a_file_name_cannot_send_terminal_escapes(raven, key_files, tmp_path):
    key_files.write("pubkey2", key_files.private(), directory=tmp_path / "a\x1b]0;pwned\x07")
    result = raven("keys", str(tmp_path / "a\x1b]0;pwned\x07"))
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "\\x1b]0;pwned\\x07" in result.output


# --- --check --------------------------------------------------------------------------


@pytest.mark.parametrize("signer", [1, 2], ids=["old-key", "new-key"])
def test_check_says_which_kid_verifies(raven, rollover, signer):
    directory, *signers = rollover
    key = signers[signer - 1]
    result = raven("keys", str(directory), "--check", make_response(URL, signing_key=key))
    assert result.exit_code == 0, result.output
    verdict = result.output.strip().splitlines()[-1]
    assert verdict.startswith(f"Verifies with kid {key.kid} ({directory / 'pubkey'}{key.kid}")
    assert keys.fingerprint(key.public_key)[:16] in verdict


def test_check_reads_standard_input(raven, rollover):
    directory, _, new = rollover
    result = raven("keys", str(directory), "--check", "-",
                   input=make_response(URL, signing_key=new) + "\n")
    assert result.exit_code == 0, result.output
    assert "Verifies with kid 13" in result.output


def test_check_takes_a_url_or_a_value_still_encoded(raven, rollover):
    directory, _, new = rollover
    response = make_response(URL, signing_key=new)
    url = f"{URL}?" + urlencode({"WLS-Response": response})
    assert raven("keys", str(directory), "--check", url).exit_code == 0
    result = raven("keys", str(directory), "--check", quote_plus(response, safe="!"))
    assert result.exit_code == 0, result.output
    assert "percent-encoded" in result.output and "Verifies with kid 13" in result.output


def test_check_a_kid_not_among_the_keys(raven, rollover, key_files):
    directory, *_ = rollover
    other = SigningKey(key_files.private(), "14")
    result = raven("keys", str(directory), "--check", make_response(URL, signing_key=other))
    assert result.exit_code == 1
    assert result.output.strip().endswith(
        "Does not verify: the response is signed with kid 14, which is not among these "
        "keys (kids 12, 13).")


def test_check_the_wrong_file_for_a_kid(raven, rollover, key_files):
    """The operator saved some other key as pubkey13: the check catches it."""
    directory, *_ = rollover
    impostor = SigningKey(key_files.private(), "13")
    result = raven("keys", str(directory), "--check", make_response(URL, signing_key=impostor))
    assert result.exit_code == 1
    assert "Does not verify: the signature does not match the key of kid 13" in result.output


def test_check_a_shipped_key(raven):
    response = make_response(URL)  # signed with the demo key
    assert raven("keys", "--demo", "--check", response).exit_code == 0
    live = raven("keys", "--live", "--check", response)
    assert live.exit_code == 1
    assert "kid 901, which is not among these keys (kids 2)" in live.output


def test_check_an_unsigned_response(raven, rollover):
    directory, *_ = rollover
    cancel = make_response(URL, status=410, signing_key=None)
    result = raven("keys", str(directory), "--check", cancel)
    assert result.exit_code == 1
    assert "Cannot check: the response is not signed (status 410)" in result.output


def test_check_a_signed_response_that_breaks_a_field_rule(raven, rollover):
    directory, _, new = rollover
    no_principal = make_response(URL, principal=None, signing_key=new)  # a 200 needs one
    result = raven("keys", str(directory), "--check", no_principal)
    assert result.exit_code == 0, result.output  # the key is right, which is the question
    assert "Verifies with kid 13" in result.output
    assert "breaks a field rule" in result.output


def test_check_something_that_is_no_response(raven, rollover):
    directory, *_ = rollover
    result = raven("keys", str(directory), "--check", "hello!world")
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1].startswith("Cannot check: ")


# --- errors ----------------------------------------------------------------------------


@pytest.mark.parametrize("args, words", [
    ([], ["PATH", "--live", "--demo"]),
    (["--live", "--demo"], ["PATH", "--live", "--demo"]),
    (["/no/such/dir/pubkey2"], ["/no/such/dir/pubkey2", "no such file"]),
    (["--live", "--kid", "3"], ["--kid"]),
    (["--demo", "--check", ""], ["--check", "no response"]),
])
def test_bad_command_lines_are_one_line(raven, args, words):
    raven.one_line_error(raven("keys", *args), *words)


def test_kid_with_a_directory_is_one_line(raven, rollover):
    directory, *_ = rollover
    raven.one_line_error(raven("keys", str(directory), "--kid", "3"), "--kid", "directory")


def test_keys_that_would_be_refused_are_one_line(raven, key_files):
    small = key_files.write("pubkey12", key_files.private(512))
    raven.one_line_error(raven("keys", str(key_files.directory)), str(small), "512-bit")
    small.unlink()
    e3 = key_files.write("pubkey12.crt", key_files.private(exponent=3), "cert")
    raven.one_line_error(raven("keys", str(key_files.directory)), str(e3), "exponent 3")


def test_two_files_for_one_kid_are_one_line(raven, key_files):
    key = key_files.private()
    a = key_files.write("pubkey12", key)
    b = key_files.write("pubkey12.crt", key, "cert")
    raven.one_line_error(raven("keys", str(key_files.directory)), "kid 12", str(a), str(b))


def test_an_empty_directory_is_one_line(raven, tmp_path):
    raven.one_line_error(raven("keys", str(tmp_path)), str(tmp_path), "no key files")


def test_check_of_too_much_standard_input_is_one_line(raven):
    raven.one_line_error(raven("keys", "--demo", "--check", "-", input="3!" + "x" * 20000),
                         "--check", "standard input")
