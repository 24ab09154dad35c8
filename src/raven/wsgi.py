"""Raven for any WSGI application: a middleware.

::

    from raven.wsgi import RavenMiddleware

    application = RavenMiddleware(application, secret_key=SECRET,
                                  origin="https://www.example.cam.ac.uk",
                                  desc="My website")

Every path (or those under ``protect``) needs a Raven login. The login is
kept in a cookie of its own, signed with ``secret_key``; the identity is
handed on in the environ as mod_ucam_webauth does (``REMOTE_USER``,
``AUTH_TYPE``) and in ``raven.*`` keys. ``POST`` to ``logout_path`` logs
out. Settings have the Flask glue's names; see ``docs/wsgi.md``.

This module only translates between WSGI and the flow core
(:mod:`raven.flow`): every rule lives there.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from itsdangerous import BadData, URLSafeTimedSerializer
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, select_autoescape

from . import flow, pages
from .flow import Allow, Incoming, LoggedIn, Login, Refuse, ToWLS
from .origin import canonical_path, under_prefixes
from .settings import ConfigurationError, Settings

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["AUTH_TYPE", "ConfigurationError", "RavenMiddleware"]

logger = logging.getLogger("raven")

#: ``AUTH_TYPE`` for a Raven login, as mod_ucam_webauth sets it.
AUTH_TYPE = "Ucam-WebAuth"
#: Signed-cookie lifetime when ``max_life`` is None (seconds).
DEFAULT_COOKIE_MAX_AGE = 8 * 3600
_SALT = "raven.wsgi.login"
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # an RFC 6265 cookie name
_STATUS = {303: "303 See Other", 400: "400 Bad Request", 401: "401 Unauthorized",
           403: "403 Forbidden", 405: "405 Method Not Allowed"}
_ENVIRON_KEYS = ("raven.login", "raven.principal", "raven.ptags", "raven.issue",
                 "raven.expires")


class RavenMiddleware:
    """Require a Raven login for a WSGI application (all of it, or the paths
    under ``protect``).

    ``config`` is any mapping with ``RAVEN_*`` keys (``os.environ``, say);
    keyword arguments are the settings' lower-case names (``desc``,
    ``require_ptags``, ``wls``, ``origin``, ``max_life`` ...) and win over
    it. Besides those:

    - ``secret_key``: signs the login cookie (or ``RAVEN_SECRET_KEY``);
      at least 16 characters, random, and secret;
    - ``cookie_name``: default ``"__Host-raven"`` on an https site (a name
      no sibling site can set), ``"raven"`` on plain http;
    - ``cookie_secure``: default True when every configured origin is
      https, else when the request came over https;
    - ``cookie_max_age``: how long a signed cookie is honoured; default
      ``max_life``, or 8 hours when that is None;
    - ``protect``: path prefixes needing a login (default: every path);
    - ``logout_path``: where a POST logs out (None: no logout path);
    - ``template_dir``: a directory whose ``raven/*.html`` replace ours.

    Raises :class:`ConfigurationError` for a bad configuration, at once.
    """

    def __init__(
        self,
        app: WSGIApplication,
        config: Mapping[str, Any] | None = None,
        *,
        secret_key: str | bytes | None = None,
        cookie_name: str | None = None,
        cookie_secure: bool | None = None,
        cookie_max_age: int | None = None,
        protect: Iterable[str] | str = ("/",),
        logout_path: str | None = "/raven/logout",
        template_dir: str | None = None,
        **settings: Any,
    ) -> None:
        self.app = app
        config = config or {}
        self.settings = Settings.from_config(config, settings)
        try:
            self._configure(config, secret_key, cookie_name, cookie_secure, cookie_max_age,
                            protect, logout_path)
        except ConfigurationError as exc:
            logger.error("Raven configuration error: %s", exc)
            raise
        loaders: list[Any] = [PackageLoader("raven", "templates")]
        if template_dir is not None:
            loaders.insert(0, FileSystemLoader(template_dir))
        self.templates = Environment(loader=ChoiceLoader(loaders),
                                     autoescape=select_autoescape(default=True))

    def _configure(
        self, config: Mapping[str, Any], secret_key: Any, cookie_name: Any,
        cookie_secure: Any, cookie_max_age: Any, protect: Any, logout_path: Any,
    ) -> None:
        if secret_key is None:
            secret_key = config.get("RAVEN_SECRET_KEY")
        if not isinstance(secret_key, (str, bytes)) or len(secret_key) < 16:
            raise ConfigurationError(
                "RavenMiddleware needs secret_key (RAVEN_SECRET_KEY): a random secret of "
                "at least 16 characters, e.g. from python -c 'import secrets; "
                "print(secrets.token_urlsafe(32))'; anyone who has it can forge a login"
            )
        origins = self.settings.origins
        https_only = bool(origins) and all(o.startswith("https://") for o in origins)
        if cookie_secure is None:
            cookie_secure = True if https_only else None  # None: as the request came
        elif not isinstance(cookie_secure, bool):
            raise ConfigurationError("cookie_secure must be True, False or None")
        if cookie_name is None:
            cookie_name = "__Host-raven" if cookie_secure else "raven"
        if not isinstance(cookie_name, str) or not _TOKEN.fullmatch(cookie_name):
            raise ConfigurationError(f"cookie_name {cookie_name!r} is not a valid cookie name")
        if cookie_name.startswith("__Host-") and cookie_secure is not True:
            raise ConfigurationError("a __Host- cookie must be Secure: set cookie_secure=True")
        if cookie_max_age is None:
            cookie_max_age = self.settings.max_life or DEFAULT_COOKIE_MAX_AGE
        if isinstance(cookie_max_age, bool) or not isinstance(cookie_max_age, int) or (
            cookie_max_age <= 0
        ):
            raise ConfigurationError("cookie_max_age must be a positive whole number of seconds")
        if isinstance(protect, str):
            protect = [protect]
        prefixes = tuple(protect)
        if not all(isinstance(p, str) and p.startswith("/") for p in prefixes):
            raise ConfigurationError("protect must be path prefixes, each starting with '/'")
        if logout_path is not None and not (
            isinstance(logout_path, str) and logout_path.startswith("/")
        ):
            raise ConfigurationError("logout_path must be a path starting with '/', or None")
        self.cookie_name = cookie_name
        self.cookie_secure: bool | None = cookie_secure
        self.cookie_max_age = cookie_max_age
        self.protect = prefixes
        self.logout_path = logout_path
        self._serializer = URLSafeTimedSerializer(secret_key, salt=_SALT)

    # --- override point --------------------------------------------------------

    def check_authorised(self, principal: str, ptags: frozenset[str]) -> bool:
        """May this user in? By default ``require_principal`` and
        ``require_ptags``; override to decide (call ``super()`` to keep them)."""
        return self.settings.authorised(principal, ptags)

    # --- WSGI --------------------------------------------------------------------

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = _text(environ.get("PATH_INFO", ""))
        if self.logout_path is not None and canonical_path(path) == canonical_path(
            self.logout_path
        ):
            return self._logout(environ, start_response)
        if not self.protects(path):
            return self.app(environ, start_response)
        stored = self._read_cookie(environ)
        now = time.time()
        decision: flow.Decision | None = flow.current(
            _raw(environ.get("QUERY_STRING", "")), stored, self.settings, now,
            self.check_authorised,
        )
        if decision is None:
            decision = flow.decide(_incoming(environ, stored is not None), stored, self.settings,
                                   now, _new_token, self.check_authorised)
        flow.emit(decision, logger)
        cookies = [] if decision.state is None else [self._cookie(environ, decision.state)]
        if isinstance(decision, Allow):
            self._hand_on(environ, decision.login)
            return self.app(environ, self._wrap(start_response, cookies))
        if isinstance(decision, Refuse):
            return self._page(start_response, decision, cookies, environ)
        assert isinstance(decision, (ToWLS, LoggedIn))
        # A login's new value is a new cookie: nothing planted before it survives.
        return _redirect(start_response, decision.location, cookies)

    def protects(self, path: str) -> bool:
        """Does ``path`` (below the script root) need a login? Matched as the
        application's router will see it: ``//admin`` is ``/admin``."""
        return under_prefixes(path, self.protect)

    def login(self, environ: WSGIEnvironment) -> Login | None:
        """The current login, if any, of the request ``environ`` describes:
        for a page outside ``protect`` that shows who is logged in. None if
        not logged in or expired. (Authorisation is not checked here.)"""
        login = environ.get("raven.login")
        if isinstance(login, Login):
            return login
        login = flow.State.load(self._read_cookie(environ)).login
        if login is None or not login.valid_for(self.settings, time.time()):
            return None
        return login

    # --- translation -------------------------------------------------------------

    def _read_cookie(self, environ: WSGIEnvironment) -> object:
        """Our stored state, or None; a cookie that fails its signature or is
        too old is no cookie at all."""
        for name, value in _cookies(environ.get("HTTP_COOKIE", "")):
            if name != self.cookie_name:
                continue
            try:
                return self._serializer.loads(value, max_age=self.cookie_max_age)
            except (BadData, ValueError, TypeError):
                continue  # another one of the same name (a sibling site's?) may be ours
        return None

    def _secure(self, environ: WSGIEnvironment) -> bool:
        if self.cookie_secure is None:
            return environ.get("wsgi.url_scheme") == "https"
        return self.cookie_secure

    def _cookie(self, environ: WSGIEnvironment, state: flow.State) -> tuple[str, str]:
        value = self._serializer.dumps(state.dump())
        return ("Set-Cookie", self._cookie_header(environ, value, ""))

    def _cookie_header(self, environ: WSGIEnvironment, value: str, extra: str) -> str:
        secure = "; Secure" if self._secure(environ) else ""
        return f"{self.cookie_name}={value}; Path=/; HttpOnly; SameSite=Lax{secure}{extra}"

    def _hand_on(self, environ: WSGIEnvironment, login: Login) -> None:
        environ["REMOTE_USER"] = login.principal
        environ["AUTH_TYPE"] = AUTH_TYPE
        environ["raven.login"] = login
        environ["raven.principal"] = login.principal
        environ["raven.ptags"] = login.ptags
        environ["raven.issue"] = login.issue
        environ["raven.expires"] = login.expires(self.settings)

    def _wrap(self, start_response: StartResponse, cookies: list[tuple[str, str]]
              ) -> StartResponse:
        """The application's start_response, with our cookie and Cache-Control."""
        ours = self.settings.cache_control

        def wrapped(status: str, headers: list[tuple[str, str]], exc_info: Any = None
                    ) -> Callable[[bytes], object]:
            if ours:
                existing = [v for k, v in headers if k.lower() == "cache-control"]
                merged = flow.cache_control(", ".join(existing) if existing else None, ours)
                if merged is not None:
                    headers = [(k, v) for k, v in headers if k.lower() != "cache-control"]
                    headers.append(("Cache-Control", merged))
            return start_response(status, [*headers, *cookies], exc_info)  # type: ignore[arg-type]

        return wrapped  # type: ignore[return-value]

    def _page(self, start_response: StartResponse, refusal: Refuse,
              cookies: list[tuple[str, str]], environ: WSGIEnvironment) -> list[bytes]:
        script_root = _text(environ.get("SCRIPT_NAME", ""))
        context = {
            **pages.refusal_context(
                refusal, self.settings, script_root=script_root,
                path=script_root + _text(environ.get("PATH_INFO", "")),
                query=_text(environ.get("QUERY_STRING", "")),
                logout_url=None if self.logout_path is None else script_root + self.logout_path,
                cookie_came_back=any(name == self.cookie_name for name, _ in
                                     _cookies(environ.get("HTTP_COOKIE", ""))),
            ),
            # what a site's templates may read from Flask's request
            "request": SimpleNamespace(script_root=script_root),
        }
        body = self.templates.get_template(f"raven/{refusal.page}.html").render(context)
        data = body.encode("utf-8")
        headers = [("Content-Type", "text/html; charset=utf-8"),
                   ("Content-Length", str(len(data))), ("Cache-Control", "no-store"),
                   *refusal.headers.items(), *cookies]
        start_response(_STATUS[refusal.status], headers)
        return [data]

    def _logout(self, environ: WSGIEnvironment, start_response: StartResponse
                ) -> list[bytes]:
        incoming = _incoming(environ, True)
        refusal = flow.logout_refusal(incoming, self.settings, environ.get("HTTP_ORIGIN"),
                                      environ.get("HTTP_REFERER"))
        if refusal is not None:
            flow.emit(refusal, logger)
            return self._page(start_response, refusal, [], environ)
        gone = ("Set-Cookie", self._cookie_header(
            environ, "", "; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT"))
        location = flow.logout(self.settings) or (_text(environ.get("SCRIPT_NAME", "")) + "/")
        return _redirect(start_response, location, [gone])


def _text(native: str) -> str:
    """A WSGI path (bytes as Latin-1) as the text it spells in UTF-8."""
    try:
        raw = native.encode("latin-1")
    except UnicodeEncodeError:  # a server that decoded it already
        return native
    return raw.decode("utf-8", "replace")


def _raw(native: str) -> bytes:
    try:
        return native.encode("latin-1")
    except UnicodeEncodeError:
        return native.encode("utf-8", "replace")


def _incoming(environ: WSGIEnvironment, came_back: bool) -> Incoming:
    host = environ.get("HTTP_HOST") or (
        f"{environ.get('SERVER_NAME', '')}:{environ.get('SERVER_PORT', '')}"
    )
    return Incoming(
        environ.get("REQUEST_METHOD", "GET").upper(), environ.get("wsgi.url_scheme", "http"),
        host, _text(environ.get("SCRIPT_NAME", "")) + _text(environ.get("PATH_INFO", "")),
        _raw(environ.get("QUERY_STRING", "")), environ.get("REMOTE_ADDR", ""),
        state_came_back=came_back,
    )


def _cookies(header: str) -> Iterable[tuple[str, str]]:
    """Name and value of each cookie in a ``Cookie`` header, in order; a
    malformed part is skipped, not fatal."""
    for part in header.split(";"):
        name, sep, value = part.partition("=")
        if sep:
            yield name.strip(), value.strip().strip('"')


def _redirect(start_response: StartResponse, location: str,
              cookies: list[tuple[str, str]]) -> list[bytes]:
    body = b"See other: the page has moved for this request."
    start_response(_STATUS[303], [
        ("Location", location), ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Length", str(len(body))), ("Cache-Control", "no-store"), *cookies,
    ])
    return [body]


def _new_token() -> str:
    return secrets.token_urlsafe(16)
