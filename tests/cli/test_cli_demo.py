"""``raven demo``: the demo app and the local WLS, started together."""

from __future__ import annotations

import re
import socket

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask

import raven.demo as raven_demo
from raven.keys import SigningKey
from raven.wls import create_app as create_wls
from raven.wls.server import LiveServer


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help(raven, flag):
    result = raven("demo", flag)
    assert result.exit_code == 0
    for word in ("--port", "5000", "--wls-port", "5001", "--host", "127.0.0.1", "test0001"):
        assert word in result.output


def test_same_ports_are_refused(raven):
    raven.one_line_error(raven("demo", "--port", "5050", "--wls-port", "5050"),
                         "--port", "--wls-port")


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.1"])
def test_non_loopback_hosts_are_refused(raven, host):
    raven.one_line_error(raven("demo", "--host", host, "--port", "0", "--wls-port", "0"),
                         "loopback")


@pytest.mark.parametrize("which", ["--port", "--wls-port"])
def test_a_busy_port_is_one_line_and_frees_the_other(raven, which):
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = str(busy.getsockname()[1])
        with socket.create_server(("127.0.0.1", 0)) as spare:
            other = spare.getsockname()[1]
        other_flag = "--wls-port" if which == "--port" else "--port"
        raven.one_line_error(raven("demo", which, port, other_flag, str(other)),
                             "cannot listen", port, f"choose another with {which} (0 picks")
    with socket.create_server(("127.0.0.1", other)):
        pass  # nothing was left listening on the other port


def test_the_demo_is_wired_to_the_wls_it_starts(raven, monkeypatch):
    made = []
    real_create_app = raven_demo.create_app

    def create_app(config=None):
        made.append(config)
        return real_create_app(config)

    monkeypatch.setattr(raven_demo, "create_app", create_app)
    monkeypatch.setattr(LiveServer, "serve_forever", lambda self: None)  # return at once
    monkeypatch.setenv("RAVEN_DEMO_SECRET_KEY", "kept across restarts")
    result = raven("demo", "--port", "0", "--wls-port", "0")
    assert result.exit_code == 0, result.output
    (config,) = made
    lines = result.output.splitlines()
    wls_url = next(line.split()[2] for line in lines if line.startswith("  Test WLS"))
    assert config["RAVEN_WLS"] + "/" == wls_url
    assert config["TRUSTED_HOSTS"] == ["127.0.0.1"]
    assert config["SECRET_KEY"] == "kept across restarts"
    assert result.output.strip().endswith("Stopped.")
    assert ("  Use 127.0.0.1 in the address, not another name for it (such as localhost): "
            "the demo answers to that name only") in lines


def test_a_test_wls_already_on_the_port_is_used(raven, monkeypatch):
    made = []
    real_create_app = raven_demo.create_app
    monkeypatch.setattr(raven_demo, "create_app",
                        lambda config=None: made.append(config) or real_create_app(config))
    with LiveServer(create_wls()) as running:
        port = running.url.rsplit(":", 1)[1]
        monkeypatch.setattr(LiveServer, "serve_forever", lambda self: None)
        result = raven("demo", "--port", "0", "--wls-port", port)
    assert result.exit_code == 0, result.output
    assert made[0]["RAVEN_WLS"] == running.url
    assert (f"  Test WLS       {running.url}/   (already running: used as it is, and left "
            "running)") in result.output.splitlines()
    assert "(Ctrl+C stops the demo)" in result.output


@pytest.mark.parametrize("kind", ["a plain web page", "a WLS with another key"])
def test_something_else_on_the_wls_port_is_refused_naming_the_option(raven, kind):
    if kind == "a plain web page":
        app = Flask(__name__)
        app.add_url_rule("/auth/authenticate.html", "page", lambda: "hello",
                         methods=["GET", "POST"])
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        app = create_wls({"RAVEN_WLS_SIGNING_KEY": SigningKey.from_pem(pem, "7")})
    with LiveServer(app) as other:
        port = other.url.rsplit(":", 1)[1]
        raven.one_line_error(raven("demo", "--port", "0", "--wls-port", port),
                             "cannot listen", port, "choose another with --wls-port")


def test_raven_demo_serves_a_login_until_interrupted(serving):
    with serving("demo", "--port", "0", "--wls-port", "0", banner_lines=4) as banner:
        assert "development and testing only" in banner[0]
        demo_url = banner[1].split()[1].rstrip("/")
        wls_url = banner[2].split()[2].rstrip("/")
        assert demo_url.startswith("http://127.0.0.1:") and wls_url.startswith("http://127.0.0.1:")
        browser = requests.Session()
        form = browser.get(demo_url + "/protected", timeout=10)
        assert form.url.startswith(wls_url + "/auth/authenticate.html?")
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">',
                                 form.text))
        fields.update(userid="test0001", pwd="test")
        page = browser.post(wls_url + "/auth/authenticate.html", data=fields, timeout=10)
        assert page.url == demo_url + "/protected"
        assert page.status_code == 200 and "test0001" in page.text
    for url in (demo_url, wls_url):
        with pytest.raises(requests.ConnectionError):
            requests.get(url + "/", timeout=2)


def test_raven_demo_logs_in_through_a_raven_wls_started_before_it(serving):
    with serving("wls", "--port", "0", banner_lines=5) as wls_banner:
        wls_url = wls_banner[1].split()[2].rstrip("/")
        port = wls_url.rsplit(":", 1)[1]
        with serving("demo", "--port", "0", "--wls-port", port, banner_lines=5) as banner:
            demo_url = banner[1].split()[1].rstrip("/")
            assert banner[2].split()[2] == wls_url + "/" and "already running" in banner[2]
            browser = requests.Session()
            form = browser.get(demo_url + "/protected", timeout=10)
            assert form.url.startswith(wls_url + "/auth/authenticate.html?")
            fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">',
                                     form.text))
            fields.update(userid="test0003", pwd="test")
            page = browser.post(wls_url + "/auth/authenticate.html", data=fields, timeout=10)
            assert page.url == demo_url + "/protected" and "test0003" in page.text
        assert requests.get(wls_url + "/", timeout=5).status_code == 200  # left running
