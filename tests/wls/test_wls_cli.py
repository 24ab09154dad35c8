"""``raven wls``: help, refusals as one line, and a real run in a subprocess."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys

import pytest
import requests
from click.testing import CliRunner

from raven import cli


def run(*args: str):
    return CliRunner().invoke(cli.main, list(args))


def one_line_error(result, *words: str) -> None:
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error: ")
    for word in words:
        assert word in lines[0]
    assert "Traceback" not in result.output


def test_main_help_lists_wls():
    result = run("--help")
    assert result.exit_code == 0
    assert "wls" in result.output


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_wls_help(flag):
    result = run("wls", flag)
    assert result.exit_code == 0
    for text in ("--host", "127.0.0.1", "--port", "5001", "--allow-non-loopback", "test0001"):
        assert text in result.output


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.1", "example.org"])
def test_wls_refuses_non_loopback_hosts(host):
    one_line_error(run("wls", "--host", host), "loopback", "--allow-non-loopback")


def test_busy_port_is_one_line():
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = str(busy.getsockname()[1])
        one_line_error(run("wls", "--port", port), "cannot listen", port)


@pytest.mark.parametrize(
    "args, words",
    [
        (["wls", "--port", "abc"], ["--port"]),
        (["wls", "--port", "70000"], ["--port"]),
        (["wls", "--user", "nopassword"], ["--user"]),
        (["wls", "--user", "bad name:pw"], ["--user"]),
        (["wls", "--session-lifetime", "0"], ["--session-lifetime"]),
        (["wls", "--key", "/no/such/key.pem", "--kid", "5"], ["/no/such/key.pem"]),
        (["wls", "--kid", "5"], ["--key"]),
        (["wls", "--bogus"], ["--bogus"]),
        (["nosuchcommand"], ["nosuchcommand"]),
    ],
)
def test_bad_arguments_are_one_line(args, words):
    one_line_error(run(*args), *words)


def test_a_key_that_is_not_a_key_is_one_line(tmp_path):
    pem = tmp_path / "key.pem"
    pem.write_text("not a key")
    one_line_error(run("wls", "--key", str(pem), "--kid", "5"), str(pem))


def test_an_unexpected_error_is_one_line(monkeypatch):
    import raven.wls

    def broken(config=None):
        raise RuntimeError("it broke")

    monkeypatch.setattr(raven.wls, "create_app", broken)
    monkeypatch.delenv("RAVEN_DEBUG", raising=False)
    one_line_error(run("wls", "--port", "0"), "RuntimeError", "it broke")


def test_raven_wls_serves_until_interrupted(tmp_path):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from raven.cli import main; main()", "wls", "--port", "0",
         "--user", "alice:pw:current"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        banner = [proc.stdout.readline() for _ in range(5)]
        assert "development and testing only" in banner[0]
        url = banner[1].split()[2].rstrip("/")
        assert url.startswith("http://127.0.0.1:")
        r = requests.get(url + "/", timeout=10)
        assert r.status_code == 200 and "alice" in r.text
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert "Stopped." in out
    assert "Traceback" not in err
