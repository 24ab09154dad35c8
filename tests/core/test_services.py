import pytest

import raven
from raven import demoserver
from raven.services import DEMO, LIVE, wls_for


def test_each_choice_trusts_its_own_keys_only():
    assert wls_for("live") is LIVE and LIVE.response_class is raven.Response
    assert wls_for(" Demo ") is DEMO and DEMO.response_class is demoserver.Response
    local = wls_for("http://127.0.0.1:5001/")
    assert set(local.keys) == {"901"}
    assert local.auth_url == "http://127.0.0.1:5001/auth/authenticate.html"
    assert local.logout_url == "http://127.0.0.1:5001/auth/logout.html"
    assert str(local.request("http://127.0.0.1:5000/")).startswith(local.auth_url + "?")


@pytest.mark.parametrize("setting", [
    "https://raven.cam.ac.uk/", "https://RAVEN.cam.ac.uk./", "https://x.raven.cam.ac.uk/",
    "ftp://127.0.0.1/", "staging", 5001, "http://127.0.0.1:5001/?x=1",
])
def test_live_lookalikes_and_nonsense_are_refused(setting):
    with pytest.raises(ValueError):
        wls_for(setting)


def test_a_key_directory_is_for_live_raven_only(tmp_path):
    (tmp_path / "pubkey2").write_text(raven.PUBKEY2)
    assert set(wls_for("live", tmp_path).keys) == {"2"}
    with pytest.raises(ValueError):
        wls_for("demo", tmp_path)
