"""``raven wls``: help, refusals as one line, and a real run in a subprocess."""

from __future__ import annotations

import re
import socket
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

import raven


def test_main_help_lists_wls(raven):
    result = raven("--help")
    assert result.exit_code == 0
    assert "wls" in result.output


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_wls_help(raven, flag):
    result = raven("wls", flag)
    assert result.exit_code == 0
    for text in ("--host", "127.0.0.1", "--port", "5001", "--allow-non-loopback", "test0001"):
        assert text in result.output


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.1", "example.org"])
def test_wls_refuses_non_loopback_hosts(raven, host):
    raven.one_line_error(raven("wls", "--host", host), "loopback", "--allow-non-loopback")


def test_busy_port_is_one_line(raven):
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = str(busy.getsockname()[1])
        raven.one_line_error(raven("wls", "--port", port), "cannot listen", port)


@pytest.mark.parametrize(
    "args, words",
    [
        (["wls", "--port", "abc"], ["--port"]),
        (["wls", "--port", "70000"], ["--port"]),
        (["wls", "--user", "nopassword"], ["--user"]),
        (["wls", "--user", "bad name:pw"], ["--user"]),
        (["wls", "--session-lifetime", "0"], ["--session-lifetime"]),
        (["wls", "--key", "/no/such/key.pem", "--kid", "5"], ["/no/such/key.pem"]),
        (["wls", "--kid", "5"], ["--key"]),
        (["wls", "--allow-host", "a.test:80"], ["--allow-host", "a.test:80"]),
        (["wls", "--allow-host", "0.0.0.0"], ["--allow-host"]),
        (["wls", "--no-test-users"], ["--no-test-users", "--user"]),
        (["wls", "--path", "/a b"], ["--path", "'/a b'"]),
        (["wls", "--path", "/a/../b"], ["--path"]),
        (["wls", "--path", "relative"], ["--path"]),
        (["wls", "--path", "/"], ["--path"]),
        (["wls", "--logout-path", "/x?y"], ["--logout-path"]),
        (["wls", "--path", "/x/logout"], ["--path", "--logout-path", "/x/logout"]),
        (["wls", "--bogus"], ["--bogus"]),
        (["nosuchcommand"], ["nosuchcommand"]),
    ],
)
def test_bad_arguments_are_one_line(raven, args, words):
    raven.one_line_error(raven(*args), *words)


def test_a_key_that_is_not_a_key_is_one_line(raven, tmp_path):
    pem = tmp_path / "key.pem"
    pem.write_text("not a key")
    raven.one_line_error(raven("wls", "--key", str(pem), "--kid", "5"), str(pem))


def test_an_unexpected_error_is_one_line(raven, monkeypatch):
    import raven.wls as wls_package

    def broken(config=None):
        raise RuntimeError("it broke")

    monkeypatch.setattr(wls_package, "create_app", broken)
    monkeypatch.delenv("RAVEN_DEBUG", raising=False)
    raven.one_line_error(raven("wls", "--port", "0"), "RuntimeError", "it broke")


def test_raven_wls_serves_until_interrupted(serving):
    with serving("wls", "--port", "0", "--user", "alice:pw:current", banner_lines=6) as banner:
        assert "development and testing only" in banner[0]
        url = banner[1].split()[2].rstrip("/")
        assert url.startswith("http://127.0.0.1:")
        r = requests.get(url + "/", timeout=10)
        assert r.status_code == 200 and "alice" in r.text
        assert banner[2].split() == ["Requests", "to", url + "/auth/authenticate.html"]
        assert banner[3].split() == ["Logout", "page", url + "/auth/logout.html"]
        assert banner[4].split() == ["Apps", "use", f'RAVEN_WLS="{url}"']


def test_raven_wls_at_a_path_of_its_own(serving):
    args = ("wls", "--port", "0", "--path", "/society/authenticate")
    with serving(*args, banner_lines=6) as banner:
        url = banner[1].split()[2].rstrip("/")
        auth = url + "/society/authenticate"
        assert banner[2].split() == ["Requests", "to", auth]
        assert banner[3].split() == ["Logout", "page", url + "/society/logout"]
        assert banner[4].split() == ["Apps", "use", f'RAVEN_WLS="{auth}"',
                                     f'RAVEN_WLS_LOGOUT="{url}/society/logout"']
        back = "http://127.0.0.1:9/back"
        page = requests.get(auth, params={"ver": "3", "url": back}, timeout=10)
        assert page.status_code == 200 and 'action="/society/authenticate"' in page.text
        assert requests.get(url + "/auth/authenticate.html", params={"ver": "3", "url": back},
                            timeout=10).status_code == 404
        assert 'id="logout"' not in requests.get(url + "/society/logout", timeout=10).text
        assert "/society/authenticate" in requests.get(url + "/", timeout=10).text


def test_raven_wls_logout_path_can_be_given(serving):
    args = ("wls", "--port", "0", "--path", "/a/login", "--logout-path", "/a/bye")
    with serving(*args, banner_lines=6) as banner:
        url = banner[1].split()[2].rstrip("/")
        assert banner[3].split() == ["Logout", "page", url + "/a/bye"]
        assert requests.get(url + "/a/bye", timeout=10).status_code == 200


def test_raven_wls_answers_loopback_names_and_allowed_hosts_only(serving):
    with serving("wls", "--port", "0", "--allow-host", "wls.test", banner_lines=6) as banner:
        url = banner[1].split()[2].rstrip("/")
        port = url.rsplit(":", 1)[1]
        for host, code in ((f"localhost:{port}", 200), (f"wls.test:{port}", 200),
                           (f"rebound.example:{port}", 400), ("", 400)):
            r = requests.get(url + "/", headers={"Host": host}, timeout=10)
            assert r.status_code == code, host


@pytest.fixture
def own_key(tmp_path):
    private = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    pem = tmp_path / "own.pem"
    pem.write_bytes(private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ))
    return str(pem), private.public_key()


def _log_in(url: str, userid: str, pwd: str) -> requests.Response:
    back = "http://127.0.0.1:9/back"
    http = requests.Session()
    page = http.get(url + "/auth/authenticate.html", params={"ver": "3", "url": back},
                    timeout=10)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">',
                             page.text))
    fields.update(userid=userid, pwd=pwd)
    return http.post(url + "/auth/authenticate.html", data=fields, allow_redirects=False,
                     timeout=10)


def _principal(answer: requests.Response, public_key) -> str:
    assert answer.status_code == 303, answer.text
    string = parse_qs(urlsplit(answer.headers["Location"]).query)["WLS-Response"][0]
    return raven.Response(string, keys={"42": public_key}).principal


def test_own_key_and_users_turn_the_test_users_off(serving, own_key):
    pem, public = own_key
    args = ("wls", "--port", "0", "--key", pem, "--kid", "42", "--user", "alice:pw:current")
    with serving(*args, banner_lines=6) as banner:
        url = banner[1].split()[2].rstrip("/")
        assert banner[5].split() == ["Users", "alice", "(test0001-test0500", "are", "off;",
                                     "--test-users", "adds", "them)"]
        assert _log_in(url, "test0001", "test").status_code == 200  # the form again
        assert _principal(_log_in(url, "alice", "pw"), public) == "alice"


@pytest.mark.parametrize("extra", [("--test-users",), ()])
def test_test_users_stay_on_when_asked_or_without_both(serving, own_key, extra):
    pem, public = own_key
    args = ("wls", "--port", "0", "--key", pem, "--kid", "42", *extra)
    if extra:
        args += ("--user", "alice:pw")
    with serving(*args, banner_lines=6) as banner:
        url = banner[1].split()[2].rstrip("/")
        assert banner[5].split()[:3] == ["Test", "users", "test0001-test0500,"]
        assert _principal(_log_in(url, "test0001", "test"), public) == "test0001"


def test_raven_wls_serves_the_local_openid_provider_beside_the_wls(serving):
    from tests.browsing import HTTPBrowser

    from raven.oidc.testprovider import site_settings

    with serving("wls", "--port", "0", banner_lines=8) as banner:
        url = banner[1].split()[2].rstrip("/")
        tenant = "49a50445-bdfa-4b79-ade3-547b4f3986e9"
        assert banner[6].split()[:3] == [
            "Entra", "ID", f"{url}/{tenant}/v2.0/.well-known/openid-configuration,"]
        expected = " ".join(f'{k}="{v}"' for k, v in site_settings(url).items())
        assert banner[7].strip() == "Apps use       " + expected
        discovery = requests.get(f"{url}/{tenant}/v2.0/.well-known/openid-configuration",
                                 timeout=10).json()
        assert discovery["issuer"] == f"{url}/{tenant}/v2.0"
        # the WLS itself still answers beside it
        assert HTTPBrowser().go(url + "/").status_code == 200


def test_without_the_entra_extra_the_test_wls_is_served_alone(monkeypatch):
    """As after `pip install 'ucam-raven[fastapi,dev]'`: no joserfc, so no
    local OpenID provider, and `raven wls` (and the raven_wls fixture) still start."""
    from raven.cli import with_local_provider
    from raven.oidc import jws
    from raven.wls import create_app

    monkeypatch.setattr(jws, "available", lambda: False)
    wls = create_app()
    assert with_local_provider(wls) == (wls, None)
