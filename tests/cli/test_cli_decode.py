"""``raven decode``: every field and check, and an exit status that says
whether the response is valid."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import timedelta
from importlib import resources
from urllib.parse import quote, quote_plus, urlencode

import pytest
from click.testing import CliRunner

from raven import cli
from raven.protocol import MAX_RESPONSE_LENGTH
from raven.response import utcnow
from raven.testing import make_response

URL = "http://127.0.0.1:5000/page"


def check_line(output: str, name: str) -> str:
    return next(line for line in output.splitlines()
                if line.split()[1:2] == [name] or line.split()[2:3] == [name])


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help(raven, flag):
    result = raven("decode", flag)
    assert result.exit_code == 0
    for word in ("STRING", "--demo", "--key", "--kid", "--url", "Exit status 0"):
        assert word in result.output


def test_a_valid_response_explains_everything_and_exits_0(raven):
    response = make_response(URL, params="tok", life=600)
    result = raven("decode", response, "--demo", "--url", URL, "--params", "tok")
    assert result.exit_code == 0, result.output
    out = result.output
    for name in ("ver", "status", "msg", "issue", "id", "url", "principal", "ptags", "auth",
                 "sso", "life", "params", "kid", "sig"):
        assert f"\n  {name} " in out
    for check in ("format", "kid", "signature", "url", "issue", "iact/aauth", "params"):
        assert check_line(out, check).split()[0] == "passed"
    assert "10 min left of the user's session" in out
    assert out.strip().endswith("Valid: a login of test0001 (ptags: current).")


def test_live_is_trusted_by_default_so_a_demo_signed_response_is_invalid(raven):
    result = raven("decode", make_response(URL))
    assert result.exit_code == 1
    assert check_line(result.output, "kid").startswith("  FAILED")
    assert "--demo" in result.output
    assert result.output.strip().endswith("Not valid: failed kid.")


@pytest.mark.parametrize("extra, failed", [
    (["--url", "http://127.0.0.1:5000/other"], "url"),
    (["--params", "not-these"], "params"),
    (["--iact", "no"], "iact/aauth"),
    (["--aauth", "x-other"], "iact/aauth"),
])
def test_each_failed_check_makes_it_invalid(raven, extra, failed):
    result = raven("decode", make_response(URL, params="tok"), "--demo", *extra)
    assert result.exit_code == 1
    assert check_line(result.output, failed).startswith("  FAILED")


def test_a_stale_response_is_invalid_unless_max_age_allows_it(raven):
    response = make_response(URL, issue=utcnow() - timedelta(minutes=2))
    result = raven("decode", response, "--demo")
    assert result.exit_code == 1
    assert re.search(r"issued 12\d s ago, more than the 25 s allowed", result.output)
    assert raven("decode", response, "--demo", "--max-age", "600").exit_code == 0


def test_a_cancel_is_a_valid_response(raven):
    result = raven("decode", make_response(URL, status=410, ver=1), "--demo", "--url", URL)
    assert result.exit_code == 0
    assert "Valid: the user cancelled the authentication request (status 410)." in result.output


def test_a_tampered_response_fails_the_signature(raven):
    result = raven("decode", make_response(URL).replace("test0001", "test0002"), "--demo")
    assert result.exit_code == 1
    assert check_line(result.output, "signature").startswith("  FAILED")


def test_garbage_is_an_invalid_response_not_an_error(raven):
    result = raven("decode", "hello!world")
    assert result.exit_code == 1
    assert "Error" not in result.output
    assert check_line(result.output, "format").startswith("  FAILED")


def test_terminal_escapes_are_never_printed(raven):
    result = raven("decode", "3!200!\x1b]0;pwned\x07!x")
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "\\x1b]0;pwned\\x07" in result.output


def test_a_url_from_a_log_is_read_and_its_url_checked(raven):
    line = f"{URL}?x=1&" + urlencode({"WLS-Response": make_response(URL + "?x=1")})
    assert raven("decode", line, "--demo").exit_code == 0
    result = raven("decode", line.replace("x=1&", "x=2&"), "--demo")
    assert result.exit_code == 1
    assert check_line(result.output, "url").startswith("  FAILED")


def test_dash_reads_standard_input(raven):
    result = raven("decode", "-", "--demo", input=make_response(URL) + "\n")
    assert result.exit_code == 0, result.output


def test_a_key_file_with_its_kid(raven, tmp_path):
    pem = resources.files("raven.keys").joinpath("pubkey901.pem").read_bytes()
    (tmp_path / "k.pem").write_bytes(pem)
    result = raven("decode", make_response(URL), "--key", str(tmp_path / "k.pem"), "--kid", "901")
    assert result.exit_code == 0, result.output
    wrong = raven("decode", make_response(URL), "--key", str(tmp_path / "k.pem"), "--kid", "7")
    assert wrong.exit_code == 1


def test_a_key_directory(raven, tmp_path):
    pem = resources.files("raven.keys").joinpath("pubkey901.pem").read_bytes()
    (tmp_path / "pubkey901").write_bytes(pem)
    assert raven("decode", make_response(URL), "--key", str(tmp_path)).exit_code == 0


@pytest.mark.parametrize("args, words", [
    (["--demo", "--key", "k.pem", "--kid", "1"], ["--demo", "--key"]),
    (["--kid", "901"], ["--kid", "--key"]),
    (["--key", "/no/such/file.pem", "--kid", "5"], ["/no/such/file.pem"]),
    (["--max-age", "-1"], ["--max-age"]),
    (["--iact", "maybe"], ["--iact"]),
])
def test_bad_options_are_one_line(raven, args, words):
    raven.one_line_error(raven("decode", make_response(URL), *args), *words)


def test_a_file_that_is_not_a_key_is_one_line(raven, tmp_path):
    (tmp_path / "k.pem").write_text("not a key")
    raven.one_line_error(
        raven("decode", make_response(URL), "--key", str(tmp_path / "k.pem"), "--kid", "5"),
        "k.pem", "public key")


@pytest.mark.parametrize("string", ["", "   ", f"{URL}?WLS-Response=",
                                    f"{URL}?WLS-Response=a&WLS-Response=b"])
def test_no_response_at_all_is_one_line(raven, string):
    raven.one_line_error(raven("decode", string), "STRING")


def test_a_key_file_not_named_for_its_kid_needs_kid(raven, tmp_path):
    pem = resources.files("raven.keys").joinpath("pubkey901.pem").read_bytes()
    (tmp_path / "k.pem").write_bytes(pem)
    raven.one_line_error(raven("decode", make_response(URL), "--key", str(tmp_path / "k.pem")),
                         "--kid", "pubkeyN")


def test_a_key_file_named_for_its_kid_needs_no_kid(raven, tmp_path, key_files):
    from raven.keys import SigningKey

    private = key_files.private()
    path = key_files.write("pubkey33.crt", private, "cert")
    response = make_response(URL, signing_key=SigningKey(private, "33"))
    result = raven("decode", response, "--key", str(path))
    assert result.exit_code == 0, result.output
    assert check_line(result.output, "signature").startswith("  passed")


def test_a_small_key_is_refused_in_one_line(raven, tmp_path, key_files):
    path = key_files.write("pubkey33", key_files.private(512))
    raven.one_line_error(raven("decode", make_response(URL), "--key", str(tmp_path)),
                         str(path), "512-bit")


# --- what standard input and STRING may hold ---------------------------------------


def test_standard_input_may_end_with_a_windows_line_ending(raven):
    response = make_response(URL)
    result = raven("decode", "-", "--demo", input=response + "\r\n")
    assert result.exit_code == 0, result.output


def test_more_standard_input_than_a_response_is_refused(raven):
    too_much = "3!" + "x" * MAX_RESPONSE_LENGTH + "\n"
    raven.one_line_error(raven("decode", "-", input=too_much),
                         "standard input", f"{MAX_RESPONSE_LENGTH} characters")


def test_endless_standard_input_is_not_read_to_its_end():
    with open("/dev/zero", "rb") as zeros:
        done = subprocess.run(
            [sys.executable, "-c", "from raven.cli import main; main()", "decode", "-"],
            stdin=zeros, capture_output=True, text=True, timeout=60,
        )
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "more than" in lines[0], done.stderr


def test_standard_input_that_is_not_utf8_is_one_line(raven):
    result = CliRunner().invoke(cli.main, ["decode", "-"], input=b"3!200!\xff\xfe")
    raven.one_line_error(result, "not UTF-8")


def test_a_string_longer_than_a_response_is_refused(raven):
    raven.one_line_error(raven("decode", "3!" + "x" * MAX_RESPONSE_LENGTH), "STRING",
                         str(MAX_RESPONSE_LENGTH))


@pytest.mark.parametrize("encode", [
    pytest.param(lambda r: quote_plus(r, safe="!"), id="as-an-address-bar-shows-it"),
    pytest.param(quote_plus, id="all-of-it"),
    pytest.param(lambda r: quote(r, safe=""), id="spaces-as-%20"),
])
def test_a_value_still_percent_encoded_is_decoded_once(raven, encode):
    response = make_response(URL + "?q=a b", msg="hello world", params="x/y")
    encoded = encode(response)
    assert "%3A" in encoded  # it cannot be a raw response
    result = raven("decode", encoded, "--demo", "--url", URL + "?q=a b", "--params", "x/y")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("The value was still percent-encoded")
    assert check_line(result.output, "url").startswith("  passed")
    assert "hello world" in result.output


def test_a_raw_response_with_its_own_escapes_is_not_decoded(raven):
    response = make_response(URL, params="50%!off", msg="100%25 sure")
    assert "%25" in response and "%21" in response
    result = raven("decode", response, "--demo", "--params", "50%!off")
    assert result.exit_code == 0, result.output
    assert "percent-encoded" not in result.output
    assert check_line(result.output, "params").startswith("  passed")


def test_an_encoded_value_that_is_no_response_is_left_as_it_is(raven):
    result = raven("decode", "hello%3Aworld")
    assert result.exit_code == 1
    assert "percent-encoded" not in result.output
    assert check_line(result.output, "format").startswith("  FAILED")


def test_a_whole_url_on_standard_input(raven):
    line = f"{URL}?" + urlencode({"WLS-Response": make_response(URL)})
    result = raven("decode", "-", "--demo", input=line + "\n")
    assert result.exit_code == 0, result.output
    assert check_line(result.output, "url").startswith("  passed")
    assert "percent-encoded" not in result.output


def test_decode_does_not_import_flask():
    import subprocess
    import sys

    from raven.testing import make_response

    code = (
        "import sys\n"
        "from raven.cli import main\n"
        "try:\n"
        f"    main(['decode', '--demo', {make_response('https://x.example/')!r}])\n"
        "except SystemExit:\n"
        "    pass\n"
        "sys.stdout.flush()\n"
        "assert 'flask' not in sys.modules and 'werkzeug' not in sys.modules, 'imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert "test0001" in done.stdout
