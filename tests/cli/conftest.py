"""Running ``raven`` commands in-process with click's CliRunner."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from click.testing import CliRunner

from raven import cli


class Raven:
    def __call__(self, *args: str, input: str | None = None):
        return CliRunner().invoke(cli.main, list(args), input=input)

    @staticmethod
    def one_line_error(result, *words: str) -> str:
        """The command failed with one ``Error:`` line holding ``words``, no traceback."""
        assert result.exit_code not in (0, None), result.output
        lines = result.output.strip().splitlines()
        assert len(lines) == 1, result.output
        assert lines[0].startswith("Error: ")
        for word in words:
            assert word in lines[0]
        assert "Traceback" not in result.output
        return lines[0]


@pytest.fixture
def raven() -> Raven:
    return Raven()


@contextmanager
def _serving(*args: str, banner_lines: int) -> Iterator[list[str]]:
    """Run ``raven ARGS`` as a real process; yield its banner; then stop it
    with Ctrl+C and check it stopped cleanly."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("RAVEN_DEMO_SECRET_KEY", None)
    proc = subprocess.Popen(
        [sys.executable, "-c", "from raven.cli import main; main()", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        yield [proc.stdout.readline() for _ in range(banner_lines)]
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert "Stopped." in out
    assert "Traceback" not in err


@pytest.fixture
def serving():
    """``with serving("wls", "--port", "0", banner_lines=5) as banner:``"""
    return _serving
