"""The login flow, written once for every framework, as a pure function.

An adapter (Flask, WSGI, Django, ASGI) describes one request as an
:class:`Incoming`, hands over the stored login state (whatever its session
store holds under our key) with the :class:`~raven.settings.Settings`,
``now`` and a fresh random token, and gets back one decision from
:func:`decide`:

- :class:`Allow`: let the request through, as :class:`Login`;
- :class:`ToWLS`: redirect the browser to the WLS;
- :class:`LoggedIn`: a login is complete, redirect to the page;
- :class:`Refuse`: answer ``status`` with a page, and log one line.

Each decision carries the new state to store (``None``: leave it as it
is). Most requests only need :func:`current`: the stored login lets them
through, and the adapter need not build an :class:`Incoming`. Nothing here
does I/O or reads a clock, so every rule is tested
directly; adapters only translate.
"""

from __future__ import annotations

import calendar
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, NamedTuple
from urllib.parse import unquote_plus, urlencode, urlsplit

from . import pending
from .checks import params_mismatch, run_checks
from .errors import RequestError, ResponseError
from .origin import HostError, normalise_origin, site_url, trusted_origin
from .protocol import STATUS_CODES, atypes_acceptable
from .response import Response
from .settings import Settings

__all__ = [
    "RESPONSE_PARAM", "Allow", "BackChannel", "Incoming", "LoggedIn", "Login", "Refuse", "State",
    "ToWLS", "current", "decide", "login_required", "logout", "logout_refusal",
]

#: The query parameter a WLS appends.
RESPONSE_PARAM = "WLS-Response"
#: Headers of every redirect of the flow's: it may set or end a login, and
#: a cache that kept it would share that between visitors.
REDIRECT_HEADERS = {"Cache-Control": "no-store"}
#: Outstanding params tokens kept in a session (:attr:`State.tokens`): one
#: per tab that went to the WLS at the same time; older ones are forgotten.
MAX_TOKENS = 5
#: Layout version of the stored state; any other is no login. A login
#: with an ``oid`` (OpenID Connect) is stored as version 3, one without as
#: version 2, which every earlier release reads.
STATE_VERSION = 2
STATE_VERSION_OID = 3

# Login, State, Incoming and Allow are made on every request: named tuples,
# immutable and cheaper to build than frozen dataclasses.

# --- the stored state ----------------------------------------------------------------


class Login(NamedTuple):
    """Who is logged in, how, and through which WLS and key."""

    principal: str
    ptags: frozenset[str]
    issue: int  # Unix time the WLS issued the response
    life: int | None  # seconds the WLS session had left then
    last: int  # last activity recorded (Unix time)
    auth: str | None
    sso: frozenset[str]
    #: The WLS and the key that made it (:meth:`raven.WLS.issuer_of`).
    issuer: str
    #: The provider's stable id for the user (Entra's ``oid``); None for
    #: a Ucam-WebAuth login.
    oid: str | None = None

    def expiries(self, settings: Settings) -> list[tuple[str, int]]:
        return settings.expiries(self.issue, self.life, self.last)

    def expires(self, settings: Settings) -> int | None:
        return min((when for _, when in self.expiries(settings)), default=None)

    def expired(self, settings: Settings, now: float) -> str | None:
        return settings.expired(self.issue, self.life, self.last, now)

    def valid_for(self, settings: Settings, now: float) -> bool:
        return settings.wls.made(self.issuer) and self.expired(settings, now) is None


class State(NamedTuple):
    """What we keep in a browser's session: one reader, one writer."""

    #: Params tokens kept in the session: by earlier releases, or by a
    #: hand-written flow. The adapters keep each in a cookie of its own
    #: (:mod:`raven.pending`), which concurrent answers cannot overwrite.
    tokens: tuple[str, ...] = ()
    login: Login | None = None

    def dump(self) -> dict[str, Any]:
        """The stored form: plain JSON types, flat and small, as it goes
        into a cookie on every answer that changes it."""
        value: dict[str, Any] = {"v": STATE_VERSION}
        if self.tokens:
            value["t"] = list(self.tokens)
        if self.login is not None:
            login = self.login
            value["l"] = [
                login.principal, ",".join(sorted(login.ptags)), login.issue, login.life,
                login.last, login.auth, ",".join(sorted(login.sso)), login.issuer,
            ]
            if login.oid is not None:
                value["v"] = STATE_VERSION_OID
                value["l"].append(login.oid)
        return value

    def with_token(self, token: str) -> State:
        """A login is starting: remember its params token."""
        return self._replace(tokens=(*self.tokens[-(MAX_TOKENS - 1):], token))

    def spend(self, params: str) -> State:
        """A response carrying ``params`` arrived: forget the token, which
        works once. Raises ParamsMismatchError if it is not one of ours."""
        if params not in self.tokens:
            raise params_mismatch()
        return self.spent(params)

    def spent(self, params: str) -> State:
        """This state without the token ``params`` (itself if it holds none:
        the token was in a cookie of its own, :mod:`raven.pending`)."""
        if params not in self.tokens:
            return self
        return self._replace(tokens=tuple(t for t in self.tokens if t != params))

    @classmethod
    def load(cls, value: object) -> State:
        """The state stored as ``value``; anything we did not write (another
        layout, an older version, wrong types) is an empty state."""
        if not isinstance(value, dict) or value.get("v") not in _VERSIONS:
            return _EMPTY
        tokens = value.get("t", _NO_TOKENS)
        if tokens is _NO_TOKENS:  # the usual case once logged in
            pass
        elif isinstance(tokens, list | tuple) and all(type(t) is str for t in tokens):
            tokens = tuple(tokens[-MAX_TOKENS:])
        else:
            return _EMPTY
        return cls(tokens, _load_login(value.get("l"), value["v"] == STATE_VERSION_OID))


_EMPTY = State()
_VERSIONS = (STATE_VERSION, STATE_VERSION_OID)
_NO_TOKENS: tuple[str, ...] = ()


def _load_login(value: object, with_oid: bool = False) -> Login | None:
    if not isinstance(value, list) or len(value) != (9 if with_oid else 8):
        return None
    oid = value[8] if with_oid else None
    if with_oid and (type(oid) is not str or not oid):
        return None
    principal, ptags, issue, life, last, auth, sso, issuer = value[:8]
    if not (
        type(principal) is str and principal and type(ptags) is str and type(sso) is str
        and type(issue) is int and type(last) is int and (life is None or type(life) is int)
        and (auth is None or type(auth) is str) and type(issuer) is str
    ):
        return None
    return Login._make(
        (principal, _tags(ptags), issue, life, last, auth, _tags(sso), issuer, oid)
    )


# A site's logins share a handful of ptags and sso lists: each is made into
# a set once (they are immutable), up to a bound.
_TAG_SETS: dict[str, frozenset[str]] = {}


def _tags(text: str) -> frozenset[str]:
    tags = _TAG_SETS.get(text)
    if tags is None:
        tags = frozenset(text.split(",")) if text else frozenset()
        if len(_TAG_SETS) < 64:
            _TAG_SETS[text] = tags
    return tags


# --- a request, and the decisions ---------------------------------------------------


class Incoming(NamedTuple):
    """What an adapter knows about one request.

    ``scheme`` and ``host`` are as the framework sees them (``host`` is the
    client's ``Host`` header, or the forwarded one behind a trusted proxy):
    the core decides whether to trust them. ``path`` is the decoded path
    (script root included); ``query`` the raw query string.
    ``state_came_back`` says whether the request brought any session of ours
    (a cookie), so that a browser refusing cookies is told, not looped.
    """

    method: str
    scheme: str
    host: str
    path: str
    query: bytes = b""
    client: str = ""
    state_came_back: bool = True
    #: Is this a page navigation (see :func:`is_navigation`)? Only one can
    #: follow a redirect to the WLS and show its login page.
    navigation: bool = True
    #: The tokens of the logins under way in this browser, from their
    #: cookies (:func:`raven.pending.read`).
    pending: tuple[str, ...] = ()


def is_navigation(method: str, fetch_mode: str | None, fetch_dest: str | None,
                  accept: str | None) -> bool:
    """Does the request come from a person loading a page, rather than from
    a script or an API client? ``Sec-Fetch-Mode``/``-Dest`` where the
    browser sends them; else a GET or HEAD that accepts HTML (or says
    nothing of what it accepts: a link, curl) is one, and anything asking
    for JSON, or another method without ``text/html``, is not."""
    if fetch_mode:
        return fetch_mode.lower() == "navigate" and (fetch_dest or "document").lower() in (
            "document", "iframe", "frame", "embed", "object")
    wanted = (accept or "").lower()
    if "text/html" in wanted:
        return True
    return method in ("GET", "HEAD") and "json" not in wanted


@dataclass(frozen=True)
class LogLine:
    level: int
    message: str


class Allow(NamedTuple):
    login: Login
    state: State | None = None  # None: unchanged
    log: LogLine | None = None


@dataclass(frozen=True)
class ToWLS:
    location: str
    state: State | None
    log: LogLine | None = None
    #: The token of the login this starts: the browser keeps it in a cookie
    #: of its own (:mod:`raven.pending`), not in the session; ``state`` is
    #: None (nothing to store).
    started: str | None = None


@dataclass(frozen=True)
class LoggedIn:
    location: str
    state: State | None
    login: Login
    #: The principal, ptags or WLS changed (a first login included): the
    #: adapter rotates the session id and runs its ``session_new`` hook.
    new_identity: bool
    log: LogLine | None = None
    #: The token of the login under way this answer used up: its cookie
    #: says so from now on.
    spent: str | None = None


@dataclass(frozen=True)
class Refuse:
    status: int
    check: str
    #: Template name (``raven/<page>.html``) and what it shows.
    page: str
    context: dict[str, Any] = field(default_factory=dict)
    log: LogLine | None = None
    state: State | None = None
    headers: dict[str, str] = field(default_factory=dict)
    #: Answer with this JSON instead of a page (a client that is not a
    #: person at a browser).
    json: dict[str, Any] | None = None
    #: The token of the login under way this answer used up: its cookie
    #: says so from now on.
    spent: str | None = None

    @property
    def reason(self) -> str:
        return REASONS.get(self.check, "The login response was refused.")


@dataclass(frozen=True)
class BackChannel:
    """An OpenID login needs a call to its provider (token endpoint, key
    set) before it can decide: make ``request`` and give its answer to
    ``resume``, which gives the next decision (or call). Only returned by
    :func:`decide` when it is told not to make the call itself."""

    request: Any  # raven.oidc.http.HTTPRequest
    resume: Callable[[Any], Decision | BackChannel]
    state: None = None
    log: LogLine | None = None


Decision = Allow | ToWLS | LoggedIn | Refuse

#: What a user is told about each refused check (the log says more).
REASONS = {
    "method": "A login response can only arrive in a normal page visit (GET).",
    "duplicate": "The web address holds more than one login response.",
    "format": "The login response is damaged, or is not a Raven response.",
    "kid": "The login response is signed with a key this site does not trust.",
    "signature": "The login response's signature is wrong: it was altered or forged.",
    "url": "The login response was made for a different web address.",
    "params": "The login response does not belong to a login started in this "
              "browser, or it has been used already.",
    "iact/aauth": "You did not log in in the way this site requires.",
    "issue": "The login response is too old, or a clock is wrong.",
    "host": "The address this page was asked for is not one this site answers to.",
    "query": "The web address is not valid UTF-8 text.",
    "request": "This page's address cannot be sent to the login service.",
    "expired": "Your login had already expired when it arrived (a clock is wrong, "
               "or the login service's session was about to end). It was not kept: "
               "start again.",
    "logout method": "Logging out is done with the site's logout button (a POST), "
                     "not by visiting an address.",
    "logout origin": "The logout was not asked for by a page of this site.",
    "login required": "This address needs a Raven login: open it in a browser to log in.",
    # OpenID Connect (raven.oidc): the provider's return and its ID token.
    "state": "The login does not belong to a login started in this browser, "
             "or it has been used already.",
    "token endpoint": "The login service could not complete the login (it did not "
                      "answer, or refused this site's request). Try again later.",
    "jwks": "The login service's signing keys could not be fetched. Try again later.",
    "alg": "The login was signed in a way this site does not accept.",
    "iss": "The login was made by another login service than this site's.",
    "aud": "The login was made for another site.",
    "tid": "The login was made by another organisation's login service.",
    "exp": "The login had expired when it arrived, or a clock is wrong.",
    "nbf": "The login is not valid yet: a clock is wrong.",
    "iat": "The login is too old, or a clock is wrong.",
    "nonce": "The login does not belong to a login started in this browser.",
    "auth_time": "This page needs you to type your password again, and the login "
                 "service did not ask for it.",
    "upn": "The login service did not say who you are.",
    "domain": "This site accepts University of Cambridge (@cam.ac.uk) accounts only.",
    "groups": "The login service did not say which groups you belong to (for example, "
              "whether you are current staff or a student), so this site cannot tell "
              "whether you may see it. The site's administrators must ask UIS to add "
              "group claims to the site's Entra ID application.",
}


def emit(decision: Decision, logger: logging.Logger) -> None:
    """Log the decision's line, if it has one."""
    if decision.log is not None:
        logger.log(decision.log.level, "%s", decision.log.message)


def shown(text: object, limit: int = 100) -> str:
    """Client-sent text made safe for one log line: escaped and short."""
    text = str(text)
    return ascii(text[:limit] + ("..." if len(text) > limit else ""))


# --- the state machine -------------------------------------------------------------


def decide(
    incoming: Incoming,
    stored: object,
    settings: Settings,
    now: float,
    token: str | Callable[[], str],
    authorise: Callable[[str, frozenset[str]], bool] | None = None,
    fetch: Any = "settings",
) -> Decision:
    """The one decision for ``incoming``; see the module docstring.

    ``stored`` is what the session holds under our key (or None); ``token``
    a fresh unguessable string (or a function making one, called only if
    needed), used if the browser goes to the WLS;
    ``authorise`` replaces the settings' own require_* rule.

    For an OpenID provider (:mod:`raven.oidc`), the return to its redirect
    path needs back-channel calls: they are made with ``fetch`` (by default
    the provider's own, synchronous); with ``fetch=None`` a
    :class:`BackChannel` is returned instead, for the caller to make.
    """
    if settings.wls.protocol == "oidc":
        from .oidc import step

        if step.is_return(settings.wls, incoming):  # type: ignore[arg-type]
            return step.run(  # type: ignore[return-value]
                step.complete(incoming, State.load(stored), settings, now),
                settings.wls.fetch if fetch == "settings" else fetch,  # type: ignore[attr-defined]
            )
    if not trusted(incoming.scheme, incoming.host, settings):
        # Every answer, a logged-in one too, is for one of the site's own
        # origins only (see the settings' origin rules).
        try:
            site_origin(incoming, settings)
        except HostError as exc:
            return _wrong_host(incoming, settings, exc)
    try:
        values, rest = split_response(incoming.query)
    except ValueError:
        return _refuse(incoming, 400, "query", "bad_request", "the query string is not UTF-8")
    state = State.load(stored)
    if values:
        return _complete(incoming, state, settings, now, values, rest)
    verdict = _judge(state, settings, now, authorise)
    if isinstance(verdict, _Again):
        return _to_wls(incoming, state, settings, token, verdict.expired, verdict.why)
    return verdict


def current(
    query: bytes,
    stored: object,
    settings: Settings,
    now: float,
    authorise: Callable[[str, frozenset[str]], bool] | None = None,
    scheme: str | None = None,
    host: str | None = None,
) -> Allow | Refuse | None:
    """The usual request, decided from its raw query and the stored state
    alone: the Allow (or the 403 Refuse) that :func:`decide` would give, or
    None when decide must be asked. An adapter calls this first so that on
    most requests it need not describe the request at all; ``authorise``
    has then run once, and decide is never asked again."""
    try:
        values, _ = split_response(query)
    except ValueError:
        return None
    if values or (settings.wls.protocol == "oidc" and b"state=" in query):
        return None
    if host is not None and not trusted(scheme or "http", host, settings):
        return None  # decide answers it: 400
    verdict = _judge(State.load(stored), settings, now, authorise)
    return None if isinstance(verdict, _Again) else verdict


class _Again(NamedTuple):
    """The stored login does not hold: to the WLS, saying why."""

    expired: str | None = None  # a reason of Settings.expiries
    why: str | None = None  # for the log


def _judge(
    state: State, settings: Settings, now: float,
    authorise: Callable[[str, frozenset[str]], bool] | None,
) -> Allow | Refuse | _Again:
    """Does the stored login let a request without a response through?"""
    login = state.login
    if login is None:
        return _FIRST_LOGIN
    if not settings.wls.made(login.issuer):
        return _Again(None, "a login made through another WLS or key: back to this page's WLS")
    expired = settings.expired(login.issue, login.life, login.last, now)
    if expired is not None:
        return _Again(expired, f"login expired ({expired}): back to the WLS")
    known = getattr(settings.wls, "response_class", Response).known_atypes
    if settings.checks_atypes and not atypes_acceptable(
        login.auth, login.sso, settings.iact, settings.aauth, known
    ):
        # The login was made for a laxer page (they share the session).
        return _Again(None, "the login does not meet this page's iact/aauth: back to the WLS")
    if not (authorise or settings.authorised)(login.principal, login.ptags):
        return Refuse(
            403, "forbidden", "forbidden",
            {"check": None, "principal": login.principal, "ptags": sorted(login.ptags)},
            LogLine(logging.INFO, f"not authorised: principal {shown(login.principal)}, "
                                  f"ptags {shown(','.join(sorted(login.ptags)))}"),
        )
    if settings.inactive_timeout is not None and now - login.last >= settings.last_resolution:
        login = login._replace(last=int(now))
        return Allow(login, state._replace(login=login))
    return Allow(login)


_FIRST_LOGIN = _Again()


def logout(settings: Settings, back: str | None = None) -> str | None:
    """Where to send the browser after forgetting the login (the adapter
    removes our state): the WLS's logout page, if it has one, with a link
    back to ``back`` (an absolute URL of the site) where the WLS offers one
    (the local test WLS)."""
    location = settings.wls.logout_url
    if location is not None and back is not None and getattr(settings.wls, "kind", "") == "local":
        return f"{location}?{urlencode({'return': back})}"
    return location


class LoggedOut(NamedTuple):
    """The end of a logout journey, somewhere the user can go on from:
    a redirect (``location``), or the site's own "logged out" page
    (``page`` context) linking to the WLS's logout page, which cannot
    link back, and home."""

    location: str | None
    page: dict[str, Any] | None


def logged_out(incoming: Incoming, settings: Settings, home: str) -> LoggedOut:
    """Where a logout (``incoming``, already allowed) ends; ``home`` is the
    site's front page, a path. A WLS that links back (the local test WLS), or an OpenID
    provider that returns to a registered address, is sent to; a WLS whose
    logout page is a dead end (live Raven, the demo server) is offered
    from the site's own page instead; no WLS logout page: home."""
    wls = settings.wls
    if wls.logout_url is None:
        return LoggedOut(home, None)
    if getattr(wls, "kind", "") == "local" or getattr(wls, "protocol", "") == "oidc":
        try:
            back: str | None = own_url(incoming._replace(path=home), settings, b"")
        except HostError:
            back = None
        return LoggedOut(logout(settings, back), None)
    name = "Raven" if getattr(wls, "kind", "") == "live" else getattr(wls, "name", "the WLS")
    return LoggedOut(None, {"wls_logout_url": wls.logout_url, "wls_name": name,
                            "home_url": home, "site_name": settings.desc or "this site"})


def logout_refusal(
    incoming: Incoming, settings: Settings, origin: str | None, referer: str | None,
) -> Refuse | None:
    """May this request end the login? None if so, else the refusal.

    Logging out changes state, so it must be a POST, sent by a page of this
    site (see :func:`cross_site_refusal`). Otherwise any other site could
    log users out (or send them to the WLS logout page) with a form of its own.
    """
    if incoming.method != "POST":
        refusal = _refuse(incoming, 405, "logout method", "logout_refused",
                          f"a logout came with {shown(incoming.method)}, not POST")
        return replace(refusal, headers={"Allow": "POST"})
    return cross_site_refusal(incoming, settings, origin, referer, "logout")


def cross_site_refusal(
    incoming: Incoming, settings: Settings, origin: str | None, referer: str | None,
    what: str,
) -> Refuse | None:
    """None if the request was sent by a page of this site's own origin:
    the browser's ``Origin`` header (else, when a browser leaves it out,
    the origin of ``Referer``) must be the trusted origin of the request.
    For requests a cookie alone must not authorise (a logout, a websocket:
    every ``*.cam.ac.uk`` site is the same *site* to SameSite cookies)."""
    try:
        own = site_origin(incoming, settings)
    except HostError as exc:
        return _wrong_host(incoming, settings, exc)
    sent = _origin_of(origin) if origin else _origin_of(referer)  # "null" is no origin
    if sent is None or sent.lower() != own:
        return _refuse(incoming, 403, f"{what} origin", "logout_refused",
                       f"a {what} sent from {shown(sent)}, not from {shown(own)}")
    return None


def _origin_of(url: str | None) -> str | None:
    if not url:
        return None
    scheme, sep, rest = url.partition("://")
    if not sep:
        return None
    try:
        return normalise_origin(scheme, rest.split("/", 1)[0].split("?", 1)[0])
    except HostError:
        return None


def split_response(query: bytes) -> tuple[list[str], bytes]:
    """The ``WLS-Response`` values in a raw query, and the query without
    them. A name counts however it is spelt (``WLS%2DResponse`` too), as
    every framework's own parser decodes names. Raises ValueError for
    bytes that are not UTF-8."""
    text = query.decode("utf-8")  # raw bytes must be UTF-8; escapes may hold anything
    if "Response" not in text and "%" not in text:  # the usual case
        return [], query
    values, kept = [], []
    for part in text.split("&"):
        name, _, value = part.partition("=")
        if unquote_plus(name, errors="replace") == RESPONSE_PARAM:
            values.append(unquote_plus(value, errors="replace"))
        else:
            kept.append(part)
    return values, "&".join(kept).encode("utf-8")


def trusted(scheme: str, host: str, settings: Settings) -> bool:
    """Is ``scheme://host`` one of the site's origins? Remembered per
    settings for the few host strings a site sees: a lookup a request."""
    seen: dict[tuple[str, str], bool] = settings.__dict__.setdefault("_trusted_hosts", {})
    verdict = seen.get((scheme, host))
    if verdict is None:
        try:
            trusted_origin(scheme, host, origins=settings.origins,
                           host_names=settings.host_names,
                           trust_any_host=settings.trust_any_host)
            verdict = True
        except HostError:
            verdict = False
        if len(seen) < 64:  # bounded: a client may send any Host
            seen[(scheme, host)] = verdict
    return verdict


def site_origin(incoming: Incoming, settings: Settings) -> str:
    """The request's origin, if it is one the operator allowed; else HostError."""
    return trusted_origin(
        incoming.scheme, incoming.host, origins=settings.origins,
        host_names=settings.host_names, trust_any_host=settings.trust_any_host,
    )


def own_url(incoming: Incoming, settings: Settings, query: bytes) -> str:
    """This site's URL for the request, with ``query``; raises HostError
    unless its origin is one the operator allowed."""
    origin = site_origin(incoming, settings)
    return site_url(origin, incoming.path, query)


def _retry_url(incoming: Incoming, rest: bytes) -> str:
    """Path and query of this request minus any response: a "try again" link."""
    url = site_url("", incoming.path, rest)
    return url if url.startswith("/") and not url.startswith("//") else "/"


def _refuse(
    incoming: Incoming, status: int, check: str, page: str, detail: str,
    state: State | None = None, url: str | None = None, **context: Any,
) -> Refuse:
    # One line per refusal, naming the check. Never the response itself nor
    # a cookie: both could be replayed by whoever reads the log.
    what = RESPONSE_PARAM if page in ("bad_response", "no_cookies") else "request"
    where = f" for {shown(url)}" if url else ""
    line = LogLine(logging.WARNING, f"refused a {what} (check {check}) from "
                                    f"{shown(incoming.client)}{where}: {detail}")
    return Refuse(status, check, page, {"check": check, **context}, line, state)


def _wrong_host(incoming: Incoming, settings: Settings, exc: HostError) -> Refuse:
    """A request at an address the site does not answer to. The first in
    this worker (for these settings) also says, in its one log line, how
    the site was reached and where it is configured to be: a mistyped
    RAVEN_ORIGIN, a proxy that does not pass on the scheme, or a browser at
    localhost for 127.0.0.1 show only in a request's Host header."""
    refusal = _refuse(incoming, 400, "host", "bad_request", str(exc))
    if settings.__dict__.get("_told_wrong_host") or refusal.log is None:
        return refusal
    settings.__dict__["_told_wrong_host"] = True
    reached = shown(f"{incoming.scheme}://{incoming.host}")
    if settings.origins:
        where = f"{' '.join(sorted(settings.origins))} (RAVEN_ORIGIN)"
    elif settings.host_names:
        where = (f"the hosts {', '.join(sorted(settings.host_names))} on their default ports "
                 "(the framework's host whitelist)")
    else:
        return refusal
    told = (f"{refusal.log.message}. This is the first request this process refused for its "
            f"address: it was reached at {reached}, and this site answers only at {where}. "
            f"If that is where the site was opened, open it at its origin, or add the origin "
            "it was reached at to RAVEN_ORIGIN; behind a proxy, have the server pass on the "
            "scheme and host the browser used")
    return replace(refusal, log=LogLine(logging.WARNING, told))


def _to_wls(
    incoming: Incoming, state: State, settings: Settings, token: str | Callable[[], str],
    expired: str | None, why: str | None,
) -> ToWLS | Refuse:
    if callable(token):
        token = token()
    try:
        url = own_url(incoming, settings, incoming.query)
    except HostError as exc:
        return _wrong_host(incoming, settings, exc)
    refusal = login_required(incoming, settings, url)
    if refusal is not None:
        return refusal
    msg = settings.timeout_msg if expired is not None and settings.timeout_msg else settings.msg
    # The token names the browser's cookie: only its digest may travel in
    # URLs. (An OpenID provider derives its state from the token itself.)
    params = token if settings.wls.protocol == "oidc" else pending.params_for(token)
    try:
        request = settings.wls.request(
            url, desc=settings.desc, aauth=settings.aauth, iact=settings.iact, msg=msg,
            params=params, fail=settings.fail or None,
        )
    except RequestError as exc:
        return _refuse(incoming, 400, exc.check, "bad_request",
                       f"cannot send {shown(url)} to the WLS: {exc}")
    log = None
    if incoming.method not in ("GET", "HEAD"):
        log = LogLine(logging.WARNING, f"a {shown(incoming.method)} to {shown(incoming.path)} "
                                       "needs a Raven login: the data it carried is lost")
    elif why is not None:
        log = LogLine(logging.INFO, why)
    return ToWLS(str(request), None, log, token)


def login_required(incoming: Incoming, settings: Settings, url: str) -> Refuse | None:
    """The answer to a request that needs a login and is not a page visit:
    401, with JSON and a ``WWW-Authenticate`` header naming ``url``, where a
    person logs in. None for a page visit, or if the site turned it off
    (``api_401``): that one goes to the WLS. Also for an adapter whose
    framework sends such a request to a login page of its own (Django's
    ``@login_required`` and admin)."""
    if incoming.navigation or not settings.api_401:
        return None
    # A script cannot follow the WLS's pages: say where a person logs in.
    return Refuse(
        401, "login required", "login_required",
        {"check": None, "login_url": url}, LogLine(
            logging.INFO, f"a {shown(incoming.method)} to {shown(incoming.path)} that is "
                          "not a page visit needs a Raven login: 401"),
        None, {"WWW-Authenticate": f'Raven realm="{_quoted(_realm(settings, url))}", '
                                   f'login_url="{_quoted(url)}"'},
        json={"error": "login_required", "login_url": url},
    )


def _realm(settings: Settings, url: str) -> str:
    """What the site protects, in words: its ``desc``, else its origin, so
    that a site without ``desc`` is never the empty realm."""
    if settings.desc:
        return settings.desc
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _quoted(text: str) -> str:
    """Text for a quoted string in a header: no quotes, backslashes or controls."""
    return "".join(c for c in text if c.isprintable() and c not in '"\\')[:200]


def _complete(
    incoming: Incoming, state: State, settings: Settings, now: float,
    values: list[str], rest: bytes,
) -> Decision:
    """A response arrived: check it, in the one order, and log in."""
    retry = _retry_url(incoming, rest)
    if incoming.method != "GET":
        refusal = _refuse(incoming, 405, "method", "bad_response",
                          f"it came with {shown(incoming.method)}", retry_url=retry)
        return replace(refusal, headers={"Allow": "GET"})
    if len(values) != 1:
        return _refuse(incoming, 400, "duplicate", "bad_response",
                       f"{len(values)} {RESPONSE_PARAM} values", retry_url=retry)
    if not incoming.state_came_back:
        # We stored a token before sending the browser away: it came
        # back without our cookie. Another redirect would loop forever.
        refusal = _refuse(incoming, 403, "cookies", "no_cookies",
                          "it arrived without a session cookie: the browser refuses "
                          "cookies, or the cookie is not sent back from the WLS",
                          retry_url=retry)
        return refusal
    try:
        url = own_url(incoming, settings, rest)
    except HostError as exc:
        return _wrong_host(incoming, settings, exc)
    try:
        response = settings.wls.parse(values[0])
    except ResponseError as exc:
        return _refuse(incoming, 400, exc.check, "bad_response", str(exc), url=url,
                       retry_url=retry)
    # The params each login under way sent: a token's digest for one kept
    # in a cookie, the token itself for one an earlier release kept stored.
    sent = {pending.params_for(t): t for t in incoming.pending}
    sent.update((t, t) for t in state.tokens)
    spent = None  # the state once the token is spent: it works once, pass or fail
    for name, error in run_checks(
        response, url, iact=settings.iact, aauth=settings.aauth,
        issue_bounds=settings.issue_bounds, now=_utc(now), tokens=sent,
    ):
        if error is None:
            if name == "params":
                token = sent[response.params]
                spent = state.spent(token)
            continue
        current = state.login
        if (
            name == "params" and response.success and current is not None
            and current.principal == response.principal and current.valid_for(settings, now)
        ):
            # The back button: the WLS answered again for someone already
            # logged in here. Nothing changes; go to the page.
            return LoggedIn(url, None, current, False, LogLine(
                logging.INFO, f"a spent {RESPONSE_PARAM} for the current login of "
                              f"{shown(current.principal)}: back to the page"))
        refusal = _refuse(incoming, 400, error.check, "bad_response", str(error),
                          None if spent is state else spent, url, retry_url=retry)
        return refusal if spent is None else replace(refusal, spent=token)
    assert spent is not None
    tokens = spent.tokens
    ended_state = ended(state, spent)
    if not response.success:
        # A failure ends any earlier login, and is shown once: no retry,
        # so a WLS that keeps refusing cannot make a redirect loop.
        status = int(response.status)
        return Refuse(
            401, "login_failed", "login_failed",
            {"check": None, "wls_status": status, "wls_status_text": STATUS_CODES[status],
             "wls_msg": response.msg, "retry_url": retry},
            LogLine(logging.INFO if status == 410 else logging.WARNING,
                    f"the WLS answered {status} ({STATUS_CODES[status]}) for {shown(url)}"),
            ended_state, spent=token,
        )
    assert response.principal is not None and response.kid is not None
    issue = calendar.timegm(response.issue.timetuple())
    login = Login(
        response.principal, response.ptags, issue, response.life, int(now), response.auth,
        response.sso, settings.wls.issuer_of(response.kid),
    )
    expired = login.expired(settings, now)
    if expired is not None:
        return replace(_refuse(incoming, 403, "expired", "bad_response",
                               f"the login of {shown(login.principal)} had expired on arrival "
                               f"({expired}): not kept, no retry", ended_state, url,
                               retry_url=retry), spent=token)
    old = state.login
    new_identity = old is None or (old.principal, old.ptags, old.issuer) != (
        login.principal, login.ptags, login.issuer
    )
    line = LogLine(logging.INFO, f"{shown(login.principal)} logged in (ptags "
                                 f"{shown(','.join(sorted(login.ptags)) or 'none')})")
    # Go where the browser was, not to the response's url: a version 1
    # response has lost the query, and it must not choose another.
    return LoggedIn(url, State(tokens, login), login, new_identity, line, token)


def ended(state: State, spent: State) -> State | None:
    """The state once a response that made no login is answered: any
    earlier login ends; None when there is nothing to change (no session
    is made for a visitor who had none)."""
    if state.login is None and spent.tokens == state.tokens:
        return None
    return State(spent.tokens)


def _utc(now: float) -> datetime:
    return datetime.fromtimestamp(now, timezone.utc).replace(tzinfo=None)
