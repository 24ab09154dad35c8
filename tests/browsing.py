"""Browser-like clients shared by the suites: one form reader, one way to
read and answer a redirect to a WLS, in two flavours.

- :class:`TestBrowser`: Flask's test client, on absolute URLs of one site.
- :class:`HTTPBrowser`: ``requests`` over real HTTP, cookies kept,
  redirects followed by hand so the trail of statuses can be checked.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, quote, urljoin, urlsplit

import requests

from raven import testing
from raven.flow import split_response

RESPONSE_PARAM = "WLS-Response"


class Form(HTMLParser):
    """A page's first form, as a browser sees it: action, inputs, buttons."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.action: str | None = None
        self.inputs: dict[str, dict[str, str | None]] = {}
        self.buttons: dict[str | None, dict[str, str | None]] = {}
        self._forms = 0
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self._forms += 1
            if self._forms == 1:
                self.action = a.get("action")
        elif self._forms > 1:
            return
        elif tag == "input":
            self.inputs[a.get("name") or ""] = a
        elif tag == "button":
            self.buttons[a.get("name")] = a

    def hidden(self) -> dict[str, str]:
        return {
            name: a.get("value") or "" for name, a in self.inputs.items()
            if a.get("type") == "hidden"
        }

    def login_fields(self, userid: str = "test0001", pwd: str = "test",
                     cancel: bool = False) -> dict[str, str]:
        """What pressing the login form's button sends: its hidden fields
        and either the user's id and password or the cancel button."""
        fields = self.hidden()
        if cancel:
            fields["cancel"] = (self.buttons.get("cancel") or {}).get("value") or "cancel"
        else:
            fields.update(userid=userid, pwd=pwd)
        return fields


def query_of(location: str) -> dict[str, str]:
    """A redirect's query, one value per name (a request to a WLS)."""
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def response_in(location: str) -> str:
    """The one ``WLS-Response`` a redirect back from a WLS carries."""
    [value], _ = split_response(urlsplit(location).query.encode())
    return value


def with_response(url: str, response: str) -> str:
    """``url`` as the browser arrives at it: ``WLS-Response`` appended."""
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}{RESPONSE_PARAM}={quote(response, safe='')}"


class TestBrowser:
    """Flask's test client for one site: a path is on ``base_url``, a URL as it is."""

    __test__ = False  # not a test class, whatever pytest thinks of the name

    def __init__(self, app: Any, base_url: str) -> None:
        self.app = app
        self.client = app.test_client()
        self.base_url = base_url

    def url(self, path: str) -> str:
        return path if "://" in path else self.base_url + path

    def open(self, path: str, **kwargs: Any) -> Any:
        if "://" not in path:
            kwargs.setdefault("base_url", self.base_url)
        return self.client.open(path, **kwargs)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.open(path, method="GET", **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.open(path, method="POST", **kwargs)

    def start(self, path: str = "/", **kwargs: Any) -> tuple[str, str, dict[str, str]]:
        """Visit a protected page; return (url, params, whole query) sent to the WLS."""
        r = self.get(path, **kwargs)
        assert r.status_code == 303, r.get_data(as_text=True)[:500]
        query = query_of(r.location)
        return query["url"], query["params"], query

    def come_back(self, url: str, response: str, method: str = "GET", **kwargs: Any) -> Any:
        """The browser arriving at ``url`` with ``WLS-Response`` appended."""
        return self.open(with_response(url, response), method=method, **kwargs)

    def login(self, path: str = "/", *principal: Any, **response_kwargs: Any) -> Any:
        """The whole login, by the helper users have: the page afterwards."""
        return testing.login(self.client, self.url(path), *principal, **response_kwargs)

    def session(self) -> dict[str, Any]:
        with self.client.session_transaction(base_url=self.base_url) as sess:
            return dict(sess)

    def with_session(self) -> str:
        """Give the browser a session (as any page that keeps one would):
        its cookie's value, the id an attacker would plant."""
        with self.client.session_transaction(base_url=self.base_url) as sess:
            sess["visited"] = True
        cookie = self.client.get_cookie("session", domain=urlsplit(self.base_url).hostname)
        assert cookie is not None
        return str(cookie.value)

    def pending(self) -> list[str]:
        """The tokens of the logins under way: their cookies (raven.pending)."""
        return [cookie.key.rpartition("raven-login-")[2] for cookie in
                self.client._cookies.values()
                if "raven-login-" in cookie.key and cookie.value.isdigit()]


class HTTPBrowser:
    """``requests`` over real HTTP: cookies kept, redirects followed by hand."""

    def __init__(self) -> None:
        self.http = requests.Session()
        self.trail: list[int] = []
        self.locations: list[str] = []  # every redirect followed, absolute

    def go(self, url: str, method: str = "GET", **kwargs: Any) -> requests.Response:
        """Follow redirects by hand, recording each status in ``trail``."""
        for _ in range(10):
            r = self.http.request(method, url, allow_redirects=False, timeout=10, **kwargs)
            self.trail.append(r.status_code)
            if r.status_code not in (301, 302, 303, 307, 308):
                return r
            url, method, kwargs = urljoin(url, r.headers["Location"]), "GET", {}
            self.locations.append(url)
        raise AssertionError("redirect loop")

    def submit(self, page: requests.Response, fields: dict[str, str]) -> requests.Response:
        """POST ``fields`` to the action of the form on ``page``."""
        return self.go(urljoin(page.url, Form(page.text).action or ""), "POST", data=fields)

    def log_in(self, page: requests.Response, userid: str = "test0001", pwd: str = "test",
               cancel: bool = False) -> requests.Response:
        """Fill in the WLS's login form on ``page`` and follow where it leads."""
        return self.submit(page, Form(page.text).login_fields(userid, pwd, cancel))

    def close(self) -> None:
        self.http.close()
