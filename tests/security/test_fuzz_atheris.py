"""Run the atheris target over the response parser for a bounded count."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from tests.optional import require

TARGET = Path(__file__).resolve().parents[2] / "fuzz" / "fuzz_response.py"
RUNS = 300_000


def test_parser_survives_coverage_guided_fuzzing():
    if not (sys.platform.startswith("linux") and sys.version_info[:2] == (3, 11)):
        pytest.skip("atheris has wheels for Linux and Python 3.11 only (see pyproject.toml)")
    require("atheris", "the test extra installs it on Linux with Python 3.11")
    done = subprocess.run(
        [sys.executable, str(TARGET), f"-runs={RUNS}", "-seed=1"],
        capture_output=True, text=True, timeout=300,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert re.search(rf"Done {RUNS} runs", output), output[-3000:]
