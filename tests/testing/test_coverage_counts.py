"""`make coverage` counts the lines that run when ``raven`` is imported.

The pytest plugin imports ``raven`` as pytest starts, before a plugin
such as pytest-cov begins to measure, so those lines would count as
missed. ``coverage run -m pytest`` measures from the first line instead:
here a suite that imports one module of ours, run that way, finds every
line of it counted."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytest.importorskip("coverage")


def test_coverage_run_counts_the_lines_run_at_import(tmp_path):
    (tmp_path / "test_one.py").write_text(
        "from raven.errors import KeyLoadError\n\n"
        "def test_it():\n"
        "    assert KeyLoadError('x', source='f').source == 'f'\n"
    )
    (tmp_path / ".coveragerc").write_text("[run]\nbranch = true\nsource_pkgs = raven.errors\n")
    run = subprocess.run(
        [sys.executable, "-m", "coverage", "run", "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "test_one.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    subprocess.run([sys.executable, "-m", "coverage", "json", "-o", "cov.json"],
                   cwd=tmp_path, check=True, capture_output=True, timeout=300)
    files = json.loads((tmp_path / "cov.json").read_text())["files"]
    [(name, errors)] = files.items()
    assert name.endswith("errors.py")
    # the class statements ran when the plugin imported raven: counted too
    assert errors["summary"]["covered_lines"] > 20
    # started late, a measure would see only KeyLoadError.__init__ run
    assert errors["summary"]["percent_covered"] > 90, errors["missing_lines"]
