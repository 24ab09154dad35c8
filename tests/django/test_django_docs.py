"""docs/django.md's code runs as printed: its settings name real things,
its views and backend are what the app accepts."""

from __future__ import annotations

import importlib
import re
import sys
import types
from pathlib import Path

import pytest
from django.utils.module_loading import import_string

from raven.django.checks import check_raven

DOC = Path(__file__).resolve().parents[2] / "docs" / "django.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)

pytestmark = pytest.mark.django_db


def test_the_quick_start_settings_name_real_things(settings):
    names: dict = {}
    exec(BLOCKS[0], names)
    assert "raven.django" in names["INSTALLED_APPS"]
    importlib.import_module(names["INSTALLED_APPS"][-1])
    for path in names["MIDDLEWARE"] + names["AUTHENTICATION_BACKENDS"]:
        import_string(path)
    del settings.RAVEN  # the project's own DESC, which the doc's would contradict
    del settings.RAVEN_WLS  # the doc's site logs in with live Raven
    for name in ("LOGIN_URL", "ALLOWED_HOSTS", "RAVEN_ORIGIN", "RAVEN_DESC"):
        setattr(settings, name, names[name])
    assert [m.id for m in check_raven()] == []


def test_the_quick_start_urls_and_views_run():
    exec(BLOCKS[1], {})
    views: dict = {}
    exec(BLOCKS[2], views)
    assert views["Reports"].require_ptags == {"staff"}


def test_the_backend_subclass_runs(settings, browser, monkeypatch):
    module = types.ModuleType("raventest_docs_backend")
    exec(BLOCKS[3], module.__dict__)
    monkeypatch.setitem(sys.modules, module.__name__, module)
    settings.AUTHENTICATION_BACKENDS = ["raventest_docs_backend.Backend"]
    assert browser.login("/members/").content == b"Members' page for test0001@cam.ac.uk"
