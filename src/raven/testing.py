"""Helpers for testing Raven-protected applications offline.

Everything here signs with the published demo key (kid 901) unless told
otherwise. Responses it makes are only accepted by configurations that
trust that key (``raven.demoserver`` or a local test WLS), never by live
``raven.Response``.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import raven._check  # noqa: F401  (first: a clear error if 'raven' is another package)

from .errors import MalformedResponseError
from .keys import DEMO_KEYS, SigningKey
from .protocol import RAVEN_AUTH, RAVEN_DEMO_AUTH, parse_issue, strip_query
from .request import STAND_IN_WLS_URL
from .response import STAND_IN_KEYS, mint_response

__all__ = ["LoginFlowError", "demo_server_as_live", "login", "make_response"]

_DEFAULT = object()


def make_response(
    url: str,
    principal: str | None | object = _DEFAULT,
    *,
    status: int = 200,
    ptags: Iterable[str] | None | object = _DEFAULT,
    auth: str | None | object = _DEFAULT,
    sso: Iterable[str] | None = None,
    issue: datetime | str | None = None,
    life: int | None = None,
    params: str | None = None,
    msg: str | None = None,
    ver: int = 3,
    id: str | None = None,
    signing_key: SigningKey | None | object = _DEFAULT,
) -> str:
    """A genuinely signed ``WLS-Response`` string for ``url``.

    Defaults make a fresh v3 success for ``test0001`` with ptag ``current``
    and ``auth=pwd``; with a failure ``status`` the defaults are empty, as
    the protocol wants. Pass ``signing_key=None`` for an unsigned response,
    or your own :class:`raven.keys.SigningKey`. No rule is enforced here, so
    tests can also make the bad responses an attacker would.

    ``issue`` is when the WLS made it (default: now): a ``datetime``, naive
    UTC or aware, or the protocol's own text, e.g. ``"20200101T000000Z"``.
    """
    issue = _issue_time(issue)
    success = status == 200
    if principal is _DEFAULT:
        principal = "test0001" if success else None
    if ptags is _DEFAULT:
        ptags = {"current"} if success and ver == 3 else None
    if auth is _DEFAULT:
        auth = "pwd" if success and not sso else None
    if signing_key is _DEFAULT:
        signing_key = SigningKey.demo() if success else None
    return mint_response(
        signing_key,  # type: ignore[arg-type]
        url=url, status=status, principal=principal, ptags=ptags,  # type: ignore[arg-type]
        auth=auth, sso=sso, issue=issue, life=life, params=params,  # type: ignore[arg-type]
        msg=msg, ver=ver, id=id,
    )


def _issue_time(issue: object) -> datetime | None:
    if issue is None:
        return None
    if isinstance(issue, datetime):
        if issue.tzinfo is not None:
            return issue.astimezone(timezone.utc).replace(tzinfo=None)
        return issue
    if isinstance(issue, str):
        try:
            return parse_issue(issue)
        except MalformedResponseError:
            raise ValueError(
                f"issue={issue!r} is not in the protocol's form YYYYMMDDTHHMMSSZ, "
                "e.g. '20200101T000000Z' (UTC)"
            ) from None
    raise TypeError(
        f"issue must be a datetime (naive UTC, or aware) or text such as "
        f"'20200101T000000Z', not {type(issue).__name__} {issue!r}"
    )


class LoginFlowError(AssertionError):
    """The application did not behave like a Raven-protected one."""


_REDIRECTS = (301, 302, 303, 307, 308)


def login(
    client: Any,
    path: str = "/",
    principal: str | None | object = _DEFAULT,
    *,
    status: int = 200,
    ptags: Iterable[str] | None | object = _DEFAULT,
    follow: bool = True,
    **fields: Any,
) -> Any:
    """Log a test client in through the application's real Raven flow: a
    Flask test client, Django's test client (pytest-django's ``client``
    too), Werkzeug's ``Client`` on any WSGI application (one behind
    :class:`raven.wsgi.RavenMiddleware`, say), or Starlette's / FastAPI's
    ``TestClient`` (any client built on httpx; redirects are followed here,
    one at a time).

    Requests ``path``, which must redirect to a WLS, at once or through the
    site's own redirects (a Django ``@login_required`` view sends the
    browser to ``LOGIN_URL`` first); answers that request as the WLS would
    (a signed response for its ``url``, carrying its ``params``, in the
    version it asked for); takes the response back to the application and,
    with ``follow``, follows the application's own redirects, as a browser
    would, to the page it would end on (a Django admin page refusing a user
    who is not staff: the 403, not the redirect to the admin's login page).
    A redirect off the site (to the WLS again, or another origin) is
    returned as it is; a loop, or more than :data:`MAX_REDIRECTS`, raises
    :class:`LoginFlowError` naming it. Returns the last response. Other
    keyword arguments (``auth``, ``sso``, ``life``, ``issue``, ``msg`` …)
    go to :func:`make_response`. ``path`` may be a
    whole URL, for a site that answers for one origin only.

    The application must trust the demo key, as it does when configured for
    the demo server or a local test WLS: an application configured for live
    Raven is refused with an explanation rather than fooled.

    A site configured for Entra ID is logged in the same way through the
    local OpenID provider it must then be pointed at (``raven wls`` serves
    one, and prints the settings): ``principal`` becomes a user there, with
    ``ptags`` (``current`` puts them in the staff group), and logs in
    through its form.
    """
    here = path
    answer = _get(client, here)
    for _ in range(_SITE_REDIRECTS):
        if answer.status_code not in _REDIRECTS or _is_login_request(answer.headers["Location"]):
            break
        here = urljoin(here, answer.headers["Location"])
        answer = _get(client, here)
    if answer.status_code not in _REDIRECTS:
        raise LoginFlowError(
            f"GET {here} answered {answer.status_code}, not a redirect to the WLS: "
            f"is the view protected, and is the client logged out? The page said: "
            f"{_page_text(answer)!r}"
        )
    location = answer.headers["Location"]
    if location.startswith(RAVEN_AUTH):
        raise LoginFlowError(
            "the application sends people to live Raven; under test, configure it for "
            "the local test WLS or the demo server (RAVEN_WLS = 'demo' or the local "
            "WLS URL, in Flask's config or Django's settings)"
        )
    if _is_oidc_request(location):  # Entra ID: the local OpenID provider logs the user in
        here = _oidc_login(location, principal, ptags, status)
        answer = _get(client, here)
        return _follow(client, here, answer) if follow else answer
    query = parse_qs(urlsplit(location).query)
    try:
        url = query["url"][0]
        asked_ver = int(query.get("ver", ["3"])[0])
    except (KeyError, ValueError):
        raise LoginFlowError(f"{location} is not an authentication request") from None
    iact = query.get("iact", [None])[0]
    ver = fields.pop("ver", asked_ver)
    if status == 200 and "auth" not in fields and "sso" not in fields and iact == "no":
        fields["sso"] = {"pwd"}  # what a WLS answers without asking for a password
    fields.setdefault("params", query.get("params", [None])[0])
    response = make_response(url, principal, status=status, ptags=ptags, ver=ver, **fields)
    back = strip_query(url) if ver == 1 else url  # version 1 loses the query
    sep = "&" if "?" in back else "?"
    here = back + sep + urlencode({"WLS-Response": response})
    answer = _get(client, here)
    return _follow(client, here, answer) if follow else answer


#: Redirects followed after the response, as a browser would, before giving up.
MAX_REDIRECTS = 10


def _follow(client: Any, here: str, answer: Any) -> Any:
    """Follow the site's redirects from ``answer`` (the page at ``here``) to
    the page a browser would end on: the first that is not a redirect, or a
    redirect that leaves the site (to the WLS again, or another origin),
    which is returned as it is. Raises LoginFlowError on a loop, or after
    :data:`MAX_REDIRECTS`."""
    seen = [here]
    site = urlsplit(here)[:2]
    while answer.status_code in _REDIRECTS:
        location = answer.headers["Location"]
        target = urljoin(here, location)
        parts = urlsplit(target)
        if _is_wls_request(location) or (parts.netloc and site[1] and parts[:2] != site):
            return answer
        if target in seen:
            chain = " -> ".join([*seen[seen.index(target):], target])
            raise LoginFlowError(f"the site's redirects after the login loop: {chain}")
        if len(seen) > MAX_REDIRECTS:
            raise LoginFlowError(
                f"more than {MAX_REDIRECTS} redirects after the login, from {seen[0]} to {target}"
            )
        seen.append(target)
        here = target
        answer = _get(client, here)
    return answer


def _page_text(response: Any, limit: int = 300) -> str:
    """The words of a page, briefly: its text without tags or runs of spaces."""
    get_data = getattr(response, "get_data", None)  # Werkzeug's; else requests' .text
    body = get_data(as_text=True) if get_data is not None else str(response.text)
    body = re.sub(r"(?is)<(script|style|head)\b.*?</\1\s*>", " ", body)
    text = " ".join(unescape(re.sub(r"<[^>]*>", " ", body)).split())
    if not text:
        return "(nothing)"
    return text if len(text) <= limit else text[: limit - 1] + "…"


#: Redirects followed on the site itself before the one to the WLS.
_SITE_REDIRECTS = 5


def _is_wls_request(location: str) -> bool:
    query = parse_qs(urlsplit(location).query)
    return "url" in query and "ver" in query


def _is_oidc_request(location: str) -> bool:
    query = parse_qs(urlsplit(location).query)
    return query.get("response_type") == ["code"] and "state" in query


def _is_login_request(location: str) -> bool:
    return _is_wls_request(location) or _is_oidc_request(location)


def _oidc_login(location: str, principal: Any, ptags: Any, status: int) -> str:
    """At the local OpenID provider (``raven wls`` or ``raven oidc``, which a
    site under test must be configured for): make ``principal`` a user with
    ``ptags`` (``current`` puts them in the staff group), log in through its
    form as a browser would (or cancel, for a status other than 200), and
    give back the address it returns the browser to."""
    import http.cookiejar
    import urllib.request

    from .oidc.testprovider import TEST_USER_ROUTE

    root = location.split("/oauth2/v2.0/authorize", 1)[0]
    host = urlsplit(location).hostname or ""
    if root == location or host not in ("127.0.0.1", "localhost", "::1"):
        raise LoginFlowError(
            f"the application sends people to {root or location}, not the local OpenID "
            "provider: under test, point it there (the settings `raven wls` or `raven oidc` "
            "print)")
    name = "test0001" if principal is _DEFAULT else str(principal)
    tags = {"current"} if ptags is _DEFAULT else set(ptags or ())

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect())
    password = "raven-testing"
    try:
        opener.open(root + TEST_USER_ROUTE, urlencode(
            {"name": name, "password": password, "ptags": ",".join(sorted(tags))}).encode(),
            timeout=10).close()
        with opener.open(location, timeout=10) as page:
            html = page.read().decode("utf-8", "replace")
            action = re.search(r'<form[^>]*action="([^"]*)"', html)
            form_url = urljoin(page.geturl(), unescape(action.group(1)) if action else "")
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))
        fields = {k: unescape(v) for k, v in fields.items()}
        if status == 200:
            fields.update(userid=name, pwd=password)
        else:
            fields["cancel"] = "cancel"
        opener.open(form_url, urlencode(fields).encode(), timeout=10)
    except urllib.error.HTTPError as answer:
        back = answer.headers.get("Location")
        if answer.code in _REDIRECTS and back:
            return str(back)
        raise LoginFlowError(f"the local OpenID provider answered {answer.code}: "
                             f"{answer.read()[:200]!r}") from None
    except OSError as exc:
        raise LoginFlowError(f"cannot reach the local OpenID provider at {root}: {exc}") from None
    raise LoginFlowError("the local OpenID provider did not send the browser back")


def _get(client: Any, url: str) -> Any:
    """GET ``url`` with ``client``, without following redirects: an httpx
    client (Starlette's TestClient) follows them unless told not to;
    Flask's and Werkzeug's never do. Werkzeug's own ``Client`` (unlike
    Flask's) reads an absolute URL's path only, so its scheme and host go
    in ``base_url``, as a browser would send them; Django's ignores them
    too, so they become ``secure`` and ``Host``."""
    if hasattr(client, "follow_redirects"):
        return client.get(url, follow_redirects=False)
    parts = urlsplit(url)
    django_client = sys.modules.get("django.test.client")
    if django_client is not None and isinstance(client, django_client.Client):
        local = parts.path + ("?" + parts.query if parts.query else "")
        if not parts.netloc:
            return client.get(local)
        return client.get(local, secure=parts.scheme == "https", HTTP_HOST=parts.netloc)
    if parts.scheme and parts.netloc and _is_werkzeug_client(client):
        return client.get(
            parts._replace(scheme="", netloc="").geturl(),
            base_url=f"{parts.scheme}://{parts.netloc}",
        )
    return client.get(url)


def _is_werkzeug_client(client: Any) -> bool:
    try:
        from werkzeug.test import Client
    except ImportError:  # then it is not one
        return False
    return isinstance(client, Client)


@contextmanager
def demo_server_as_live() -> Iterator[None]:
    """For code written against ``raven.Request`` and ``raven.Response``
    directly (a hand-written flow): within this block, in this thread or
    task only, requests meant for live Raven go to the demo server and
    responses are checked with its key, so :func:`login` and
    :func:`make_response` can drive that code. Nothing global changes: a
    live application in another thread keeps trusting live Raven's key.
    """
    url_token = STAND_IN_WLS_URL.set(RAVEN_DEMO_AUTH)
    keys_token = STAND_IN_KEYS.set(DEMO_KEYS)
    try:
        yield
    finally:
        STAND_IN_KEYS.reset(keys_token)
        STAND_IN_WLS_URL.reset(url_token)
