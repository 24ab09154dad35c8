"""Browser-like clients shared by the suites: one form reader, one way to
read and answer a redirect to a WLS, in three flavours.

- :class:`TestBrowser`: Flask's test client, on absolute URLs of one site.
- :class:`HTTPBrowser`: ``requests`` over real HTTP, cookies kept,
  redirects followed by hand so the trail of statuses can be checked.
- :class:`Tab`: one tab of a browser over real HTTP, in a thread of its
  own; a browser's tabs share one :class:`Jar`, read and written per hop
  as a browser does, so tabs can race.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Callable, Iterable
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from typing import Any, NamedTuple
from urllib.parse import parse_qs, quote, urlencode, urljoin, urlsplit

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


def logins_under_way(cookies: Iterable[tuple[str, str]]) -> list[str]:
    """The tokens of the logins under way among a browser's (name, value)
    cookies: those named after them (raven.pending), not yet spent."""
    return [name.rpartition("raven-login-")[2] for name, value in cookies
            if "raven-login-" in name and value.isdigit()]


def secrets_of(cookies: Iterable[tuple[str, str | None]]) -> list[str]:
    """What no log may show of a browser's (name, value) cookies: every
    value, and the tokens that name the cookies of logins under way."""
    return [part for name, value in cookies
            for part in (name.rpartition("raven-login-")[2], value or "") if len(part) >= 16]


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

    def cookies(self) -> list[tuple[str, str]]:
        return [(cookie.key, cookie.value) for cookie in self.client._cookies.values()]

    def pending(self) -> list[str]:
        """The tokens of the logins under way."""
        return logins_under_way(self.cookies())

    def secrets(self) -> list[str]:
        return secrets_of(self.cookies())


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


class Jar:
    """One browser's cookies, shared by its tabs: each answer's Set-Cookie
    applies when it arrives, the last write of a cookie wins, and a
    request carries the cookies in the jar when it is sent.

    As a browser keeps them (RFC 6265): by host (not port), path and name;
    ``Max-Age`` (before ``Expires``) in the past deletes; a ``Secure``
    cookie is neither set nor sent over plain http."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cookies: dict[tuple[str, str, str], tuple[str, float | None]] = {}

    def header(self, url: str) -> str | None:
        """The Cookie header a request to ``url`` carries now."""
        parts = urlsplit(url)
        path, now = parts.path or "/", time.time()
        with self._lock:
            sent = [(len(cpath), name, value)
                    for (host, cpath, name), (value, expires) in self._cookies.items()
                    if host == parts.hostname and _path_matches(path, cpath)
                    and (expires is None or expires > now)]
        sent.sort(key=lambda c: -c[0])  # longer paths first
        return "; ".join(f"{name}={value}" for _, name, value in sent) or None

    def take(self, url: str, set_cookies: list[str]) -> None:
        """Apply an answer's Set-Cookie headers, in order."""
        parts = urlsplit(url)
        for line in set_cookies:
            pair, *attributes = line.split(";")
            name, eq, value = pair.partition("=")
            if not eq or not name.strip():
                continue
            attrs = {}
            for attribute in attributes:
                key, _, val = attribute.partition("=")
                attrs[key.strip().lower()] = val.strip()
            if "secure" in attrs and parts.scheme != "https":
                continue
            path = attrs.get("path") or ""
            if not path.startswith("/"):  # the default path: the URL's directory
                path = parts.path[:parts.path.rfind("/")] or "/"
            expires: float | None = None
            if "max-age" in attrs:
                try:
                    expires = time.time() + int(attrs["max-age"])
                except ValueError:
                    pass
            elif "expires" in attrs:
                try:
                    expires = parsedate_to_datetime(attrs["expires"]).timestamp()
                except (TypeError, ValueError):
                    pass
            key = (parts.hostname or "", path, name.strip())
            with self._lock:
                if expires is not None and expires <= time.time():
                    self._cookies.pop(key, None)
                else:
                    self._cookies[key] = (value.strip(), expires)

    def names(self, url: str) -> set[str]:
        """The names of the cookies a request to ``url`` would carry."""
        header = self.header(url) or ""
        return {c.split("=", 1)[0] for c in header.split("; ") if c}


def _path_matches(path: str, cookie_path: str) -> bool:
    return path == cookie_path or path.startswith(
        cookie_path if cookie_path.endswith("/") else cookie_path + "/")


class Hop(NamedTuple):
    """One request of a tab and its answer."""

    method: str
    url: str
    status: int
    location: str
    body: str


class Tab:
    """One tab of a browser: follows redirects by hand, reading the shared
    ``jar`` for each hop and applying each answer's cookies on arrival.

    ``hold(url)``: a hop to wait at ``barrier`` before it is sent (once),
    so that tabs in threads send it at the same moment."""

    def __init__(self, jar: Jar, *, hold: Callable[[str], bool] | None = None,
                 barrier: threading.Barrier | None = None, timeout: float = 10) -> None:
        self.jar = jar
        self.hold, self.barrier = hold, barrier
        self.timeout = timeout
        self.trail: list[Hop] = []

    def send(self, method: str, url: str, data: dict[str, str] | None = None,
             host: str | None = None) -> Hop:
        """One request, no redirect followed; ``host``: another Host header."""
        if self.barrier is not None and self.hold is not None and self.hold(url):
            self.barrier.wait()
            self.barrier = None
        parts = urlsplit(url)
        connection = http.client.HTTPConnection(parts.hostname or "", parts.port,
                                                timeout=self.timeout)
        headers = {"Host": host or parts.netloc, "Connection": "close",
                   "Accept": "text/html,application/json"}
        body = None
        if data is not None:
            body = urlencode(data)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        cookie = self.jar.header(url)
        if cookie:
            headers["Cookie"] = cookie
        try:
            connection.request(method, parts.path + (f"?{parts.query}" if parts.query else ""),
                               body=body, headers=headers)
            answer = connection.getresponse()
            self.jar.take(url, answer.msg.get_all("Set-Cookie") or [])
            hop = Hop(method, url, answer.status, answer.getheader("Location") or "",
                      answer.read().decode("utf-8", "replace"))
        finally:
            connection.close()
        self.trail.append(hop)
        return hop

    def go(self, url: str, method: str = "GET", data: dict[str, str] | None = None,
           host: str | None = None) -> Hop:
        """Send, and follow redirects as a browser does (a GET after each)."""
        for _ in range(10):
            hop = self.send(method, url, data, host)
            if hop.status not in (301, 302, 303, 307, 308):
                return hop
            url, method, data, host = urljoin(url, hop.location), "GET", None, None
        raise AssertionError("redirect loop")

    def log_in(self, hop: Hop, userid: str = "test0001", pwd: str = "test") -> Hop:
        """Fill in the login form on the page ``hop`` ended on, and follow."""
        form = Form(hop.body)
        return self.go(urljoin(hop.url, form.action or ""), "POST",
                       form.login_fields(userid, pwd))

    def errors(self) -> list[Hop]:
        """Every 4xx or 5xx answer this tab was given."""
        return [hop for hop in self.trail if hop.status >= 400]


def in_threads(*work: Callable[[], Hop], timeout: float = 30) -> list[Hop | BaseException]:
    """Run each ``work`` (a tab's doing) in a thread of its own, all at
    once; what each returned or raised."""
    results: list[Hop | BaseException] = [TimeoutError("did not finish")] * len(work)

    def run(i: int) -> None:
        try:
            results[i] = work[i]()
        except BaseException as exc:  # noqa: BLE001 (reported by the caller)
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(len(work))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    return results
