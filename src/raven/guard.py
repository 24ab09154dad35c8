"""The site's guard, written once for every adapter.

The flow core (:mod:`raven.flow`) decides what one login request means.
Around it, every adapter must also know which paths need a login, where
a login is kept when the framework has no session of its own, when an
identity is handed to the application, which answers are private and
when the session id must change. Each of those rules lives here, once:

- :class:`PathRule`: which paths need a login, matched as *any* router
  could read the path (as written, folded, case- and parameter-blind);
- :class:`LoginCookie`: the signed cookie an adapter keeps for itself
  (name, ``__Host-`` prefix, flags, signing, duplicates, key strength);
- :func:`identity`: the login a request may be given, if any;
- :func:`private`: the ``Cache-Control`` of an answer built for a user;
- :func:`rotates_session`: when the session id must change;
- :func:`new_token`: a fresh params token.

Nothing here does I/O or reads a clock.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple, overload

from .flow import Allow, Decision, Incoming, LoggedIn, Login, State, _judge, cross_site_refusal
from .origin import Mismatch, served_mismatches
from .settings import ConfigurationError, Settings

__all__ = [
    "RETIRED", "Identity", "LoginCookie", "PathRule", "RouteSettings", "SiteGuard",
    "callback_path", "check_secret_key", "identity", "new_token", "once", "private", "retired",
    "rotates_session", "say_mismatches", "stricter", "websocket_identity",
]

logger = logging.getLogger("raven")

Authorise = Callable[[str, frozenset[str]], bool]


def new_token() -> str:
    """A params token: unguessable, URL-safe, used once."""
    return secrets.token_urlsafe(16)


# --- which paths need a login ------------------------------------------------------


class PathRule:
    """Which paths need a login: those under a ``protect`` prefix, less
    those under an ``exempt`` one.

    Routers differ in how they read a path: most fold ``//``, ``.`` and
    ``..``, some do not (Starlette's and Werkzeug's routers hand
    ``/admin/..`` to a ``/admin/{page}`` route), static file servers and
    case-blind file systems read ``/ADMIN``, ``/admin.`` or ``/admin;x`` as
    ``/admin``, and a few decode ``%2e`` or ``%2f`` once more. So a path
    needs a login if *any* of those readings falls under a protected
    prefix, and is exempt only if *every* reading falls under an exempt one.
    Over-protecting a path costs a login; under-protecting it is a hole.
    """

    def __init__(self, protect: Iterable[str] | str = ("/",), exempt: Iterable[str] | str = ()):
        self.protect = _prefixes(protect, "protect")
        self.exempt = _prefixes(exempt, "exempt")
        self._everything = () in self.protect and not self.exempt
        self._loose_protect = _loosened(self.protect)
        self._loose_exempt = _loosened(self.exempt)

    def needs_login(self, path: str) -> bool:
        if self._everything:
            return True
        readings = _readings(path)
        if not any(_under(r, self._loose_protect if loose else self.protect)
                   for r, loose in readings):
            return False
        return not (self.exempt and all(
            _under(r, self._loose_exempt if loose else self.exempt) for r, loose in readings
        ))

    def __repr__(self) -> str:
        shown = ["/" + "/".join(p) for p in self.protect]
        return f"PathRule(protect={shown!r}, exempt={['/' + '/'.join(p) for p in self.exempt]!r})"


Segments = tuple[str, ...]


def _prefixes(value: Iterable[str] | str, name: str) -> tuple[Segments, ...]:
    items = [value] if isinstance(value, str) else list(value)
    prefixes = []
    for item in items:
        if not isinstance(item, str) or not item.startswith("/"):
            raise ConfigurationError(f"{name} must be path prefixes starting with '/': {item!r}")
        prefixes.append(tuple(_fold(_split(item))))
    return tuple(prefixes)


def _loosened(prefixes: tuple[Segments, ...]) -> tuple[Segments, ...]:
    return tuple(tuple(_loose(s) for s in p) for p in prefixes)


def _split(path: str) -> list[str]:
    return [s for s in path.split("/") if s]


def _fold(segments: Iterable[str]) -> list[str]:
    folded: list[str] = []
    for segment in segments:
        if segment == ".":
            continue
        if segment == "..":
            if folded:
                folded.pop()
        else:
            folded.append(segment)
    return folded


_DECODED_AGAIN = re.compile(r"%(2e|2f|5c)", re.IGNORECASE)
_AGAIN = {"2e": ".", "2f": "/", "5c": "/"}


def _loose(segment: str) -> str:
    """A segment as the laxest reader sees it: no ``;`` parameters, no
    trailing dots or spaces, any case."""
    if segment in (".", ".."):
        return segment
    base = segment.split(";", 1)[0]
    return base.rstrip(". ").lower() or base  # "..;" is ".."


def _readings(path: str) -> list[tuple[Segments, bool]]:
    """Each way a router might read ``path``: (segments, loose?)."""
    written = _split(path)
    again = _DECODED_AGAIN.sub(lambda m: _AGAIN[m.group(1).lower()], path.replace("\\", "/"))
    loose = [_loose(s) for s in _split(again)]
    return [
        (tuple(written), False), (tuple(_fold(written)), False),
        (tuple(loose), True), (tuple(_fold(loose)), True),
    ]


def _under(segments: Segments, prefixes: Iterable[Segments]) -> bool:
    return any(segments[:len(p)] == p for p in prefixes)


# --- the adapter's own cookie ------------------------------------------------------

#: Signed-cookie lifetime when ``max_life`` is None (seconds).
DEFAULT_COOKIE_MAX_AGE = 8 * 3600
_COOKIE_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # an RFC 6265 token
_FUTURE_SLACK = 60  # seconds a cookie's time may be ahead of ours (another worker's clock)
MIN_SECRET_LENGTH = 16
#: Verified cookie values a LoginCookie remembers (per worker process).
VERIFIED_CACHE = 256


def check_secret_key(key: object, what: str = "secret_key") -> bytes:
    """The key as bytes, or ConfigurationError if it is missing or weak."""
    hint = ("a random secret of at least 16 characters, e.g. from python -c 'import "
            "secrets; print(secrets.token_urlsafe(32))'; anyone who has it can forge a login")
    if isinstance(key, str):
        key = key.encode("utf-8")
    if not isinstance(key, bytes) or not key:
        raise ConfigurationError(f"{what} is missing: give {hint}")
    if len(key) < MIN_SECRET_LENGTH or len(set(key)) < 8:
        raise ConfigurationError(f"{what} is too weak (short or repetitive): give {hint}")
    return key


class CookieRead(NamedTuple):
    #: The stored state (plain JSON types), or None.
    stored: object
    #: Did any cookie of this name come back (valid or not)?
    came_back: bool
    #: Why a cookie that came back gave no state, for the log.
    problem: str | None = None


class LoginCookie:
    """The login cookie of an adapter with no session store of its own.

    Signed with HMAC-SHA256 under a key derived once from the secret, and
    stamped with the time it was written: a cookie older than ``max_age``,
    altered, or signed for another cookie name is no cookie. On a site whose
    origins are all https the name has the ``__Host-`` prefix, so no
    sibling site (any other ``*.cam.ac.uk`` host) can set or shadow it;
    if two valid cookies of the name still arrive, neither is trusted.
    """

    def __init__(
        self, secret_key: object, settings: Settings, *, name: str | None = None,
        secure: bool | None = None, max_age: int | None = None,
    ) -> None:
        self._key = hmac.new(check_secret_key(secret_key), b"raven.guard.LoginCookie",
                             hashlib.sha256).digest()
        origins = settings.origins or frozenset()
        all_https = bool(origins) and all(o.startswith("https://") for o in origins)
        if secure is None:
            secure = True if all_https else None  # None: as the request came
        elif not isinstance(secure, bool):
            raise ConfigurationError("cookie_secure must be True, False or None")
        if name is None:
            name = "__Host-raven" if secure else "raven"
        if not isinstance(name, str) or not _COOKIE_NAME.fullmatch(name):
            raise ConfigurationError(f"cookie_name {name!r} is not a valid cookie name")
        if name.startswith("__Host-") and secure is not True:
            raise ConfigurationError("a __Host- cookie must be Secure: set cookie_secure=True")
        if name.startswith("__Secure-") and secure is not True:
            raise ConfigurationError("a __Secure- cookie must be Secure: set cookie_secure=True")
        if max_age is None:
            max_age = settings.max_life or DEFAULT_COOKIE_MAX_AGE
        if isinstance(max_age, bool) or not isinstance(max_age, int) or max_age <= 0:
            raise ConfigurationError("cookie_max_age must be a positive whole number of seconds")
        self.name = name
        self.secure = secure
        self.max_age = max_age
        self._context = name.encode("ascii") + b"|"
        #: Values verified lately: value -> (time signed in it, its state).
        #: The state is shared by the requests bringing the value: read only.
        self._verified: dict[str, tuple[int, object]] = {}

    def _mac(self, body: bytes) -> bytes:
        digest = hmac.new(self._key, self._context + body, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=")

    def dumps(self, state: State, now: float) -> str:
        payload = base64.urlsafe_b64encode(
            json.dumps(state.dump(), separators=(",", ":")).encode("utf-8")
        ).rstrip(b"=")
        body = payload + b"." + str(int(now)).encode("ascii")
        return (body + b"." + self._mac(body)).decode("ascii")

    def loads(self, value: str, now: float) -> object:
        """The state a value holds; ValueError if it is not a good cookie of ours.

        A value whose signature was verified is remembered with the time
        signed in it (up to :data:`VERIFIED_CACHE` values, keyed by the
        exact string): the same cookie on the next request is not verified
        and decoded again, but its age is checked against ``now`` every time.
        """
        known = self._verified.get(value)
        if known is not None:
            written, stored = known
            if not now - self.max_age <= written <= now + _FUTURE_SLACK:
                raise ValueError("too old")
            return stored
        raw = value.encode("ascii")  # UnicodeEncodeError is a ValueError
        body, sep, mac = raw.rpartition(b".")
        if not sep or not hmac.compare_digest(mac, self._mac(body)):
            raise ValueError("bad signature")
        payload, _, stamp = body.partition(b".")
        written = int(stamp)
        if not now - self.max_age <= written <= now + _FUTURE_SLACK:
            raise ValueError("too old")
        padded = payload + b"=" * (-len(payload) % 4)
        try:
            stored = json.loads(base64.urlsafe_b64decode(padded))
        except binascii.Error as exc:
            raise ValueError(str(exc)) from None
        if len(self._verified) >= VERIFIED_CACHE:
            self._verified.clear()  # bounded; simple and safe across threads
        self._verified[value] = (written, stored)
        return stored

    def read(self, header: str | None, now: float) -> CookieRead:
        """Our state from a request's ``Cookie`` header(s), joined with "; "."""
        if not header or self.name not in header:
            return _NO_COOKIE
        found: list[object] = []
        values: set[str] = set()
        bad = 0
        for part in header.split(";"):
            name, sep, value = part.partition("=")
            if not sep or name.strip() != self.name:
                continue
            value = value.strip().strip('"')
            if value in values:
                continue
            values.add(value)
            try:
                found.append(self.loads(value, now))
            except ValueError:
                bad += 1
        if len(found) == 1:
            return CookieRead(found[0], True)
        if found:
            return CookieRead(None, True, f"{len(found)} valid cookies named {self.name}: one "
                                          "was set by another site, so none is trusted")
        return CookieRead(None, True, "the login cookie's signature is wrong or it is too old"
                          if bad else None)

    def present(self, header: str | None) -> bool:
        """Did a cookie of this name come back, valid or not?"""
        return bool(header) and any(part.partition("=")[0].strip() == self.name
                                    for part in header.split(";"))  # type: ignore[union-attr]

    def set_cookie(self, state: State | None, now: float, https: bool) -> str:
        """A ``Set-Cookie`` value storing ``state`` (None: delete the cookie)."""
        secure = self.secure if self.secure is not None else https
        flags = "; Path=/; HttpOnly; SameSite=Lax" + ("; Secure" if secure else "")
        if state is None:
            return f"{self.name}={flags}; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT"
        # No Max-Age: it ends with the browser session, as mod_ucam_webauth's
        # does; the time signed inside it bounds it whatever the browser keeps.
        return f"{self.name}={self.dumps(state, now)}{flags}"


_NO_COOKIE = CookieRead(None, False)


# --- when an identity reaches the application ---------------------------------------


def identity(
    stored: object, settings: Settings, now: float, authorise: Authorise | None = None,
) -> Login | None:
    """The login a request that asked for none may still be given (a page
    outside the protected paths that shows who is logged in): one that
    would let a protected page through (made by this site's WLS, not
    expired, meeting iact/aauth and the site's own rules), else None. A
    user the site refuses is nobody anywhere."""
    verdict = _judge(State.load(stored), settings, now, authorise)
    return verdict.login if isinstance(verdict, Allow) else None


class Identity:
    """The login handed to an application, with its expiry under the
    site's settings: the fields every adapter's user object shows."""

    __slots__ = ("login", "settings")

    def __init__(self, login: Login, settings: Settings) -> None:
        self.login = login
        self.settings = settings

    @property
    def principal(self) -> str:
        return self.login.principal

    @property
    def ptags(self) -> frozenset[str]:
        return self.login.ptags

    @property
    def issue(self) -> int:
        """When the WLS issued the login (Unix time)."""
        return self.login.issue

    @property
    def life(self) -> int | None:
        """Seconds the WLS said its own session had left at login."""
        return self.login.life

    @property
    def last(self) -> int:
        """Last recorded activity (Unix time)."""
        return self.login.last

    @property
    def expires(self) -> int | None:
        """When the login expires (Unix time): the earliest of expires_all."""
        return self.login.expires(self.settings)

    @property
    def expires_all(self) -> list[tuple[str, int]]:
        """Each limit on the login as ``(reason, when)``."""
        return self.login.expiries(self.settings)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.login.principal!r})"


def stricter(site_rule: Authorise, route_rule: Authorise) -> Authorise:
    """A route's rule on top of the site's: a route may ask for more than
    the site, never for less."""
    def both(principal: str, ptags: frozenset[str]) -> bool:
        return site_rule(principal, ptags) and route_rule(principal, ptags)
    return both


class RouteSettings:
    """A site's settings with one route's own rules on top, each set made
    (and checked) once."""

    def __init__(self, config: Mapping[str, Any], given: Mapping[str, Any]) -> None:
        self._config, self._given = config, dict(given)
        self._made: dict[tuple[tuple[str, Any], ...], Settings] = {}

    @staticmethod
    def check(rules: Mapping[str, Any]) -> None:
        """Refuse, when the application starts, a route rule that could not
        take effect: the site's rule holds on every route."""
        for name in ("require_principal", "require_ptags"):
            if name in rules and rules[name] is None:
                raise ConfigurationError(
                    f"a route's {name}=None cannot loosen the site's rule, which holds on "
                    f"every route: set {name}=None for the whole site, and a stricter "
                    "rule on the routes that need one"
                )
        Settings.from_config(None, {**rules, "can_trust_request_host": True}, warn=False)

    def __call__(self, rules: Mapping[str, Any]) -> Settings:
        key = tuple(sorted((k, _hashable(v)) for k, v in rules.items()))
        found = self._made.get(key)
        if found is None:
            # The site's own settings said it already if the demo key is trusted.
            found = self._made[key] = Settings.from_config(
                self._config, {**self._given, **rules}, warn=False)
        return found


def _hashable(value: Any) -> Any:
    if isinstance(value, (set, frozenset, list, tuple)):
        return tuple(sorted(map(str, value)))
    return value if isinstance(value, (str, int, float, bool, type(None))) else id(value)


def websocket_identity(
    incoming: Incoming, origin: str | None, stored: object, settings: Settings, now: float,
    authorise: Authorise | None = None,
) -> Login | None:
    """A websocket handshake's login: as :func:`identity`, and only if the
    page that opened it is of this site's own origin (a cookie alone must
    not authorise a cross-site socket)."""
    if cross_site_refusal(incoming, settings, origin, None, "websocket") is not None:
        return None
    return identity(stored, settings, now, authorise)


@overload
def once(authorise: Authorise) -> Authorise: ...
@overload
def once(authorise: None) -> None: ...
def once(authorise: Authorise | None) -> Authorise | None:
    """``authorise`` called at most once per principal and ptags: one
    request may ask more than once, and an override point runs once."""
    if authorise is None:
        return None
    seen: dict[tuple[str, frozenset[str]], bool] = {}

    def cached(principal: str, ptags: frozenset[str]) -> bool:
        key = (principal, ptags)
        if key not in seen:
            seen[key] = bool(authorise(principal, ptags))
        return seen[key]

    return cached


# --- privacy and the session id ---------------------------------------------------


def private(existing: str | None, value: str | None) -> str | None:
    """The Cache-Control for an answer built for a user: ``value`` (the
    ``cache_control`` setting) added unless the page already keeps shared
    caches out (``private`` or ``no-store``); ``public`` is dropped. None:
    leave the header as it is."""
    if not value:
        return None
    if existing is None:
        return value
    directives = [d.strip() for d in existing.split(",") if d.strip()]
    names = {d.split("=", 1)[0].lower() for d in directives}
    if names & {"private", "no-store"}:
        return None
    return ", ".join([value, *(d for d in directives if d.lower() != "public")])


def callback_path(settings: Settings) -> str | None:
    """The one registered path an OpenID provider sends the browser back
    to (it must reach the flow core, protected or not); None for a
    Ucam-WebAuth WLS, which comes back to the page itself."""
    if getattr(settings.wls, "protocol", None) != "oidc":
        return None
    return getattr(settings.wls, "redirect_path", None)


def rotates_session(decision: Decision) -> bool:
    """Must the session id change? On every login that stores a state:
    an id planted before it (by a sibling site, say) must not carry it."""
    return isinstance(decision, LoggedIn) and decision.state is not None


def retired(given: dict[str, object], names: dict[str, str], who: str) -> None:
    """Raise ConfigurationError naming the replacement of a retired argument."""
    for old, new in names.items():
        if old in given:
            raise ConfigurationError(f"{who}: {old}= is now {new}=")


def say_mismatches(found: Iterable[Mismatch], said: set[str] | None = None) -> None:
    """Log each start-up mismatch (:func:`raven.origin.served_mismatches`)
    once: a WARNING on the ``raven`` logger whose record's
    ``raven_mismatch`` names the rule, so a logging filter can silence
    one. ``said`` holds what this application has said already."""
    said = set() if said is None else said
    for mismatch in found:
        if mismatch.message in said:
            continue
        said.add(mismatch.message)
        logger.warning("%s (hint: %s)", mismatch.message, mismatch.hint,
                       extra={"raven_mismatch": mismatch.kind})


# --- one guard, one vocabulary -------------------------------------------------------

#: Arguments the WSGI and ASGI middlewares once spelt differently.
RETIRED = {"paths": "protect", "max_age": "cookie_max_age", "https_only": "cookie_secure",
           "template_dir": "template_dirs"}


class SiteGuard(NamedTuple):
    """What a middleware guards, and where it keeps a login."""

    paths: PathRule
    #: The middleware's own cookie; None when the framework's session keeps it.
    cookie: LoginCookie | None
    logout_path: str | None
    #: The OpenID provider's return path (:func:`callback_path`), or None.
    callback: str | None = None

    @classmethod
    def configure(
        cls, settings: Settings, config: Mapping[str, Any], *, secret_key: object,
        session: bool, protect: Iterable[str] | str, exempt: Iterable[str] | str,
        cookie_name: str | None, cookie_secure: bool | None, cookie_max_age: int | None,
        logout_path: str | None,
    ) -> SiteGuard:
        """The middleware's arguments, checked; ConfigurationError (logged)
        when the application starts, never on a request."""
        try:
            if logout_path is not None and not (
                isinstance(logout_path, str) and logout_path.startswith("/")
            ):
                raise ConfigurationError(
                    "logout_path must be a path starting with '/', or None")
            if secret_key is None:
                secret_key = config.get("RAVEN_SECRET_KEY")
            if session:
                if secret_key is not None:
                    raise ConfigurationError(
                        "give secret_key (its own cookie) or session=True (the framework's "
                        "session), not both")
                cookie = None
            else:
                cookie = LoginCookie(secret_key, settings, name=cookie_name,
                                     secure=cookie_secure, max_age=cookie_max_age)
            guard = cls(PathRule(protect, exempt), cookie,
                        None if logout_path is None else "/" + "/".join(_fold(_split(logout_path))),
                        callback_path(settings))
        except ConfigurationError as exc:
            logger.error("Raven configuration error: %s", exc)
            raise
        # A middleware knows no server: what the origins alone show.
        say_mismatches(served_mismatches(settings.origins, settings.host_names,
                                         settings.trust_any_host))
        return guard

    def is_logout(self, path: str) -> bool:
        if self.logout_path is None or path == self.logout_path:
            return path == self.logout_path
        if "//" not in path and "/." not in path and not path.endswith("/"):
            return False  # the usual request: nothing to fold, and not the path
        return "/" + "/".join(_fold(_split(path))) == self.logout_path

    def is_callback(self, path: str) -> bool:
        """Is ``path`` (script root included) the OpenID provider's return?"""
        return self.callback is not None and path == self.callback

    def logout_url(self, script_root: str) -> str | None:
        return None if self.logout_path is None else script_root + self.logout_path
