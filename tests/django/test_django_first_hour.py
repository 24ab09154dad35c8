"""What got in a new Django user's way in the first hour: where a logout
ends, the wrong host or port, the checks, a migrated site's settings, and
``raven_login`` ending where a browser would."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import requests
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from raven.django import conf
from raven.django.checks import check_raven, served_by_runserver
from raven.pages import right_address
from raven.settings import ConfigurationError
from raven.testing import LoginFlowError, login
from raven.wls import create_app
from raven.wls.server import LiveServer

BASE = "https://www.example.cam.ac.uk"
LOGGED_OUT = BASE + "/accounts/raven/logged-out/"
HERE = Path(__file__).resolve().parent

pytestmark = pytest.mark.django_db


def said(messages):
    return sorted(m.id for m in messages if not m.is_silenced())


# --- raven_login ends where a browser would --------------------------------------------


def test_raven_login_ends_on_the_admins_403_for_someone_not_staff(client):
    page = login(client, BASE + "/admin/", "test0001")
    assert page.status_code == 403
    assert b"You may not see this page" in page.content


def test_raven_login_ends_on_the_admin_for_staff(client):
    get_user_model().objects.create_superuser("test0003", password=None)
    page = login(client, BASE + "/admin/", "test0003")
    assert page.status_code == 200 and b"Site administration" in page.content


def test_raven_login_names_a_redirect_loop(client):
    with pytest.raises(LoginFlowError, match=r"loop: https://www\.example\.cam\.ac\.uk/loop/ "
                                             r"-> https://www\.example\.cam\.ac\.uk/loop/"):
        login(client, BASE + "/loop/")


# --- a logout journey ends somewhere the user can go on from ----------------------------


def test_with_a_wls_that_cannot_link_back_logout_ends_on_the_sites_own_page(client, settings):
    settings.RAVEN_WLS = "demo"
    login(client, BASE + "/members/")
    r = client.post("/accounts/raven/logout/", secure=True, HTTP_HOST="www.example.cam.ac.uk")
    assert r.status_code == 303 and r["Location"] == "/accounts/raven/logged-out/"
    page = client.get(r["Location"], secure=True, HTTP_HOST="www.example.cam.ac.uk")
    assert page.status_code == 200
    text = page.content.decode()
    assert "You have logged out of this site" in text
    assert 'href="https://demo.raven.cam.ac.uk/auth/logout.html" id="wls-logout"' in text
    assert 'href="/" id="logged-out-home"' in text
    assert 'href="/accounts/raven/login/" id="logged-out-login"' in text
    assert "_auth_user_id" not in client.session


def test_the_local_wls_logout_page_links_back_to_the_site():
    with LiveServer(create_app()) as wls:
        settings_wls = wls.url
        from django.test import override_settings

        with override_settings(RAVEN_WLS=settings_wls):
            client = Client(HTTP_HOST="www.example.cam.ac.uk")
            login(client, BASE + "/members/")
            r = client.post("/accounts/raven/logout/", secure=True)
            assert r.status_code == 303
            assert r["Location"] == (f"{settings_wls}/auth/logout.html?return="
                                     "https%3A%2F%2Fwww.example.cam.ac.uk%2Faccounts%2Fraven"
                                     "%2Flogged-out%2F")
            page = requests.get(r["Location"], timeout=10)
    assert page.status_code == 200
    assert f'<a id="back" href="{LOGGED_OUT}">' in page.text


def test_the_admins_log_out_is_a_raven_logout(settings):
    settings.RAVEN_WLS = "demo"
    get_user_model().objects.create_superuser("test0003", password=None)
    client = Client(HTTP_HOST="www.example.cam.ac.uk", enforce_csrf_checks=True)
    admin = login(client, BASE + "/admin/", "test0003")
    text = admin.content.decode()
    assert 'action="/admin/logout/"' in text  # the admin's own "Log out" form
    token = text.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    r = client.post("/admin/logout/", {"csrfmiddlewaretoken": token}, secure=True,
                    HTTP_REFERER=BASE + "/admin/")
    assert r.status_code == 303 and r["Location"] == "/accounts/raven/logged-out/"
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/", secure=True).status_code == 302


# --- the wrong host or port ---------------------------------------------------------------


@pytest.mark.parametrize("debug", [True, False])
def test_the_wrong_host_page_links_to_the_configured_origin(client, settings, debug):
    settings.ALLOWED_HOSTS = ["www.example.cam.ac.uk", "localhost"]
    settings.DEBUG = debug
    r = client.get("/protected/?a=1&b=%C3%A9", HTTP_HOST="localhost:8000")
    assert r.status_code == 400 and r.raven_check == "host"
    text = r.content.decode()
    assert ('<a id="right-address" href="https://www.example.cam.ac.uk/protected/'
            '?a=1&amp;b=%C3%A9">') in text
    cause = "&#x27;http://localhost:8000&#x27; is not one of this site&#x27;s origins"
    assert (cause in text) is debug


def test_the_wrong_host_link_leaves_out_a_login_response():
    shown = right_address(conf.site().settings.origins, "/accounts/raven/return/",
                          b"next=%2Fmembers%2F&WLS-Response=3%21200")
    assert shown == BASE + "/accounts/raven/return/?next=%2Fmembers%2F"


def test_runserver_on_8000_without_an_origin_is_reported(settings, monkeypatch):
    del settings.RAVEN_ORIGIN
    settings.ALLOWED_HOSTS = ["127.0.0.1", "www.example.cam.ac.uk"]
    monkeypatch.setattr(sys, "argv", ["manage.py", "runserver"])
    [warning] = [m for m in check_raven() if m.id == "raven.W005"]
    assert "runserver serves http://127.0.0.1:8000" in warning.msg
    assert warning.hint.startswith("set RAVEN_ORIGIN = 'http://127.0.0.1:8000'")
    settings.RAVEN_ORIGIN = "http://127.0.0.1:8000"
    assert "raven.W005" not in said(check_raven())


@pytest.mark.parametrize(("argv", "origin"), [
    (["manage.py", "check"], None),
    (["manage.py", "runserver"], "http://127.0.0.1:8000"),
    (["manage.py", "runserver", "8001", "--noreload"], "http://127.0.0.1:8001"),
    (["manage.py", "runserver", "0:8000"], "http://0.0.0.0:8000"),
    (["django-admin", "runserver", "-6"], "http://[::1]:8000"),
    (["manage.py", "runserver", "[::1]:9000"], "http://[::1]:9000"),
    (["manage.py", "runserver", "localhost:8000"], "http://localhost:8000"),
])
def test_the_origin_runserver_serves(argv, origin):
    assert served_by_runserver(argv) == origin


def test_a_plain_http_origin_others_reach_is_reported(settings):
    settings.RAVEN_ORIGIN = "http://www.example.cam.ac.uk"
    [warning] = [m for m in check_raven() if m.id == "raven.W009"]
    assert "RAVEN_ORIGIN http://www.example.cam.ac.uk is plain http" in warning.msg
    assert warning.hint.startswith("set RAVEN_ORIGIN = 'https://www.example.cam.ac.uk'")
    settings.RAVEN_ORIGIN = "http://127.0.0.1:8000"
    assert "raven.W009" not in said(check_raven())


def test_an_origin_outside_allowed_hosts_is_reported(settings):
    settings.RAVEN_ORIGIN = "https://www.example.cam.ac.uk http://127.0.0.1:8000"
    [warning] = [m for m in check_raven() if m.id == "raven.W006"]
    assert "http://127.0.0.1:8000" in warning.msg and warning.hint == "add '127.0.0.1' to " \
                                                                      "ALLOWED_HOSTS"


# --- the checks ------------------------------------------------------------------------------


def test_login_url_left_at_djangos_default_is_reported(settings):
    settings.LOGIN_URL = "/accounts/login/"
    [warning] = [m for m in check_raven() if m.id == "raven.W004"]
    assert "'/accounts/login/' is no URL of this site" in warning.msg
    settings.LOGIN_URL = "raven:login"
    assert "raven.W004" not in said(check_raven())


def test_check_deploy_reports_a_public_origin_served_by_a_test_wls(settings):
    settings.SILENCED_SYSTEM_CHECKS = []
    out = io.StringIO()
    call_command("check", "--deploy", stdout=out, stderr=out)
    text = " ".join(out.getvalue().split())
    assert "(raven.W007) the public origin https://www.example.cam.ac.uk logs people in " \
           "through a test WLS (http://127.0.0.1:5001/auth/authenticate.html)" in text


def test_a_test_wls_on_this_machine_is_one_demo_key_warning(settings):
    settings.RAVEN_ORIGIN = "http://127.0.0.1:8000"
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    assert said(check_raven()) == ["raven.W003"]
    settings.SILENCED_SYSTEM_CHECKS = ["raven.W003"]
    assert said(check_raven()) == []


def test_live_raven_on_a_public_origin_is_no_warning(settings):
    settings.RAVEN_WLS = "live"
    settings.SILENCED_SYSTEM_CHECKS = []
    assert said(check_raven()) == []


# --- a site migrated from django-ucamwebauth ------------------------------------------------


def test_with_no_login_redirect_url_a_login_lands_on_the_root(client, settings):
    del settings.LOGIN_REDIRECT_URL
    r = login(client, BASE + "/accounts/raven/login/", follow=False)
    assert r.status_code == 303 and r["Location"] == "/"


def test_a_migrated_site_told_where_logins_now_land(settings):
    settings.UCAMWEBAUTH_DESC = "old"
    del settings.RAVEN
    settings.LOGIN_REDIRECT_URL = "/dashboard/"
    [warning] = [m for m in check_raven() if m.id == "raven.W008"]
    assert "'/dashboard/'" in warning.msg and "RAVEN_LOGIN_REDIRECT = '/'" in warning.hint
    settings.RAVEN_LOGIN_REDIRECT = "/dashboard/"
    assert "raven.W008" not in said(check_raven())


def test_an_unknown_ucamwebauth_name_is_a_warning_with_a_suggestion(settings):
    settings.UCAMWEBAUTH_CREATE_USE = False
    [warning] = [m for m in check_raven() if m.id == "raven.W002"]
    assert warning.msg == ("UCAMWEBAUTH_CREATE_USE is not a django-ucamwebauth setting, and is "
                           "ignored (did you mean UCAMWEBAUTH_CREATE_USER?)")


def test_a_misspelt_raven_name_gets_a_suggestion(settings):
    settings.RAVEN_MAX_LIEF = 60
    [warning] = [m for m in check_raven() if m.id == "raven.W002"]
    assert warning.msg.endswith("(did you mean RAVEN_MAX_LIFE?)")


def test_the_timeout_is_read_from_text_as_an_environment_gives_it(settings):
    settings.UCAMWEBAUTH_TIMEOUT = "30"
    assert conf.site().settings.issue_bounds == (30.0, 5.0)


@pytest.mark.parametrize(("name", "value", "written"), [
    ("UCAMWEBAUTH_TIMEOUT", "soon", "UCAMWEBAUTH_TIMEOUT must be a whole number"),
    ("UCAMWEBAUTH_NOT_CURRENT", None, None),
    ("RAVEN_MAX_LIFE", "-1", "RAVEN_MAX_LIFE must be"),
    ("RAVEN_ISSUE_BOUNDS", (1,), "RAVEN_ISSUE_BOUNDS must be"),
    ("RAVEN", {"max_life": 0}, "RAVEN['max_life'] must be"),
    ("RAVEN", {"IACT": "sometimes"}, "RAVEN['IACT'] must be"),
])
def test_every_error_names_the_setting_as_written(settings, raven_log, name, value,
                                                 written):
    setattr(settings, name, value)
    if written is None:  # None is False to django-ucamwebauth: current people only
        assert conf.site().settings.require_ptags == {"current"}
        return
    with pytest.raises(ConfigurationError) as caught:
        conf.site()
    assert str(caught.value).startswith(written)
    assert "issue_bounds" not in str(caught.value).replace("RAVEN_ISSUE_BOUNDS", "")
    # One log line, in the name the user wrote.
    [line] = [r.getMessage() for r in raven_log(logging.ERROR)]
    assert line == f"Raven configuration error: {caught.value}"


# --- warnings said once, where no check runs ---------------------------------------------


SITE = """\
from raventest.settings import *  # noqa: F403
INSTALLED_APPS = [a for a in INSTALLED_APPS if a != "raven.django"]
LOGIN_URL = "/accounts/login/"
SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
ALLOWED_HOSTS = ["127.0.0.1"]
RAVEN_ORIGIN = "http://127.0.0.1:8000"
SILENCED_SYSTEM_CHECKS = {silenced!r}
"""

SERVE = """\
import sys
from django.core.wsgi import get_wsgi_application
from django.test import Client
application = get_wsgi_application()  # as gunicorn does at a worker's boot
print("SERVING", file=sys.stderr, flush=True)
client = Client(HTTP_HOST="127.0.0.1:8000")
for path in ("/protected/", "/staff/", "/anyone/", "/protected/"):
    assert client.get(path).status_code == 303, path
"""


def served(tmp_path: Path, silenced: list[str]) -> tuple[list[str], list[str]]:
    """What a process serving the project logs (Django's default logging),
    before its first request and after: as under gunicorn, no check is run."""
    (tmp_path / "site_settings.py").write_text(SITE.format(silenced=silenced))
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "site_settings",
           "PYTHONPATH": os.pathsep.join([str(tmp_path), str(HERE)]),
           "RAVENTEST_DB": str(tmp_path / "db.sqlite3")}
    run = subprocess.run([sys.executable, "-c", textwrap.dedent(SERVE)], env=env,
                         capture_output=True, text=True, timeout=120, check=True)
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    at = lines.index("SERVING")
    return lines[:at], lines[at + 1:]


def test_without_the_app_start_up_says_each_problem_once(tmp_path):
    at_start, on_requests = served(tmp_path, [])
    assert [line.split(":")[0] for line in at_start] == ["raven.W000", "raven.W003",
                                                         "raven.W004"]
    assert "'raven.django' is not in INSTALLED_APPS" in at_start[0]
    assert sum("demo key" in line for line in at_start) == 1
    assert on_requests == []  # said before any request, and not again


def test_silenced_checks_stay_silent_at_start_up(tmp_path):
    at_start, on_requests = served(tmp_path, ["raven.W003", "raven.W004"])
    assert [line.split(":")[0] for line in at_start] == ["raven.W000"]
    assert on_requests == []


def test_building_the_handler_says_the_warnings_when_no_check_ran(settings, caplog):
    from django.core.handlers.wsgi import WSGIHandler

    settings.SILENCED_SYSTEM_CHECKS = []  # new settings: nothing said for them yet
    with caplog.at_level("WARNING", logger="raven"):
        WSGIHandler()  # as gunicorn at a worker's boot: no check runs
    assert [r.getMessage().split(":")[0] for r in caplog.records] == ["raven.W007"]


def test_after_the_checks_building_the_handler_says_nothing_again(settings, caplog):
    from django.core import checks
    from django.core.handlers.wsgi import WSGIHandler

    settings.SILENCED_SYSTEM_CHECKS = []
    with caplog.at_level("WARNING", logger="raven"):
        assert "raven.W007" in said(checks.run_checks())  # as runserver, before serving
        WSGIHandler()
    assert caplog.records == []


def test_a_bad_setting_stops_the_handler_being_built(settings, raven_log):
    from django.core.handlers.wsgi import WSGIHandler

    settings.RAVEN_MAX_LIFE = "-1"
    with pytest.raises(ConfigurationError, match="RAVEN_MAX_LIFE must be"):
        WSGIHandler()  # as gunicorn at a worker's boot: it fails to start, not to answer
    [line] = [r.getMessage() for r in raven_log(logging.ERROR)]
    assert line.startswith("Raven configuration error: RAVEN_MAX_LIFE must be")
