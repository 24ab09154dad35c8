"""Run the atheris target over the response parser for a bounded count."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("atheris")

TARGET = Path(__file__).resolve().parents[2] / "fuzz" / "fuzz_response.py"
RUNS = 300_000


def test_parser_survives_coverage_guided_fuzzing():
    done = subprocess.run(
        [sys.executable, str(TARGET), f"-runs={RUNS}", "-seed=1"],
        capture_output=True, text=True, timeout=300,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert re.search(rf"Done {RUNS} runs", output), output[-3000:]
