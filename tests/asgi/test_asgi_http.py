"""A FastAPI app served by uvicorn on 127.0.0.1 and the local test WLS, over
real HTTP, driven like a browser (cookies kept, the WLS form filled in)."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Annotated
from urllib.parse import quote, urljoin

import pytest
import requests
from fastapi import Depends, FastAPI

from raven.asgi import RavenMiddleware, RavenUser, logout, raven_user
from raven.wls import create_app as create_wls
from raven.wls.server import LiveServer


class LoginForm(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__()
        self.action, self.fields = "", {}
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.action = a.get("action") or ""
        elif tag == "input" and a.get("type") == "hidden":
            self.fields[a["name"] or ""] = a.get("value") or ""


def go(http: requests.Session, url: str, method: str = "GET", trail=None, **kwargs):
    for _ in range(10):
        r = http.request(method, url, allow_redirects=False, timeout=10, **kwargs)
        if trail is not None:
            trail.append(r.status_code)
        if r.status_code not in (301, 302, 303, 307, 308):
            return r
        url, method, kwargs = urljoin(url, r.headers["Location"]), "GET", {}
    raise AssertionError("redirect loop")


def log_in(http, page):
    form = LoginForm(page.text)
    return go(http, urljoin(page.url, form.action), "POST",
              data={**form.fields, "userid": "test0001", "pwd": "test"})


@pytest.fixture(scope="module")
def wls():
    with LiveServer(create_wls()) as server:
        yield server.url


def site(wls_url: str):
    def build(url: str) -> FastAPI:
        app = FastAPI()

        @app.get("/members")
        def members(user: Annotated[RavenUser, Depends(raven_user)]) -> str:
            return "Hello " + user.display_name

        app.post("/logout")(logout)
        app.add_middleware(RavenMiddleware, secret_key="http test secret, long enough", protect=(),
                           origin=url, wls=wls_url, desc="HTTP test")
        return app
    return build


def test_login_sso_and_logout_over_uvicorn(wls, uvicorn_server):
    with uvicorn_server(site(wls)) as server:
        http = requests.Session()
        page = go(http, server.url + "/members?from=test")
        assert page.url.startswith(wls)
        done = log_in(http, page)
        assert (done.status_code, done.json()) == (200, "Hello test0001")
        assert done.url == server.url + "/members?from=test"
        assert done.headers["Cache-Control"] == "private"
        http.cookies.clear(domain="127.0.0.1", path="/", name="raven")
        trail = []
        again = go(http, server.url + "/members", trail=trail)
        assert again.json() == "Hello test0001"
        assert trail == [303, 303, 303, 200]  # app, WLS (sso), app, page
        out = go(http, server.url + "/logout", "POST", headers={"Origin": server.url})
        assert out.url == wls + "/auth/logout.html?return=" + quote(server.url + "/", safe="")
        assert "raven" not in http.cookies  # forgotten here
        form = LoginForm(out.text)  # the WLS's own button ends its session
        done = go(http, urljoin(out.url, form.action), "POST", data=form.fields)
        assert "Logged out of the test web login service" in done.text
        page = go(http, server.url + "/members")
        assert page.url.startswith(wls)  # a password again
        assert "pwd" in page.text


def test_wrong_port_in_host_is_a_400_over_uvicorn(wls, uvicorn_server):
    with uvicorn_server(site(wls)) as server:
        port = int(server.url.rsplit(":", 1)[1])
        r = requests.get(server.url + "/members", allow_redirects=False, timeout=10,
                         headers={"Host": f"127.0.0.1:{port + 1}"})
        assert r.status_code == 400
        assert "Check that failed: host" in r.text
