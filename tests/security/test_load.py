"""A short load run: many concurrent complete logins, zero errors, each
browser sees its own principal, sessions work across processes."""

import importlib.util
import sys
from pathlib import Path

from tests.optional import require

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "load_logins.py"


def load_script():
    spec = importlib.util.spec_from_file_location("load_logins", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_concurrent_logins_under_gunicorn():
    require("gunicorn", "the test extra installs it (pip install -e '.[test]')")
    outcome, elapsed = load_script().run(logins=120, concurrency=8, workers=2, time_limit=90)
    assert outcome.errors == []
    assert outcome.logins == 120
