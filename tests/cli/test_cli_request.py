"""``raven request``: the authentication URL, for live Raven, the demo
server or a local test WLS."""

from __future__ import annotations

import pytest

import raven as raven_pkg
from raven import demoserver

URL = "http://127.0.0.1:5000/page"


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help(raven, flag):
    result = raven("request", flag)
    assert result.exit_code == 0
    for word in ("URL", "--desc", "--msg", "--params", "--aauth", "--iact", "--fail",
                 "--demo", "--wls-url"):
        assert word in result.output


def test_main_help_lists_every_command(raven):
    output = raven("--help").output
    for command in ("demo", "wls", "request", "decode"):
        assert f"  {command} " in output


def test_live_raven_by_default(raven):
    result = raven("request", URL)
    assert result.exit_code == 0
    assert result.output == str(raven_pkg.Request(URL)) + "\n"
    assert result.output.startswith("https://raven.cam.ac.uk/auth/authenticate.html?ver=3&")


def test_every_option_reaches_the_url(raven):
    result = raven("request", URL, "--desc", "Café & co", "--msg", "why", "--params", "a b",
                   "--aauth", "pwd", "--iact", "no", "--fail", "--ver", "2", "--demo")
    assert result.exit_code == 0, result.output
    expected = demoserver.Request(
        URL, desc="Café & co", msg="why", params="a b", aauth={"pwd"}, iact=False,
        fail=True, ver=2)
    assert result.output.strip() == str(expected)
    assert "desc=Caf%26%23233%3B+%26amp%3B+co" in result.output


@pytest.mark.parametrize("wls_url", ["http://127.0.0.1:5001", "http://127.0.0.1:5001/",
                                     "http://127.0.0.1:5001/auth/authenticate.html"])
def test_a_local_wls(raven, wls_url):
    result = raven("request", URL, "--wls-url", wls_url, "--iact", "yes")
    assert result.exit_code == 0
    assert result.output.startswith("http://127.0.0.1:5001/auth/authenticate.html?ver=3&")
    assert "iact=yes" in result.output


@pytest.mark.parametrize("args, words", [
    (["ftp://example.org/"], ["URL", "fully qualified"]),
    ([URL, "--desc", "bell\x07"], ["--desc", "printable ASCII"]),
    ([URL, "--aauth", "PWD"], ["--aauth", "not a valid type name"]),
    ([URL, "--params", "tab\t"], ["--params", "printable"]),
    ([URL, "--iact", "maybe"], ["--iact"]),
    ([URL, "--ver", "4"], ["--ver"]),
    ([URL, "--demo", "--wls-url", "http://127.0.0.1:5001"], ["--demo", "--wls-url"]),
    ([URL, "--wls-url", "nonsense"], ["--wls-url", "is not an http(s) URL"]),
    ([URL, "--wls-url", "http://wls.example.org/auth"], ["--wls-url", "must use https"]),
    ([], ["URL"]),
])
def test_bad_arguments_are_one_line(raven, args, words):
    raven.one_line_error(raven("request", *args), *words)
