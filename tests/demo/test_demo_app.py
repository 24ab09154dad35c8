"""The demo as a whole: its pages, its settings, its headers and error pages."""

from __future__ import annotations

import pytest

import raven
from raven import demoserver
from raven.demo import create_app
from raven.flask_glue import AuthDecorator, ConfigurationError
from raven.services import wls_for

PAGES = ["/", "/integration", "/logout", "/builder", "/inspect"]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_answers_with_the_layout_and_safe_headers(visitor, page, path):
    r = visitor.get(path)
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    for link in ("/protected", "/integration", "/builder", "/inspect", "/logout"):
        assert f'href="{link}"' in html
    assert "the local test WLS at http://127.0.0.1:5001" in page.text(r)
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "no-referrer"
    assert "default-src 'none'" in r.headers["Content-Security-Policy"]
    assert r.headers["Cache-Control"] == "no-store"
    # no external assets: nothing is fetched from anywhere
    assert "<script" not in html and "<link" not in html and "src=" not in html


def test_home_page_lists_what_the_demo_shows(visitor, page):
    words = page.text(visitor.get("/"))
    for text in ("Protected page", "Integration with an existing login", "Log out",
                 "Request builder", "Response inspector", "test0001", "test0401"):
        assert text in words


def test_a_host_not_in_the_whitelist_gets_a_400_without_links(visitor, page):
    r = visitor.client.get("http://evil.example/integration/login")
    assert r.status_code == 400
    assert "not trusted" in page.text(r)
    assert 'href="/' not in r.get_data(as_text=True)


def test_unknown_page_is_a_404_in_the_layout(visitor, page):
    r = visitor.get("/no/such/page")
    assert r.status_code == 404
    assert "404: Not Found" in page.text(r)


def test_wrong_method_is_a_405_with_allow(visitor):
    r = visitor.client.post(visitor.base + "/protected")
    assert r.status_code == 405
    assert "GET" in r.headers["Allow"]


def test_each_app_has_its_own_random_secret_unless_configured():
    one, two = create_app(), create_app()
    assert one.secret_key != two.secret_key and len(one.secret_key) >= 32
    assert create_app({"SECRET_KEY": "fixed"}).secret_key == "fixed"


def test_defaults_point_at_the_local_wls_on_127_0_0_1():
    app = create_app()
    assert app.config["RAVEN_WLS"] == "http://127.0.0.1:5001"
    assert app.config["TRUSTED_HOSTS"] == ["127.0.0.1"]


def test_bad_settings_fail_at_creation():
    with pytest.raises(ConfigurationError):
        create_app({"RAVEN_WLS": "nonsense"})
    with pytest.raises(ValueError):
        create_app({"TRUSTED_HOSTS": []})


@pytest.mark.parametrize("setting", ["live", "demo", "http://127.0.0.1:5001",
                                     "http://127.0.0.1:5001/"])
def test_the_hand_written_flow_talks_to_the_same_wls_as_the_decorator(setting):
    """The integration page must trust exactly the keys the decorator trusts."""
    from flask import Flask

    app = Flask(__name__)
    app.config.update(SECRET_KEY="x", TRUSTED_HOSTS=["h"], RAVEN_WLS=setting)
    settings = AuthDecorator().init_app(app)
    ours = wls_for(setting)
    built = ours.request("https://h/")
    assert str(built).startswith(settings.wls.auth_url + "?")
    assert ours.logout_url == settings.wls.logout_url
    assert ours.fingerprints == settings.wls.fingerprints


def test_live_trusts_only_live_ravens_key_and_demo_only_the_demo_key():
    assert wls_for("live").keys is raven.Response.keys
    assert wls_for("demo").keys is demoserver.Response.keys
    assert set(wls_for("http://127.0.0.1:1").keys) == {"901"}
    assert wls_for("https://raven.cam.ac.uk/").kind == "live"
    with pytest.raises(ValueError):
        wls_for("https://raven.cam.ac.uk/", demo_key_dir())
    with pytest.raises(ValueError):
        wls_for("ftp://127.0.0.1/")


def test_the_whitelist_holds_where_flask_ignores_trusted_hosts():
    """Flask before 3.1 has no TRUSTED_HOSTS setting; the request class still checks."""
    app = create_app({"TESTING": True})
    app.config["TRUSTED_HOSTS"] = None
    client = app.test_client()
    assert client.get("http://evil.example/integration/login").status_code == 400
    assert client.get("http://127.0.0.1:5000/integration/login").status_code == 303


def demo_key_dir():
    import tempfile
    from pathlib import Path

    path = Path(tempfile.mkdtemp())
    (path / "pubkey901").write_text(demoserver.PUBKEY901)
    return path
