"""docs/django.md's code runs as printed: its settings name real things,
its views, URLs and backend are what the app accepts, its logging
settings show raven's INFO lines, its logout form logs out, and its test
passes."""

from __future__ import annotations

import importlib
import io
import logging
import logging.config
import re
import sys
import types
from pathlib import Path

import pytest
from django.template import engines
from django.test import Client, RequestFactory
from django.urls import URLPattern
from django.utils.module_loading import import_string

from raven.django.checks import check_raven
from raven.testing import login

DOC = Path(__file__).resolve().parents[2] / "docs" / "django.md"
TEXT = DOC.read_text()
BLOCKS = re.findall(r"^```python\n(.*?)^```$", TEXT, re.S | re.M)
HTML = re.findall(r"^```html\n(.*?)^```$", TEXT, re.S | re.M)
BASE = "https://www.example.cam.ac.uk"

pytestmark = pytest.mark.django_db


def block(starting: str) -> str:
    [found] = [b for b in BLOCKS if b.startswith(starting)]
    return found


def test_every_block_is_run_here():
    """Each test below picks its block by its first line: all of them."""
    firsts = ["INSTALLED_APPS", "from django.urls import include", "from django.contrib.auth",
              "from raven.django.backends", "from django.contrib import admin", "LOGGING",
              "# settings for the tests",
              "# on your machine"]  # run by tests/firsthour/test_fresh_envs.py
    assert sorted(firsts) == sorted(next(f for f in firsts if b.startswith(f)) for b in BLOCKS)
    assert len(HTML) == 1


def test_the_quick_start_settings_name_real_things(settings):
    names: dict = {}
    exec(block("INSTALLED_APPS"), names)
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
    urls: dict = {}
    exec(block("from django.urls import include"), urls)
    assert [p.pattern.describe() for p in urls["urlpatterns"][0].url_patterns][:2] == [
        "'login/' [name='login']", "'return/' [name='return']"]
    views: dict = {}
    exec(block("from django.contrib.auth"), views)
    assert views["Reports"].require_ptags == {"staff"}


def test_the_backend_subclass_runs(settings, browser, monkeypatch):
    module = types.ModuleType("raventest_docs_backend")
    exec(block("from raven.django.backends"), module.__dict__)
    monkeypatch.setitem(sys.modules, module.__name__, module)
    settings.AUTHENTICATION_BACKENDS = ["raventest_docs_backend.Backend"]
    assert browser.login("/members/").content == b"Members' page for test0001@cam.ac.uk"


def test_the_admin_urls_are_the_test_projects(settings):
    urls: dict = {}
    exec(block("from django.contrib import admin"), urls)
    login_, logout, rest = urls["urlpatterns"]
    assert isinstance(login_, URLPattern) and login_.callback.__name__ == "login"
    assert logout.callback.__name__ == "logout"
    from raventest.urls import urlpatterns  # the project the suite logs in to

    project = {str(p.pattern): p.callback for p in urlpatterns if isinstance(p, URLPattern)}
    assert project["admin/login/"] is login_.callback
    assert project["admin/logout/"] is logout.callback


def test_the_logging_settings_show_logins(browser):
    names: dict = {}
    exec(block("LOGGING"), names)
    seen = io.StringIO()
    logger = logging.getLogger("raven")
    saved = logger.handlers[:], logger.level, logger.propagate
    try:
        logging.config.dictConfig(names["LOGGING"])
        logger.handlers[0].setStream(seen)  # the console handler, here a string
        browser.login("/members/")
    finally:
        logger.handlers[:], logger.level, logger.propagate = saved
    assert "'test0001' logged in (ptags " in seen.getvalue()


def test_the_logout_form_logs_out(browser):
    browser.login("/members/")
    request = RequestFactory().get("/", HTTP_HOST="www.example.cam.ac.uk", secure=True)
    request.user = type("U", (), {"is_authenticated": True})()
    form = engines["django"].from_string(HTML[0]).render({}, request)
    action = re.search(r'action="([^"]+)"', form).group(1)
    assert action == "/accounts/raven/logout/"
    assert 'name="csrfmiddlewaretoken"' in form
    r = browser.open("POST", action)
    assert r.status_code == 303 and not browser.logged_in()


def test_the_testing_example_passes():
    names: dict = {}
    exec(block("# settings for the tests"), names)
    names["test_members_page"](Client(), login, None)
