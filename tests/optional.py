"""Optional tools (a browser, gunicorn, atheris): a test that needs one
skips when it is missing here, and fails on CI (``CI=true``), where
``.ci/run`` installs everything, so that nothing goes untested unseen.

Call these inside a test or fixture, never at import: a missing tool is
then that test's skip or failure, not a collection error."""

from __future__ import annotations

import importlib
import os
from types import ModuleType

import pytest


def on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def missing(reason: str) -> None:
    """Skip the running test, or fail it on CI."""
    if on_ci():
        pytest.fail(f"on CI, every optional tool must be installed: {reason}", pytrace=False)
    pytest.skip(reason)


def require(module: str, reason: str) -> ModuleType:
    """``module`` imported, or the running test skipped (failed on CI)."""
    try:
        return importlib.import_module(module)
    except ImportError:
        missing(f"needs {module}: {reason}")
        raise  # not reached: skip and fail raise
