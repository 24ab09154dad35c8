"""Sentry's old client is also imported as ``raven``. Installed after us it
replaces ``raven/__init__.py`` and leaves our modules behind it; whatever
people start from then says so, in words, instead of failing oddly.

The stand-in below is such an ``__init__``: first on ``sys.path``, with
our package directory on its ``__path__``, as in a shared site-packages.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import raven

OURS = Path(raven.__file__).parent
SCRIPTS = Path(sys.executable).parent


@pytest.fixture(params=["with metadata", "without metadata"])
def wrong_raven(request, tmp_path):
    """The environment for a process whose ``import raven`` is not ours."""
    site = tmp_path / "site"
    (site / "raven").mkdir(parents=True)
    (site / "raven" / "__init__.py").write_text(
        '"""Not ours: stands in for Sentry\'s raven client."""\n'
        'VERSION = "6.10.0"\n'
        f"__path__.append({str(OURS)!r})\n"
    )
    if request.param == "with metadata":
        info = site / "raven-6.10.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text("Metadata-Version: 2.1\nName: raven\nVersion: 6.10.0\n")
    env = {**os.environ, "PYTHONPATH": str(site)}
    env.pop("RAVEN_DEBUG", None)
    return env, request.param


def run(env, *args, cwd=None):
    return subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=60)


def assert_explained(text: str, param: str) -> None:
    assert "'import raven' gives" in text and "which is not ucam-raven" in text
    assert "pip uninstall raven" in text
    assert "pip install --force-reinstall ucam-raven" in text
    if param == "with metadata":
        assert "Sentry's old 'raven' client (6.10.0) is installed too" in text
    else:
        assert "another package called 'raven' (version 6.10.0)" in text


def test_the_stand_in_really_is_imported(wrong_raven):
    env, _ = wrong_raven
    done = run(env, sys.executable, "-c", "import raven; print(raven.VERSION)")
    assert done.stdout.strip() == "6.10.0", done.stderr


@pytest.mark.parametrize("command", [
    [sys.executable, "-m", "raven", "--help"],
    [str(SCRIPTS / "raven"), "--help"],
], ids=["python -m raven", "raven"])
def test_the_command_says_so_in_one_line(wrong_raven, command):
    env, param = wrong_raven
    done = run(env, *command)
    assert done.returncode == 1
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), done.stderr
    assert_explained(lines[0], param)


@pytest.mark.parametrize("module", ["raven.testing", "raven.flask_glue", "raven.cli"])
def test_importing_our_modules_says_so(wrong_raven, module):
    env, param = wrong_raven
    done = run(env, sys.executable, "-c", f"import {module}")
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("raven._guard.WrongRavenError: "), done.stderr
    assert_explained(last, param)


def test_a_test_run_says_so_when_it_loads_the_plugin(wrong_raven, tmp_path):
    env, param = wrong_raven
    (tmp_path / "test_nothing.py").write_text("def test_nothing():\n    pass\n")
    done = run(env, sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "test_nothing.py",
               cwd=tmp_path)
    assert done.returncode != 0
    assert "WrongRavenError" in done.stderr + done.stdout
    assert_explained(done.stderr + done.stdout, param)


def test_our_own_raven_passes_the_check():
    done = subprocess.run(
        [sys.executable, "-c", "import raven.testing, raven.cli; print('fine')"],
        capture_output=True, text=True, timeout=60,
    )
    assert done.stdout.strip() == "fine", done.stderr
