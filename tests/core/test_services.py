"""The WLS as a value: presets, any Ucam-WebAuth server from settings,
its keys, and the rules that keep the demo key away from live Raven."""

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

import raven
from raven import demoserver
from raven.keys import DEMO_KEYS, SigningKey
from raven.services import DEMO, LIVE, WLS, wls_for, wls_from_settings
from raven.testing import make_response


def new_key(kid: str) -> SigningKey:
    return SigningKey(rsa.generate_private_key(public_exponent=65537, key_size=2048), kid)


def pem(key: SigningKey) -> bytes:
    return key.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def test_presets_trust_their_own_keys_only():
    assert wls_for("live") is LIVE and LIVE.keys is raven.Response.keys
    assert wls_for(" Demo ") is DEMO and DEMO.keys is demoserver.Response.keys
    assert wls_for(None) is LIVE
    assert LIVE.fingerprints.isdisjoint(DEMO.fingerprints)


def test_a_local_test_wls_from_its_root_url():
    local = wls_for("http://127.0.0.1:5001/")
    assert local.kind == "local" and set(local.keys) == {"901"}
    assert local.auth_url == "http://127.0.0.1:5001/auth/authenticate.html"
    assert local.logout_url == "http://127.0.0.1:5001/auth/logout.html"
    assert str(local.request("http://127.0.0.1:5000/")).startswith(local.auth_url + "?")


def test_any_wls_by_settings_alone(tmp_path):
    key = new_key("7")
    (tmp_path / "pubkey7").write_bytes(pem(key))
    wls = wls_from_settings({
        "RAVEN_WLS": "https://wls.society.example.org/webauth/login",
        "RAVEN_WLS_LOGOUT": "https://wls.society.example.org/webauth/logout",
        "RAVEN_KEY_DIR": str(tmp_path),
    })
    assert (wls.kind, wls.auth_url) == ("other", "https://wls.society.example.org/webauth/login")
    assert wls.logout_url == "https://wls.society.example.org/webauth/logout"
    url = "https://site.example.org/"
    assert wls.parse(make_response(url, signing_key=key)).principal == "test0001"
    with pytest.raises(raven.UnknownKeyError):
        wls.parse(make_response(url))  # the demo key: not this WLS's
    with pytest.raises(ValueError, match="say which keys"):
        wls_for("https://wls.society.example.org/webauth/login")


def test_keys_as_a_mapping_of_kid_to_pem_or_path(tmp_path):
    old, new = new_key("3"), new_key("4")
    (tmp_path / "old.pem").write_bytes(pem(old))
    wls = wls_from_settings({"RAVEN_WLS": "live",
                             "RAVEN_KEYS": {"3": str(tmp_path / "old.pem"), 4: pem(new)}})
    url = "https://site.example.org/"
    assert {wls.parse(make_response(url, signing_key=k)).kid for k in (old, new)} == {"3", "4"}


def test_rollover_trust_both_then_drop_the_old(tmp_path):
    old, new = new_key("3"), new_key("4")
    both = WLS("https://wls.example.org/auth", None, raven.keys.keyring({"3": pem(old),
                                                                        "4": pem(new)}))
    url = "https://site.example.org/"
    old_response = make_response(url, signing_key=old)
    assert both.parse(old_response).kid == "3"
    assert both.parse(make_response(url, signing_key=new)).kid == "4"
    dropped = both.with_keys(raven.keys.keyring({"4": pem(new)}))
    with pytest.raises(raven.UnknownKeyError):
        dropped.parse(old_response)
    # a login recorded with the old key no longer belongs to the WLS
    assert both.made(both.issuer_of("3"))
    assert not dropped.made(both.issuer_of("3"))


@pytest.mark.parametrize("setting", [
    "ftp://127.0.0.1/", "staging", 5001, "http://127.0.0.1:5001/?x=1",
    "http://wls.example.org/auth", "https://user@wls.example.org/auth",
])
def test_nonsense_is_refused(setting):
    with pytest.raises(ValueError):
        wls_for(setting)


@pytest.mark.parametrize("url", [
    "https://raven.cam.ac.uk/auth/authenticate.html", "https://RAVEN.cam.ac.uk./",
    "https://staging.raven.cam.ac.uk/auth/authenticate.html",
])
def test_the_demo_key_is_never_trusted_for_live_ravens_address(url, tmp_path):
    (tmp_path / "pubkey901").write_text(raven.demoserver.PUBKEY901)
    with pytest.raises(ValueError, match="demo key"):
        wls_for(url, tmp_path)
    with pytest.raises(ValueError, match="demo key"):
        WLS(url, None, DEMO_KEYS)


def test_live_ravens_address_is_live_raven():
    assert wls_for("https://raven.cam.ac.uk/") is LIVE


def test_a_key_directory_replaces_a_presets_keys(tmp_path):
    (tmp_path / "pubkey2").write_text(raven.PUBKEY2)
    chosen = wls_for("live", tmp_path)
    assert chosen.kind == "live" and set(chosen.keys) == {"2"}
    assert chosen.same_as(LIVE)
