"""Settings (RAVEN, RAVEN_*, UCAMWEBAUTH_*), system checks, pages, and the
pytest fixtures under pytest-django."""

from __future__ import annotations

import logging

import pytest
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured

from raven.django import conf
from raven.django.checks import check_raven
from raven.keys import PUBKEY2, PUBKEY901
from raven.services import DEMO, LIVE
from raven.settings import ConfigurationError

pytestmark = pytest.mark.django_db

def said(messages):
    """The messages reported, less those the project silences (as
    ``manage.py check`` leaves them out)."""
    return [m for m in messages if not m.is_silenced()]


def ids(messages):
    return sorted(m.id for m in said(messages))


def test_the_project_passes_its_checks():
    # a made-up public origin served by the local test WLS: said, and silenced
    assert sorted(m.id for m in check_raven()) == ["raven.W007"]
    assert [m.id for m in run_checks() if m.id.startswith("raven.") and not m.is_silenced()] == []


def test_raven_dict_and_raven_names_are_one_setting(settings):
    settings.RAVEN = {"DESC": "from the dict", "max_life": 60}
    del settings.RAVEN_WLS
    site = conf.site().settings
    assert (site.desc, site.max_life, site.wls) == ("from the dict", 60, LIVE)
    settings.RAVEN_MAX_LIFE = 60
    assert conf.site().settings.max_life == 60  # the same value twice is fine
    settings.RAVEN_MAX_LIFE = 61
    with pytest.raises(ConfigurationError, match="RAVEN_MAX_LIFE"):
        conf.site()
    assert ids(check_raven()) == ["raven.E001"]


def test_an_unknown_name_in_the_raven_dict_is_an_error(settings):
    settings.RAVEN = {"REQUIRE_PTAG": None}
    with pytest.raises(ImproperlyConfigured, match="REQUIRE_PTAG"):
        conf.site()


def test_an_unknown_raven_name_is_a_warning(settings):
    settings.RAVEN_REQUIRE_PTAG = None
    settings.RAVEN_CONFIG = {"dsn": "the Sentry client's, not ours"}
    [warning] = said(check_raven())
    assert warning.id == "raven.W002" and "RAVEN_REQUIRE_PTAG" in warning.msg


def test_a_bad_value_is_an_improperly_configured_error(settings):
    settings.RAVEN_MAX_LIFE = -1
    with pytest.raises(ImproperlyConfigured, match="^RAVEN_MAX_LIFE must be"):
        conf.site()


def test_a_strict_session_cookie_cannot_work(settings):
    settings.SESSION_COOKIE_SAMESITE = "Strict"
    with pytest.raises(ConfigurationError, match="Lax"):
        conf.site()


def test_settings_as_an_environment_gives_them(settings):
    """os.environ's strings, e.g. RAVEN_MAX_LIFE = os.environ["RAVEN_MAX_LIFE"]."""
    settings.RAVEN_MAX_LIFE = "3600"
    settings.RAVEN_IACT = "true"
    settings.RAVEN_CREATE_USER = "false"
    raven = conf.site()
    assert (raven.settings.max_life, raven.settings.iact, raven.create_user) == (
        3600, True, False)
    settings.RAVEN_CREATE_USER = "sometimes"
    with pytest.raises(ConfigurationError, match="RAVEN_CREATE_USER.*'sometimes'"):
        conf.site()


def test_no_origin_and_no_host_list_is_refused(settings):
    del settings.RAVEN_ORIGIN
    settings.ALLOWED_HOSTS = []
    with pytest.raises(ConfigurationError, match="RAVEN_ORIGIN") as raised:
        conf.site()
    assert "ALLOWED_HOSTS" in str(raised.value) and "TRUSTED_HOSTS" not in str(raised.value)


@pytest.fixture
def ucamwebauth_only(settings):
    """The project with its RAVEN settings replaced by django-ucamwebauth's."""
    for name in ("RAVEN", "RAVEN_WLS", "RAVEN_ORIGIN"):
        delattr(settings, name)
    settings.UCAMWEBAUTH_LOGIN_URL = "https://demo.raven.cam.ac.uk/auth/authenticate.html"
    settings.UCAMWEBAUTH_LOGOUT_URL = "https://demo.raven.cam.ac.uk/auth/logout.html"
    settings.UCAMWEBAUTH_CERTS = {901: PUBKEY901}
    return settings


def test_ucamwebauth_names_with_the_same_meaning(ucamwebauth_only):
    settings = ucamwebauth_only
    settings.UCAMWEBAUTH_DESC = "Old site"
    settings.UCAMWEBAUTH_MSG = ""
    settings.UCAMWEBAUTH_IACT = "yes"
    settings.UCAMWEBAUTH_AAUTH = "pwd"
    settings.UCAMWEBAUTH_FAIL = "yes"
    settings.UCAMWEBAUTH_TIMEOUT = 30
    settings.UCAMWEBAUTH_NOT_CURRENT = True
    settings.UCAMWEBAUTH_CREATE_USER = False
    settings.UCAMWEBAUTH_LOGOUT_REDIRECT = "/bye/"
    raven = conf.site()
    site = raven.settings
    assert site.wls.auth_url == DEMO.auth_url and site.wls.logout_url == DEMO.logout_url
    assert site.wls.fingerprints == DEMO.fingerprints
    assert (site.desc, site.msg, site.iact, site.aauth, site.fail) == (
        "Old site", None, True, frozenset({"pwd"}), True)
    assert site.issue_bounds == (30.0, 5.0)
    assert site.require_ptags is None
    assert (raven.create_user, raven.logout_redirect) == (False, "/bye/")
    assert raven.warnings == ()
    settings.UCAMWEBAUTH_NOT_CURRENT = False
    settings.UCAMWEBAUTH_IACT = "no"
    assert conf.site().settings.require_ptags == frozenset({"current"})
    assert conf.site().settings.iact is False


def test_ucamwebauth_certificates_are_read(ucamwebauth_only):
    """django-ucamwebauth's examples give X.509 certificates, not bare keys."""
    from datetime import datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import NameOID

    from raven.keys import SigningKey

    key = SigningKey.demo().private_key
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Raven DEMO public key 1")])
    now = datetime(2005, 7, 26)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1)
            .not_valid_before(now).not_valid_after(now + timedelta(days=30))
            .sign(key, hashes.SHA256()))
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    ucamwebauth_only.UCAMWEBAUTH_CERTS = {901: pem}
    assert conf.site().settings.wls.fingerprints == DEMO.fingerprints


def test_ucamwebauth_certs_with_ravens_own_certificates(ucamwebauth_only):
    """Live Raven's and the demo server's certificates, serial number 0 and
    all, as django-ucamwebauth sites paste them: they load with no warning."""
    import warnings
    from pathlib import Path

    from raven.keys import DEMO_KEYS, LIVE_KEYS

    certs = Path(__file__).parent.parent / "core" / "certs"
    ucamwebauth_only.UCAMWEBAUTH_CERTS = {
        2: (certs / "pubkey2.crt").read_text(), 901: (certs / "pubkey901.crt").read_text()}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        wls = conf.site().settings.wls
    assert wls.keys["2"].public_numbers() == LIVE_KEYS["2"].public_numbers()
    assert wls.keys["901"].public_numbers() == DEMO_KEYS["901"].public_numbers()


def test_ucamwebauth_names_whose_meaning_changes_warn(ucamwebauth_only, caplog):
    settings = ucamwebauth_only
    settings.UCAMWEBAUTH_RETURN_URL = "https://www.example.cam.ac.uk/raven_return/"
    settings.UCAMWEBAUTH_PARAMS = "fixed"
    settings.UCAMWEBAUTH_REDIRECT_AFTER_LOGIN = "/after/"
    with caplog.at_level(logging.WARNING, logger="raven"):
        raven = conf.site()
    assert raven.settings.origins == frozenset({"https://www.example.cam.ac.uk"})
    assert raven.login_redirect == "/after/"
    warned = [m.msg for m in check_raven() if m.id == "raven.W002"]
    assert len(warned) == 3
    for name in ("UCAMWEBAUTH_RETURN_URL", "UCAMWEBAUTH_PARAMS",
                 "UCAMWEBAUTH_REDIRECT_AFTER_LOGIN"):
        assert any(name in line for line in warned)
        assert any(name in r.getMessage() for r in caplog.records)


def test_raven_names_win_over_ucamwebauth_ones_with_a_warning(settings):
    settings.UCAMWEBAUTH_DESC = "old"
    assert conf.site().settings.desc == "Django test site"
    [warning] = said(check_raven())
    assert "UCAMWEBAUTH_DESC is ignored" in warning.msg


def test_a_bad_ucamwebauth_value_names_itself(ucamwebauth_only):
    ucamwebauth_only.UCAMWEBAUTH_IACT = "maybe"
    with pytest.raises(ConfigurationError, match="UCAMWEBAUTH_IACT"):
        conf.site()


def test_a_site_switched_from_ucamwebauth_logs_in(ucamwebauth_only, browser_for):
    ucamwebauth_only.UCAMWEBAUTH_RETURN_URL = "https://www.example.cam.ac.uk/raven_return/"
    page = browser_for().login("/members/")
    assert page.content == b"Members' page for test0001"


def test_live_key_certificate_names_kid_2(settings):
    settings.RAVEN_WLS = "live"
    settings.RAVEN_KEYS = {2: PUBKEY2}
    assert conf.site().settings.wls.fingerprints == LIVE.fingerprints


# --- system checks --------------------------------------------------------------------


def test_missing_pieces_are_reported(settings):
    settings.AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if "raven" not in m]
    assert ids(check_raven()) == ["raven.E002", "raven.W001"]
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if "sessions" not in m]
    assert "raven.E003" in ids(check_raven())


def test_the_middleware_must_follow_authentication(settings):
    settings.MIDDLEWARE = ["raven.django.middleware.RavenMiddleware",
                           *[m for m in settings.MIDDLEWARE if "raven" not in m]]
    assert ids(check_raven()) == ["raven.E005"]


def test_a_subclass_of_the_backend_counts(settings, browser):
    settings.AUTHENTICATION_BACKENDS = ["raventest.backends.EmailBackend"]
    assert ids(check_raven()) == []
    assert browser.login("/protected/").content == b"Hello, test0001 (test0001@cam.ac.uk)"
    assert browser.get("/members/").content == b"Members' page for test0001@cam.ac.uk"


# --- pages ---------------------------------------------------------------------------------


def test_a_site_base_template_frames_every_page(settings, tmp_path, browser):
    (tmp_path / "raven").mkdir()
    (tmp_path / "raven" / "base.html").write_text(
        "<html><body>SITE FRAME {{ request.path }}{% block content %}{% endblock %}"
        "</body></html>"
    )
    templates = [{**settings.TEMPLATES[0], "DIRS": [str(tmp_path)]}]
    settings.TEMPLATES = templates
    r = browser.login("/protected/", "test0401", ptags=set())
    assert r.status_code == 403
    assert b"SITE FRAME /protected/" in r.content
    assert b"did not let you log in" in r.content


def test_a_site_page_replaces_ours(settings, tmp_path, browser):
    (tmp_path / "raven").mkdir()
    (tmp_path / "raven" / "login_failed.html").write_text("ours: {{ wls_status }}")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [str(tmp_path)]}]
    r = browser.login("/protected/", status=410)
    assert (r.status_code, r.content) == (401, b"ours: 410")


def test_pages_escape_what_they_show(browser, settings):
    settings.RAVEN_REQUIRE_PRINCIPAL = {"nobody"}
    r = browser.login("/protected/", "<b>x</b>")
    assert r.status_code == 403
    assert b"&lt;b&gt;x&lt;/b&gt;" in r.content and b"<b>x</b>" not in r.content


# --- the fixtures under pytest-django -------------------------------------------------------


def test_raven_login_fixture_with_pytest_djangos_client(client, raven_login):
    page = raven_login(client, "https://www.example.cam.ac.uk/members/", "abc123")
    assert page.content == b"Members' page for abc123"


def test_raven_login_fixture_on_testserver_through_allowed_hosts(client, raven_login, settings):
    del settings.RAVEN_ORIGIN  # ALLOWED_HOSTS, with pytest-django's "testserver"
    page = raven_login(client, "/protected/", "abc123")
    assert page.content == b"Hello, abc123 (abc123)"
    assert raven_login(client.__class__(), "/staff/", "abc123").status_code == 403


def test_raven_login_explains_a_live_configuration(client, raven_login, settings):
    from raven.testing import LoginFlowError

    settings.RAVEN_WLS = "live"
    with pytest.raises(LoginFlowError, match="RAVEN_WLS"):
        raven_login(client, "https://www.example.cam.ac.uk/members/")
