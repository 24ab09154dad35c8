"""For the WSGI middleware's tests: a plain WSGI application behind
RavenMiddleware, configured for a local test WLS, and a visitor (Werkzeug's
test client) that knows the round trip. (On the tests' import path.)"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.browsing import secrets_of
from werkzeug.test import Client

from raven import pending
from raven.flow import State
from raven.testing import login
from raven.wsgi import RavenMiddleware

BASE = "https://www.example.cam.ac.uk"
HOST = "www.example.cam.ac.uk"
LOCAL_WLS = "http://127.0.0.1:5001"
SECRET = "a test secret, long enough"


def echo(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    """A bare WSGI application: tells what the middleware handed on."""
    ptags = environ.get("raven.ptags")
    body = json.dumps({
        "path": environ.get("PATH_INFO"),
        "method": environ["REQUEST_METHOD"],
        "remote_user": environ.get("REMOTE_USER"),
        "auth_type": environ.get("AUTH_TYPE"),
        "principal": environ.get("raven.principal"),
        "ptags": None if ptags is None else sorted(ptags),
        "ptags_type": type(ptags).__name__,
        "issue": environ.get("raven.issue"),
        "expires": environ.get("raven.expires"),
        "login_principal": getattr(environ.get("raven.login"), "principal", None),
    }).encode()
    headers = [("Content-Type", "application/json")]
    if environ.get("PATH_INFO") == "/cached":
        headers.append(("Cache-Control", "public, max-age=60"))
    start_response("200 OK", headers)
    return [body]


def build(app: Any = echo, **kwargs: Any) -> RavenMiddleware:
    kwargs.setdefault("secret_key", SECRET)
    kwargs.setdefault("wls", LOCAL_WLS)
    kwargs.setdefault("origin", BASE)
    kwargs.setdefault("desc", "Test site")
    return RavenMiddleware(app, **kwargs)


class Visitor:
    """Werkzeug's test client on one middleware, at BASE."""

    def __init__(self, middleware: RavenMiddleware) -> None:
        self.middleware = middleware
        self.client = Client(middleware)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.open(path, **kwargs)

    def open(self, path: str, **kwargs: Any) -> Any:
        kwargs.setdefault("base_url", BASE)
        return self.client.open(path, **kwargs)

    def start(self, path: str = "/", **kwargs: Any) -> tuple[str, str, dict[str, str]]:
        """Visit a protected page; return (url, params, whole query) sent to the WLS."""
        r = self.get(path, **kwargs)
        assert r.status_code == 303, r.data
        query = {k: v[0] for k, v in parse_qs(urlsplit(r.location).query).items()}
        return query["url"], query["params"], query

    def come_back(self, url: str, response: str, method: str = "GET", **kwargs: Any) -> Any:
        sep = "&" if "?" in url else "?"
        return self.open(url + sep + urlencode({"WLS-Response": response}), method=method,
                         **kwargs)

    def login(self, path: str = "/", **fields: Any) -> Any:
        return login(self.client, BASE + path, **fields)

    def logout(self, **headers: str) -> Any:
        headers.setdefault("Origin", BASE)
        return self.open("/raven/logout", method="POST", headers=headers)

    @property
    def cookie(self) -> Any:
        return self.client.get_cookie(self.middleware.cookie.name, domain=HOST)

    @property
    def state(self) -> State | None:
        """The stored state as the middleware would read it, with the tokens
        of the logins under way (their own cookies), or None."""
        header = "; ".join(f"{c.key}={c.value}" for c in self.client._cookies.values())
        now = time.time()
        stored = self.middleware.cookie.read(header, now).stored
        under_way = pending.read(header, True, now).tokens
        if stored is None and not under_way:
            return None
        state = State.load(stored)
        return state._replace(tokens=(*state.tokens, *under_way))

    def secrets(self) -> list[str]:
        return secrets_of((c.key, c.value) for c in self.client._cookies.values())

    @property
    def logged_in(self) -> bool:
        state = self.state
        return state is not None and state.login is not None



class _Form(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.action = a.get("action") or ""
        elif tag == "input" and a.get("type") == "hidden":
            self.fields[a["name"] or ""] = a.get("value") or ""


def login_form(html: str) -> tuple[str, dict[str, str]]:
    """The form's action and its hidden fields."""
    form = _Form()
    form.feed(html)
    return form.action, dict(form.fields)
