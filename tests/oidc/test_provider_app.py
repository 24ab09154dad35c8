"""The local OpenID provider over real HTTP: its discovery document
describes it, its token endpoint is as strict as a real one, and two tabs
of one browser that load its login form at the same moment both log in."""

from __future__ import annotations

import subprocess
import sys
import threading
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import pytest
import requests
from tests.browsing import Form, Hop, Jar, Tab, in_threads

from raven.oidc import Provider
from raven.oidc.http import HTTPRequest, urllib_fetch
from raven.oidc.provider import Transaction
from raven.oidc.testprovider import (
    COOKIE_NAME,
    FORM_COOKIE_PREFIX,
    LOCAL_CLIENT_ID,
    LOCAL_CLIENT_SECRET,
    create_app,
)
from raven.wls.forms import FORM_LIFETIME
from raven.wls.server import LiveServer

TENANT = "49a50445-bdfa-4b79-ade3-547b4f3986e9"


@pytest.fixture(scope="module")
def server():
    s = LiveServer(create_app()).start()
    yield s
    s.stop()


def test_discovery_gives_the_same_provider_as_the_entra_layout(server):
    answer = urllib_fetch(HTTPRequest(
        "GET", f"{server.url}/{TENANT}/v2.0/.well-known/openid-configuration"))
    assert answer.status == 200
    found = Provider.from_discovery(answer.body, LOCAL_CLIENT_ID, LOCAL_CLIENT_SECRET)
    layout = Provider.entra(LOCAL_CLIENT_ID, LOCAL_CLIENT_SECRET, authority=server.url)
    for name in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri",
                 "end_session_endpoint"):
        assert getattr(found, name) == getattr(layout, name)


def _code(server, transaction: Transaction, redirect_uri: str) -> str:
    provider = Provider.entra(LOCAL_CLIENT_ID, LOCAL_CLIENT_SECRET, authority=server.url)
    http = requests.Session()
    url = str(provider.request("http://127.0.0.1:1/page", params=transaction.token))
    form = http.get(url, timeout=10)
    done = http.post(form.url, data=Form(form.text).login_fields("test0001", "test", False),
                     allow_redirects=False, timeout=10)
    location = done.headers["Location"]
    assert location.startswith(redirect_uri)
    return parse_qs(urlsplit(location).query)["code"][0]


def test_the_token_endpoint_checks_secret_verifier_and_single_use(server):
    t = Transaction("a-token-of-enough-length", "/page")
    redirect_uri = "http://127.0.0.1:1/raven/callback"
    token_url = f"{server.url}/{TENANT}/oauth2/v2.0/token"

    def exchange(code, secret=LOCAL_CLIENT_SECRET, verifier=t.code_verifier):
        return requests.post(token_url, data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
            "code_verifier": verifier, "client_id": LOCAL_CLIENT_ID, "client_secret": secret,
        }, timeout=10)

    code = _code(server, t, redirect_uri)
    assert exchange(code, secret="wrong").status_code == 401
    code = _code(server, t, redirect_uri)
    assert exchange(code, verifier="x" * 43).json()["error"] == "invalid_grant"
    code = _code(server, t, redirect_uri)
    first = exchange(code)
    assert first.status_code == 200 and first.json()["id_token"].count(".") == 2
    assert exchange(code).json()["error"] == "invalid_grant"  # used once


def test_an_unknown_client_or_form_post_is_refused(server):
    base = f"{server.url}/{TENANT}/oauth2/v2.0/authorize?"
    bad = requests.get(base + urlencode({"client_id": "nobody", "redirect_uri": "https://x/"}),
                       timeout=10, allow_redirects=False)
    assert bad.status_code == 400
    t = Transaction("a-token-of-enough-length", "/page")
    provider = Provider.entra(LOCAL_CLIENT_ID, LOCAL_CLIENT_SECRET, authority=server.url)
    url = str(provider.request("https://site.example/p", params=t.token)).replace(
        "response_mode=query", "response_mode=form_post")
    answer = requests.get(url, timeout=10, allow_redirects=False)
    assert answer.status_code == 303 and "error=invalid_request" in answer.headers["Location"]


def _login_page(server, http: requests.Session, redirect_uri="http://127.0.0.1:1/page"):
    provider = Provider.entra(LOCAL_CLIENT_ID, LOCAL_CLIENT_SECRET, authority=server.url)
    t = Transaction("a-token-of-enough-length", "/page")
    return http.get(str(provider.request(redirect_uri, params=t.token)), timeout=10)


def test_a_login_form_token_lives_in_a_cookie_named_after_it(server):
    http = requests.Session()
    page = _login_page(server, http)
    token = Form(page.text).hidden()["csrf_token"]
    [line] = page.raw.headers.getlist("Set-Cookie")  # and not the session cookie
    assert line.startswith(f"{FORM_COOKIE_PREFIX}{token}=")
    attributes = {a.strip().partition("=")[0].lower(): a.strip().partition("=")[2]
                  for a in line.split(";")[1:]}
    assert attributes["path"] == urlsplit(page.url).path
    assert attributes["samesite"] == "Strict" and "httponly" in attributes
    assert attributes["max-age"] == str(FORM_LIFETIME)


def test_a_form_is_refused_without_its_own_cookie_and_once_sent(server):
    http, other = requests.Session(), requests.Session()
    page = _login_page(server, http)
    fields = Form(page.text).login_fields()
    _login_page(server, other)  # a cookie of its own, for another form
    for sender in (other, requests):  # another browser; no cookies at all
        r = sender.post(page.url, data=fields, allow_redirects=False, timeout=10)
        assert r.status_code == 400 and "test provider" in r.text
    assert http.post(page.url, data=fields, allow_redirects=False, timeout=10).status_code == 303
    assert not [c for c in http.cookies if c.name.startswith(FORM_COOKIE_PREFIX)]
    again = http.post(page.url, data=fields, allow_redirects=False, timeout=10)
    assert again.status_code == 400 and "test provider" in again.text  # spent


def test_the_logout_form_has_a_token_of_its_own(server):
    http = requests.Session()
    page = _login_page(server, http)
    http.post(page.url, data=Form(page.text).login_fields(), allow_redirects=False, timeout=10)
    assert COOKIE_NAME in http.cookies
    logout_url = page.url.split("?")[0].replace("/authorize", "/logout")
    page = http.get(logout_url, timeout=10)
    assert page.status_code == 200, page.text
    fields = Form(page.text).hidden()
    assert http.post(logout_url, data={"csrf_token": "x"}, timeout=10).status_code == 400
    done = http.post(logout_url, data=fields, timeout=10)
    assert done.status_code == 200 and "test0001" in done.text
    assert http.get(logout_url, timeout=10).text.count("csrf_token") == 0  # logged out


def _post_login(tab: Tab, page: Hop) -> int:
    """Press the login button on ``page``: the provider's answer's status
    (not followed: the redirect URI is nowhere)."""
    form = Form(page.body)
    return tab.send("POST", urljoin(page.url, form.action or ""), form.login_fields()).status


def test_two_tabs_loading_the_form_at_once_both_log_in(server):
    """A fresh browser's two tabs ask for the login form at the same moment
    (two sites' logins, or two of one site's, started together): the form
    in either tab works, one after the other."""
    provider = Provider.entra(LOCAL_CLIENT_ID, LOCAL_CLIENT_SECRET, authority=server.url)
    refused = 0
    for trial in range(10):
        jar, barrier = Jar(), threading.Barrier(2, timeout=10)
        tabs = [Tab(jar, hold=lambda url: True, barrier=barrier) for _ in range(2)]
        urls = [str(provider.request("http://127.0.0.1:1/page",
                                     params=Transaction(f"tab-{trial}-{i}-of-enough-length",
                                                        "/page").token)) for i in range(2)]
        pages = in_threads(*(lambda tab=tab, url=url: tab.send("GET", url)
                             for tab, url in zip(tabs, urls, strict=True)))
        statuses = [_post_login(tab, page) if isinstance(page, Hop) else page
                    for tab, page in zip(tabs, pages, strict=True)]
        refused += statuses != [303, 303]
    assert refused == 0, f"one of the two forms was refused in {refused} of 10 trials"


def test_the_command_starts_it_and_prints_the_settings():
    proc = subprocess.Popen([sys.executable, "-m", "raven", "oidc", "--port", "0"],
                            stdout=subprocess.PIPE, text=True)
    try:
        lines = [proc.stdout.readline() for _ in range(4)]
        assert 'RAVEN_WLS="entra"' in lines[3] and "RAVEN_OIDC_AUTHORITY" in lines[3]
        url = lines[1].split()[2].rstrip("/")
        assert requests.get(f"{url}/{TENANT}/discovery/v2.0/keys", timeout=10).json()["keys"]
    finally:
        proc.terminate()
        proc.wait(10)
