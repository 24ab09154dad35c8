"""raven_login (raven.testing.login) logs a test client in through a site
configured for Entra ID, unchanged: the local OpenID provider, served for
real, makes the user and logs them in; the site's back channel fetches the
token from it over HTTP."""

from __future__ import annotations

import pytest
from flask import Flask
from starlette.testclient import TestClient

from raven.flask_glue import AuthDecorator
from raven.oidc.testprovider import create_app as create_provider
from raven.oidc.testprovider import site_settings
from raven.testing import LoginFlowError, login
from raven.wls.server import LiveServer

from .test_adapters_entra import SECRET

BASE = "https://www.example.cam.ac.uk"


@pytest.fixture(scope="module")
def provider():
    with LiveServer(create_provider()) as server:
        yield server.url


def flask_site(provider: str) -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="raven_login entra", RAVEN_ORIGIN=BASE,
                      **site_settings(provider))
    auth = AuthDecorator(app=app)

    @app.route("/members")
    @auth
    def members() -> str:
        return f"Hello {auth.principal} ({','.join(sorted(auth.ptags))})"

    return app


def test_raven_login_logs_a_flask_client_in_through_entra(provider):
    client = flask_site(provider).test_client()
    page = login(client, BASE + "/members", "abc123", ptags={"current"})
    assert page.get_data(as_text=True) == "Hello abc123 (current)"
    assert client.get(BASE + "/members").get_data(as_text=True) == "Hello abc123 (current)"


def test_raven_login_through_entra_without_current_is_refused(provider):
    client = flask_site(provider).test_client()
    page = login(client, BASE + "/members", "xyz99", ptags=set())
    assert page.status_code == 403


def test_raven_login_logs_a_starlette_client_in_through_entra(provider):
    from guard_site import starlette_site

    chosen = {k.removeprefix("RAVEN_").lower(): v for k, v in site_settings(provider).items()}
    app = starlette_site(origin=BASE, secret_key=SECRET, **chosen)
    client = TestClient(app, base_url=BASE)
    page = login(client, BASE + "/admin/x", "spqr1", ptags={"current"})
    assert page.json() == {"page": "admin", "user": "spqr1"}


def test_a_cancel_at_the_provider_is_the_sites_page(provider):
    client = flask_site(provider).test_client()
    page = login(client, BASE + "/members", status=410)
    assert page.status_code == 401


def test_a_site_pointed_at_microsoft_is_not_logged_in_by_the_helper():
    app = Flask(__name__)
    app.config.update(SECRET_KEY="k", RAVEN_ORIGIN=BASE, RAVEN_WLS="entra",
                      RAVEN_OIDC_CLIENT_ID="00000000-0000-4000-8000-000000000001",
                      RAVEN_OIDC_CLIENT_SECRET="a secret")
    auth = AuthDecorator(app=app)

    @app.route("/")
    @auth
    def home() -> str:
        return "home"

    with pytest.raises(LoginFlowError, match="local OpenID provider"):
        login(app.test_client(), BASE + "/")


def test_the_raven_wls_fixture_serves_the_provider_too(raven_wls):
    client = flask_site(raven_wls).test_client()
    page = login(client, BASE + "/members", "abc123")
    assert page.get_data(as_text=True) == "Hello abc123 (current)"
