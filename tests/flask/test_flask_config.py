"""Configuration: RAVEN_* keys, choosing the WLS, and refusing unsafe setups."""

from __future__ import annotations

import logging
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from raven import demoserver
from raven.flask_glue import AuthDecorator, ConfigurationError
from raven.keys import PUBKEY901, SigningKey
from raven.protocol import RAVEN_AUTH, RAVEN_DEMO_AUTH, RAVEN_DEMO_LOGOUT, RAVEN_LOGOUT
from raven.testing import make_response


def sent(browser, path="/"):
    """The query of the request the app sends to the WLS, as a dict."""
    r = browser.get(path)
    assert r.status_code == 303
    parts = urlsplit(r.location)
    wls = f"{parts.scheme}://{parts.netloc}{parts.path}"
    return wls, {k: v[0] for k, v in parse_qs(parts.query).items()}


def test_constructor_signature_is_the_documented_one():
    import inspect

    params = inspect.signature(AuthDecorator).parameters
    assert {name: p.default for name, p in params.items()} == {
        "desc": None, "aauth": None, "iact": None, "msg": None, "max_life": 7200,
        "use_wls_life": False, "inactive_timeout": None, "issue_bounds": (15, 5),
        "require_principal": None, "require_ptags": frozenset({"current"}),
        "can_trust_request_host": False, "wls": None, "api_401": True, "app": None,
    }


def test_request_settings_from_config(make_app, browser_for):
    app, _ = make_app(
        AuthDecorator(),
        RAVEN_DESC="From config", RAVEN_AAUTH="pwd", RAVEN_IACT=False, RAVEN_MSG="Why",
        RAVEN_FAIL=True,
    )
    _, query = sent(browser_for(app))
    assert query["desc"] == "From config"
    assert query["aauth"] == "pwd"
    assert query["iact"] == "no"
    assert query["msg"] == "Why"
    assert query["fail"] == "yes"


def test_constructor_arguments_beat_config_and_defaults_yield(make_app, browser_for):
    app, _ = make_app(
        AuthDecorator(desc="From code", max_life=7200),
        RAVEN_DESC="From config", RAVEN_MAX_LIFE=60, RAVEN_INACTIVE_TIMEOUT=30,
    )
    browser = browser_for(app)
    assert sent(browser)[1]["desc"] == "From code"
    browser.login("/")
    kinds = dict(browser.get("/public").json["expires_all"])
    assert kinds["config max life"] == browser.state["issue"] + 7200
    assert kinds["inactive"] == browser.state["last"] + 30


def test_authorisation_from_config(make_app, browser_for):
    app, _ = make_app(
        AuthDecorator(), RAVEN_REQUIRE_PRINCIPAL="test0002, test0003", RAVEN_REQUIRE_PTAGS=None
    )
    assert browser_for(app).login("/", principal="test0003", ptags=set()).status_code == 200
    assert browser_for(app).login("/", principal="test0001").status_code == 403
    assert browser_for(app).login("/", principal="test00").status_code == 403  # not a substring


def test_issue_bounds_and_timeout_msg_from_config(make_app, browser_for):
    from datetime import timedelta

    from raven.response import utcnow

    app, _ = make_app(RAVEN_ISSUE_BOUNDS=(120, 0), RAVEN_TIMEOUT_MSG="Come back")
    browser = browser_for(app)
    url, params, _ = browser.start("/")
    old = make_response(url, params=params, issue=utcnow() - timedelta(seconds=100))
    assert browser.come_back(url, old).status_code == 303
    browser.edit_state(issue=browser.state["issue"] - 7200)
    assert sent(browser)[1]["msg"] == "Come back"


def test_one_decorator_two_apps(make_app, browser_for):
    auth = AuthDecorator()
    app1, _ = make_app(auth, RAVEN_DESC="One")
    app2, _ = make_app(auth, RAVEN_DESC="Two", RAVEN_WLS="demo")
    assert sent(browser_for(app1))[1]["desc"] == "One"
    wls, query = sent(browser_for(app2))
    assert (wls, query["desc"]) == (RAVEN_DEMO_AUTH, "Two")


# --- choosing the WLS --------------------------------------------------------------


def test_live_is_the_default(make_app, browser_for, drop):
    app, _ = make_app(RAVEN_WLS=drop)
    browser = browser_for(app)
    assert sent(browser)[0] == RAVEN_AUTH
    assert browser.get("/logout").location == RAVEN_LOGOUT


def test_demo_server_by_config(make_app, browser_for):
    app, _ = make_app(RAVEN_WLS="demo")
    browser = browser_for(app)
    assert sent(browser)[0] == RAVEN_DEMO_AUTH
    assert browser.login("/").status_code == 200
    assert browser.get("/logout").location == RAVEN_DEMO_LOGOUT


class DemoDecorator(AuthDecorator):
    request_class = demoserver.Request
    response_class = demoserver.Response
    logout_url = demoserver.RAVEN_DEMO_LOGOUT


def test_demo_server_by_subclass(make_app, browser_for, drop):
    app, _ = make_app(DemoDecorator(), RAVEN_WLS=drop)
    browser = browser_for(app)
    assert sent(browser)[0] == RAVEN_DEMO_AUTH
    assert browser.login("/").status_code == 200
    assert browser.get("/logout").location == RAVEN_DEMO_LOGOUT


def test_subclass_and_config_must_agree(make_app):
    app, auth = make_app(DemoDecorator(), RAVEN_WLS="demo")
    auth.init_app(app)
    app, auth = make_app(DemoDecorator(), RAVEN_WLS="live")
    with pytest.raises(ConfigurationError, match="use one or the other"):
        auth.init_app(app)


def test_local_wls_trusts_only_the_demo_key(make_app, browser_for):
    app, auth = make_app(RAVEN_WLS="http://localhost:5001/")
    settings = auth.init_app(app)
    assert settings.wls.auth_url == "http://localhost:5001/auth/authenticate.html"
    assert settings.wls.logout_url == "http://localhost:5001/auth/logout.html"
    assert set(settings.wls.keys) == {"901"}


@pytest.mark.parametrize(
    ("wls", "message"),
    [
        ("ftp://127.0.0.1", "is not an http"),
        ("staging", "is not an http"),
        ("http://127.0.0.1:5001/?x=1", "must not have a query"),
        (5001, "is not an http"),
        ("http://wls.example.org/auth", "must use https"),
        ("http://127.0.0.1.wls.example.org:5001", "must use https"),  # a DNS name
        ("https://wls.example.org/auth", "say which keys"),
    ],
)
def test_bad_wls_setting(make_app, wls, message):
    app, auth = make_app(RAVEN_WLS=wls)
    with pytest.raises(ConfigurationError, match=message):
        auth.init_app(app)


def test_live_configuration_never_trusts_the_demo_key(make_app, tmp_path, drop):
    (tmp_path / "pubkey901").write_text(PUBKEY901)
    app, auth = make_app(RAVEN_WLS="live", RAVEN_KEY_DIR=str(tmp_path))
    with pytest.raises(ConfigurationError, match="demo key"):
        auth.init_app(app)
    (tmp_path / "pubkey901").rename(tmp_path / "pubkey3.pem")  # same key, another name
    with pytest.raises(ConfigurationError, match="demo key"):
        auth.init_app(app)

    class Sneaky(AuthDecorator):
        response_class = demoserver.Response

    app, auth = make_app(Sneaky(), RAVEN_WLS=drop)
    with pytest.raises(ConfigurationError, match="demo key"):
        auth.init_app(app)


def test_live_key_directory(make_app, browser_for, tmp_path):
    """AAKeyDir: a live app may trust another (non-demo) key, and only it."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    (tmp_path / "pubkey3").write_bytes(private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.PKCS1))
    app, _ = make_app(RAVEN_WLS="live", RAVEN_KEY_DIR=str(tmp_path))
    browser = browser_for(app)
    url, params, _ = browser.start("/")
    assert url.startswith("https://www.example.cam.ac.uk")
    r = browser.come_back(url, make_response(url, params=params,
                                             signing_key=SigningKey(private, "3")))
    assert r.status_code == 303
    other = browser_for(app)
    url, params, _ = other.start("/")
    refused = other.come_back(url, make_response(url, params=params))  # demo-signed
    assert refused.status_code == 400
    assert "Check that failed: kid" in refused.get_data(as_text=True)


def test_key_dir_problems(make_app, tmp_path):
    app, auth = make_app(RAVEN_WLS="live", RAVEN_KEY_DIR=str(tmp_path))
    with pytest.raises(ConfigurationError, match="RAVEN_KEY_DIR"):
        auth.init_app(app)
    app, auth = make_app(RAVEN_WLS="demo", RAVEN_KEY_DIR=str(tmp_path / "missing"))
    with pytest.raises(ConfigurationError, match="RAVEN_KEY_DIR"):
        auth.init_app(app)


# --- other refusals ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"RAVEN_MAX_LIFE": 0}, "max_life"),
        ({"RAVEN_MAX_LIFE": "7200.5"}, "RAVEN_MAX_LIFE"),
        ({"RAVEN_INACTIVE_TIMEOUT": -5}, "inactive_timeout"),
        ({"RAVEN_ISSUE_BOUNDS": 15}, "issue_bounds"),
        ({"RAVEN_ISSUE_BOUNDS": (15, -1)}, "issue_bounds"),
        ({"RAVEN_REQUIRE_PTAGS": set()}, "require_ptags"),
        ({"RAVEN_REQUIRE_PRINCIPAL": [1, 2]}, "require_principal"),
        ({"RAVEN_IACT": "maybe"}, "RAVEN_IACT"),
        ({"RAVEN_DESC": "bad\x00desc"}, "desc"),
        ({"RAVEN_AAUTH": "PWD!"}, "aauth"),
        ({"RAVEN_CACHE_CONTROL": 3}, "RAVEN_CACHE_CONTROL"),
        ({"SECRET_KEY": None}, "secret_key"),
        ({"SESSION_COOKIE_SAMESITE": "Strict"}, "Lax"),
    ],
)
def test_bad_settings_refused_at_init_app(make_app, config, message, raven_log):
    app, auth = make_app(AuthDecorator(), **config)
    with pytest.raises(ConfigurationError, match=message):
        auth.init_app(app)
    assert message in raven_log(logging.ERROR)[0].getMessage()


def test_bad_settings_without_init_app_fail_on_first_request(make_app, browser_for):
    app, _ = make_app(RAVEN_MAX_LIFE=-1)
    with pytest.raises(ConfigurationError):
        browser_for(app).get("/")
    app.testing = False  # as in production: a 500, the same for every client
    assert browser_for(app).get("/").status_code == 500


def test_unchecked_host_is_a_configuration_error(make_app, browser_for, raven_log):
    app, _ = make_app(TRUSTED_HOSTS=None)
    with pytest.raises(ConfigurationError, match="TRUSTED_HOSTS") as raised:
        browser_for(app).get("/")
    assert "ALLOWED_HOSTS" not in str(raised.value)  # a Flask site's own settings only
    assert "can_trust_request_host" in raven_log(logging.ERROR)[0].getMessage()


def test_can_trust_request_host_when_the_server_checks_it(make_app, browser_for):
    app, _ = make_app(AuthDecorator(can_trust_request_host=True), TRUSTED_HOSTS=None)
    assert browser_for(app).login("/").status_code == 200
    app, _ = make_app(TRUSTED_HOSTS=None, RAVEN_CAN_TRUST_REQUEST_HOST=True)
    assert browser_for(app).login("/").status_code == 200


# --- templates ------------------------------------------------------------------------


def test_app_templates_override_ours(make_app, browser_for, tmp_path):
    (tmp_path / "raven").mkdir()
    (tmp_path / "raven" / "no_cookies.html").write_text("OUR OWN cookie page {{ status }}")
    (tmp_path / "layout.html").write_text("SITE LAYOUT {% block body %}{% endblock %}")
    (tmp_path / "raven" / "base.html").write_text(
        '{% extends "layout.html" %}{% block body %}{% block content %}{% endblock %}'
        "{% endblock %}"
    )
    app, _ = make_app(template_folder=str(tmp_path))
    browser, cookieless = browser_for(app), browser_for(app)
    url, params, _ = browser.start("/")
    r = cookieless.come_back(url, make_response(url, params=params))
    assert (r.status_code, r.data) == (403, b"OUR OWN cookie page 403")
    r = browser.come_back(url, make_response(url, params="wrong"))
    assert r.status_code == 400
    assert r.data.startswith(b"SITE LAYOUT")  # our page, in the app's own layout
    assert b"Check that failed: params" in r.data


def test_our_templates_get_the_app_context(make_app, browser_for, tmp_path):
    (tmp_path / "raven").mkdir()
    (tmp_path / "raven" / "forbidden.html").write_text("{{ site }}: {{ principal }}")
    app, _ = make_app(template_folder=str(tmp_path))
    app.context_processor(lambda: {"site": "Example"})
    assert browser_for(app).login("/", principal="test0401", ptags=set()).data == (
        b"Example: test0401"
    )


# --- start-up: an origin that cannot match how the site is served ---------------------------


def mismatches(caplog):
    return [r for r in caplog.records if hasattr(r, "raven_mismatch")]


def test_init_app_warns_once_when_trusted_hosts_refuse_the_origin(make_app, caplog, monkeypatch):
    monkeypatch.setattr("sys.argv", ["gunicorn", "app:app"])
    caplog.set_level(logging.WARNING, logger="raven")
    app, auth = make_app(RAVEN_ORIGIN="https://www.example.cam.ac.uk http://127.0.0.1:5000")
    auth.init_app(app)
    AuthDecorator().init_app(app)  # a second decorator: said once for the app
    [record] = mismatches(caplog)
    assert record.raven_mismatch == "whitelist"
    assert "RAVEN_ORIGIN http://127.0.0.1:5000 names a host that TRUSTED_HOSTS does not " \
           "allow" in record.getMessage()
    assert "add '127.0.0.1' to TRUSTED_HOSTS" in record.getMessage()


def test_server_name_and_scheme_at_another_origin_are_said(make_app, caplog):
    caplog.set_level(logging.WARNING, logger="raven")
    app, auth = make_app(RAVEN_ORIGIN="https://www.example.cam.ac.uk",
                         SERVER_NAME="www.example.cam.ac.uk")  # PREFERRED_URL_SCHEME: http
    auth.init_app(app)
    assert [r.raven_mismatch for r in mismatches(caplog)] == ["external"]
    caplog.clear()
    app, auth = make_app(RAVEN_ORIGIN="https://www.example.cam.ac.uk",
                         SERVER_NAME="www.example.cam.ac.uk", PREFERRED_URL_SCHEME="https")
    auth.init_app(app)
    assert mismatches(caplog) == []


def test_flask_run_at_another_origin_is_said(make_app, caplog, monkeypatch):
    caplog.set_level(logging.WARNING, logger="raven")
    monkeypatch.setattr("sys.argv", ["/venv/bin/flask", "--app", "site", "run", "--port=5001"])
    app, auth = make_app(RAVEN_ORIGIN="http://127.0.0.1:5000", TRUSTED_HOSTS=["127.0.0.1"])
    auth.init_app(app)
    [record] = mismatches(caplog)
    assert record.getMessage().startswith(
        "flask run serves http://127.0.0.1:5001, which this site's Raven settings refuse")
    assert "(hint: set RAVEN_ORIGIN = 'http://127.0.0.1:5001'" in record.getMessage()


@pytest.mark.parametrize(("argv", "env", "origin"), [
    (["flask", "run"], {}, "http://127.0.0.1:5000"),
    (["/v/bin/flask", "-A", "x", "--debug", "run", "-p", "8000", "-h", "0.0.0.0"], {},
     "http://0.0.0.0:8000"),
    (["/v/lib/flask/__main__.py", "run", "--host=::1", "--cert", "adhoc"], {},
     "https://[::1]:5000"),
    (["flask", "run"], {"FLASK_RUN_PORT": "8080", "FLASK_RUN_HOST": "localhost"},
     "http://localhost:8080"),
    (["flask", "routes"], {}, None),
    (["gunicorn", "run"], {}, None),
    (["flask", "run", "--port", "x"], {}, None),
])
def test_the_origin_flask_run_serves(argv, env, origin):
    from raven.flask_glue import served_by_flask_run

    assert served_by_flask_run(argv, env) == origin
