"""Tests of example_app.py: each logs in through the app's real Raven flow."""

import pytest
from example_app import create_app

from raven.testing import LoginFlowError


@pytest.fixture
def client():
    # Under test the app talks to the demo server's key, never live Raven's.
    app = create_app(RAVEN_WLS="demo", TRUSTED_HOSTS=["localhost"])
    return app.test_client()


def test_a_current_member_sees_their_name(client, raven_login):
    page = raven_login(client, "/", "abc123", ptags={"current"})
    assert page.status_code == 200
    assert "Welcome, abc123!" in page.text


def test_someone_no_longer_current_is_refused(client, raven_login):
    assert raven_login(client, "/", "abc123", ptags=set()).status_code == 403


def test_a_cancelled_login_is_unauthorised(client, raven_login):
    assert raven_login(client, "/", status=410).status_code == 401


def test_a_live_configuration_cannot_be_logged_in_by_the_helpers(raven_login):
    live = create_app(TRUSTED_HOSTS=["localhost"]).test_client()
    with pytest.raises(LoginFlowError, match="live Raven"):
        raven_login(live, "/")
