"""Fixtures that run the test WLS as a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from urllib.parse import urlencode

import pytest
import requests
from tests.browsing import Form, response_in

import raven
import raven.demoserver
from raven.protocol import strip_query
from raven.wls import AUTHENTICATE_PATH, LOGOUT_PATH, create_app
from raven.wls.server import LiveServer

#: Where responses are sent back to. Nothing listens there: redirects are
#: inspected, never followed.
RETURN_URL = "http://127.0.0.1:9/app/page?next=%2Fhome&x=1"


class Clock:
    """A clock the tests move by hand; starts at the real time."""

    def __init__(self) -> None:
        self.t = float(int(time.time()))

    def __call__(self) -> float:
        return self.t

    def utc(self) -> datetime:
        return datetime.fromtimestamp(self.t, timezone.utc).replace(tzinfo=None)


class Client:
    """A browser-like HTTP client for one WLS: keeps cookies, never follows redirects."""

    def __init__(self, base_url: str, clock: Clock | None = None, *,
                 auth_path: str = AUTHENTICATE_PATH, logout_path: str = LOGOUT_PATH) -> None:
        self.base = base_url
        self.clock = clock
        self.auth_path, self.logout_path = auth_path, logout_path
        self.http = requests.Session()

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.http.get(self.base + path, allow_redirects=False, timeout=10, **kwargs)

    def ask(self, query=None, /, **kw: str) -> requests.Response:
        """GET the authentication page: ``query`` as a dict, pairs or a string,
        or else the default request updated with ``kw``."""
        if query is None:
            query = {"ver": "3", "url": RETURN_URL, **kw}
        if not isinstance(query, str):
            query = urlencode(query)
        return self.get(f"{self.auth_path}?{query}")

    def post(self, fields) -> requests.Response:
        return self.http.post(
            self.base + self.auth_path, data=fields, allow_redirects=False, timeout=10
        )

    def form(self, page: requests.Response) -> Form:
        return Form(page.text)

    def csrf_token(self) -> str:
        """The anti-forgery token of a new login form (its cookie now in this client)."""
        return Form(self.ask().text).hidden()["csrf_token"]

    def logout_token(self) -> str:
        """The anti-forgery token of a new logout form; logged in, or there is none."""
        return Form(self.get(self.logout_path).text).hidden()["csrf_token"]

    def fill_in(self, page: requests.Response, userid="test0001", pwd="test", cancel=False):
        """Submit the login form on ``page`` as a browser would."""
        assert page.status_code == 200, page.text
        form = Form(page.text)
        assert form.action == self.auth_path
        fields = form.hidden()
        if cancel:
            fields["cancel"] = form.buttons["cancel"]["value"]
        else:
            fields.update(userid=userid, pwd=pwd)
        return self.post(fields)

    def logout(self, **kw) -> requests.Response:
        """Press the button on the logout page; ``kw`` goes with the GET."""
        page = self.get(self.logout_path, **kw)
        assert page.status_code == 200, page.text
        form = Form(page.text)
        assert form.action == self.logout_path and form.buttons[None]["id"] == "logout"
        return self.http.post(self.base + self.logout_path, data=form.hidden(),
                              allow_redirects=False, timeout=10)

    def login(self, userid="test0001", pwd="test", **kw: str) -> requests.Response:
        return self.fill_in(self.ask(**kw), userid, pwd)

    def response(
        self, r: requests.Response, url: str = RETURN_URL, *, ver: int | None = None, **checks
    ) -> raven.demoserver.Response:
        """The verified WLS-Response a redirect carries, after every check we can make."""
        assert r.status_code == 303, (r.status_code, r.text[:500])
        location = r.headers["Location"]
        string = response_in(location)
        resp = raven.demoserver.Response(string)
        if ver is not None:
            assert resp.ver == ver
        base = strip_query(url) if resp.ver == 1 else url
        joiner = "&" if "?" in base else "?"
        assert location.startswith(f"{base}{joiner}WLS-Response="), location
        now = self.clock.utc() if self.clock else None
        return raven.validate_response(
            string, url, response_class=raven.demoserver.Response, now=now, **checks
        )


@pytest.fixture(scope="module")
def wls_url():
    """One test WLS, with the default configuration, for a module's tests."""
    with LiveServer(create_app()) as server:
        yield server.url


@pytest.fixture
def client(wls_url):
    c = Client(wls_url)
    yield c
    c.http.close()


@pytest.fixture
def other_client(wls_url):
    """A second browser on the same WLS, with cookies of its own."""
    c = Client(wls_url)
    yield c
    c.http.close()


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def start_wls():
    """Start a test WLS with its own configuration; returns a Client for it."""
    running: list[tuple[LiveServer, Client]] = []

    def start(clock: Clock | None = None, **config) -> Client:
        if clock is not None:
            config["RAVEN_WLS_CLOCK"] = clock
        server = LiveServer(create_app(config)).start()
        paths = {}
        if "RAVEN_WLS_AUTHENTICATE_PATH" in config:
            paths["auth_path"] = config["RAVEN_WLS_AUTHENTICATE_PATH"]
        if "RAVEN_WLS_LOGOUT_PATH" in config:
            paths["logout_path"] = config["RAVEN_WLS_LOGOUT_PATH"]
        c = Client(server.url, clock, **paths)
        running.append((server, c))
        return c

    yield start
    for server, c in running:
        c.http.close()
        server.stop()
