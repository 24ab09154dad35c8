"""Any Ucam-WebAuth server, by settings alone: a second local test WLS with
its own freshly made key and its own URL path, over real HTTP; a rollover
of its keys; and the seed's subclass form beside it."""

from __future__ import annotations

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from tests.browsing import HTTPBrowser
from tests.servers import flask_members_site

from raven.flask_glue import AuthDecorator
from raven.keys import PUBKEY901, SigningKey
from raven.wls import create_app as create_wls
from raven.wls.server import LiveServer


def new_key(kid: str) -> SigningKey:
    return SigningKey(rsa.generate_private_key(public_exponent=65537, key_size=2048), kid)


def write_public(key: SigningKey, path) -> None:
    path.write_bytes(key.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))


def society_wls(key: SigningKey) -> LiveServer:
    return LiveServer(create_wls({
        "RAVEN_WLS_SIGNING_KEY": key,
        "RAVEN_WLS_AUTHENTICATE_PATH": "/society/webauth/login",
        "RAVEN_WLS_USERS": [("soc42", "secret", {"current"})],
    })).start()


def site_for(**config) -> LiveServer:
    return flask_members_site(config, AuthDecorator(desc="Society site"))


def log_in(site_url: str, user: str = "soc42", password: str = "secret") -> requests.Response:
    browser = HTTPBrowser()
    return browser.log_in(browser.go(site_url + "/members"), user, password)


@pytest.fixture(scope="module")
def keys():
    return new_key("42"), new_key("43")


def test_a_second_wls_with_its_own_key_and_path_by_settings_alone(keys, tmp_path):
    old, _ = keys
    write_public(old, tmp_path / "pubkey42.pem")
    wls = society_wls(old)
    try:
        site = site_for(RAVEN_WLS=wls.url + "/society/webauth/login",
                        RAVEN_KEY_DIR=str(tmp_path))
        try:
            done = log_in(site.url)
            assert (done.status_code, done.text) == (200, "Hello soc42")
            assert done.url == site.url + "/members"
        finally:
            site.stop()
        # the same site trusting only the demo key refuses that server's logins
        strict = site_for(RAVEN_WLS=wls.url + "/society/webauth/login",
                          RAVEN_KEYS={"901": PUBKEY901})
        try:
            refused = log_in(strict.url)
            assert refused.status_code == 400 and "Check that failed: kid" in refused.text
        finally:
            strict.stop()
    finally:
        wls.stop()


def test_rollover_old_and_new_trusted_then_the_old_dropped(keys, tmp_path):
    old, new = keys
    write_public(old, tmp_path / "pubkey42.pem")
    write_public(new, tmp_path / "pubkey43.pem")
    for key in (old, new):  # rollover: both kids trusted at once
        wls = society_wls(key)
        site = site_for(RAVEN_WLS=wls.url + "/society/webauth/login",
                        RAVEN_KEY_DIR=str(tmp_path))
        try:
            assert log_in(site.url).text == "Hello soc42"
        finally:
            site.stop()
            wls.stop()
    (tmp_path / "pubkey42.pem").unlink()  # rollover done: the old key goes
    wls = society_wls(old)
    site = site_for(RAVEN_WLS=wls.url + "/society/webauth/login", RAVEN_KEY_DIR=str(tmp_path))
    try:
        refused = log_in(site.url)
        assert refused.status_code == 400 and "Check that failed: kid" in refused.text
    finally:
        site.stop()
        wls.stop()
