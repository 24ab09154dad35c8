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

import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from . import flow, guard, pending
from .flow import Allow, Incoming, LoggedIn, Login, Refuse, ToWLS
from .settings import ConfigurationError, Settings
from .templating import Pages

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["AUTH_TYPE", "ConfigurationError", "RavenMiddleware"]

logger = logging.getLogger("raven")

#: ``AUTH_TYPE`` for a Raven login, as mod_ucam_webauth sets it.
AUTH_TYPE = "Ucam-WebAuth"
_STATUS = {303: "303 See Other", 400: "400 Bad Request", 401: "401 Unauthorized",
           403: "403 Forbidden", 405: "405 Method Not Allowed"}


class RavenMiddleware:
    """Require a Raven login for a WSGI application: the paths under
    ``protect`` (default every path), less those under ``exempt``.

    ``config`` is any mapping with ``RAVEN_*`` keys (``os.environ``, say);
    keyword arguments are the settings' lower-case names (``desc``,
    ``require_ptags``, ``wls``, ``origin``, ``max_life`` ...) and win over
    it. Besides those (the ASGI middleware's too):

    - ``secret_key``: signs the login cookie (or ``RAVEN_SECRET_KEY``);
      at least 16 characters, random, and secret;
    - ``cookie_name``: default ``"__Host-raven"`` on an https site (a name
      no sibling site can set), ``"raven"`` on plain http;
    - ``cookie_secure``: default True when every configured origin is
      https, else when the request came over https;
    - ``cookie_max_age``: how long a signed cookie is honoured; default
      ``max_life``, or 8 hours when that is None;
    - ``protect`` and ``exempt``: path prefixes;
    - ``logout_path``: where a POST logs out (None: no logout path);
    - ``template_dirs``: directories whose ``raven/*.html`` replace ours.

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
        exempt: Iterable[str] | str = (),
        logout_path: str | None = "/raven/logout",
        template_dirs: Iterable[str] | str = (),
        **settings: Any,
    ) -> None:
        self.app = app
        config = config or {}
        guard.retired(settings, guard.RETIRED, "RavenMiddleware")
        self.settings = Settings.from_config(config, settings)
        self.guard = guard.SiteGuard.configure(
            self.settings, config, secret_key=secret_key, session=False, protect=protect,
            exempt=exempt, cookie_name=cookie_name, cookie_secure=cookie_secure,
            cookie_max_age=cookie_max_age, logout_path=logout_path,
        )
        cookie = self.guard.cookie
        assert cookie is not None
        self.cookie = cookie
        self.pages = Pages(template_dirs)
        overridden = type(self).check_authorised is not RavenMiddleware.check_authorised
        self._authorise = self.check_authorised if overridden else None

    # --- override point --------------------------------------------------------

    def check_authorised(self, principal: str, ptags: frozenset[str]) -> bool:
        """May this user in? By default ``require_principal`` and
        ``require_ptags``; override to decide (call ``super()`` to keep them)."""
        return self.settings.authorised(principal, ptags)

    # --- WSGI --------------------------------------------------------------------

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = _text(environ.get("PATH_INFO", ""))
        if self.guard.is_logout(path):
            return self._logout(environ, start_response)
        now = time.time()
        read = self.cookie.read(environ.get("HTTP_COOKIE"), now)
        if read.problem is not None:
            logger.warning("ignored the login cookie from %s: %s",
                           flow.shown(environ.get("REMOTE_ADDR", "")), read.problem)
        stored = read.stored
        authorise = guard.once(self._authorise)
        if not self.guard.paths.needs_login(path) and not self._is_callback(environ):
            login = None if stored is None else guard.identity(stored, self.settings, now,
                                                               authorise)
            if login is None:
                return self.app(environ, start_response)
            self._hand_on(environ, login)
            return self.app(environ, self._wrap(start_response, []))
        decision: flow.Decision | None = flow.current(
            _raw(environ.get("QUERY_STRING", "")), stored, self.settings, now, authorise,
            environ.get("wsgi.url_scheme", "http"), _host(environ),
        )
        seen = pending.NOTHING
        if decision is None:
            seen = pending.read(environ.get("HTTP_COOKIE"), self._secure(environ), now)
            decision = flow.decide(_incoming(environ, read.came_back or seen.came_back, seen),
                                   stored, self.settings, now, guard.new_token, authorise)
        flow.emit(decision, logger)
        cookies = [] if decision.state is None else [self._cookie(environ, decision.state, now)]
        if isinstance(decision, Allow):
            self._hand_on(environ, decision.login)
            return self.app(environ, self._wrap(start_response, cookies))
        cookies += [("Set-Cookie", c.header())
                    for c in pending.changes(decision, now, self._secure(environ), seen)]
        if isinstance(decision, Refuse):
            return self._page(start_response, decision, cookies, environ)
        assert isinstance(decision, (ToWLS, LoggedIn))
        # A login's new value is a new cookie: nothing planted before it survives.
        return _redirect(start_response, decision.location, cookies)

    def _is_callback(self, environ: WSGIEnvironment) -> bool:
        return self.guard.callback is not None and self.guard.is_callback(
            _text(environ.get("SCRIPT_NAME", "")) + _text(environ.get("PATH_INFO", "")))

    def protects(self, path: str) -> bool:
        """Does ``path`` (below the script root) need a login? (See
        :class:`raven.guard.PathRule`: any reading a router may make.)"""
        return self.guard.paths.needs_login(path)

    def login(self, environ: WSGIEnvironment) -> Login | None:
        """The request's login, if any: set on every path, protected or
        not, when a login the site accepts came with the request."""
        login = environ.get("raven.login")
        return login if isinstance(login, Login) else None

    # --- translation -------------------------------------------------------------

    def _secure(self, environ: WSGIEnvironment) -> bool:
        return pending.secure_for(self.settings, environ.get("wsgi.url_scheme", "http"))

    def _cookie(self, environ: WSGIEnvironment, state: flow.State | None, now: float
                ) -> tuple[str, str]:
        https = environ.get("wsgi.url_scheme") == "https"
        return ("Set-Cookie", self.cookie.set_cookie(state, now, https))

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
        """The application's start_response, with our cookie, and private:
        an identity was handed on, so the answer is built for one user."""
        ours = self.settings.cache_control

        def wrapped(status: str, headers: list[tuple[str, str]], exc_info: Any = None
                    ) -> Callable[[bytes], object]:
            existing = [v for k, v in headers if k.lower() == "cache-control"]
            merged = guard.private(", ".join(existing) if existing else None, ours)
            if merged is not None:
                headers = [(k, v) for k, v in headers if k.lower() != "cache-control"]
                headers.append(("Cache-Control", merged))
            return start_response(status, [*headers, *cookies], exc_info)  # type: ignore[arg-type]

        return wrapped  # type: ignore[return-value]

    def _page(self, start_response: StartResponse, refusal: Refuse,
              cookies: list[tuple[str, str]], environ: WSGIEnvironment) -> list[bytes]:
        script_root = _text(environ.get("SCRIPT_NAME", ""))
        if refusal.json is not None:
            data = json.dumps(refusal.json).encode()
            start_response(_STATUS[refusal.status], [
                ("Content-Type", "application/json"), ("Content-Length", str(len(data))),
                ("Cache-Control", "no-store"), *refusal.headers.items(), *cookies])
            return [data]
        body = self.pages.render(
            refusal, self.settings, script_root=script_root,
            path=script_root + _text(environ.get("PATH_INFO", "")),
            query=_text(environ.get("QUERY_STRING", "")),
            logout_url=self.guard.logout_url(script_root),
            cookie_came_back=self.cookie.present(environ.get("HTTP_COOKIE")),
        )
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
        gone = [self._cookie(environ, None, time.time()), *(
            ("Set-Cookie", c.header()) for c in pending.forget(environ.get("HTTP_COOKIE"),
                                                               self._secure(environ)))]
        script_root = _text(environ.get("SCRIPT_NAME", ""))
        end = flow.logged_out(incoming, self.settings, script_root + "/")
        if end.location is not None:
            return _redirect(start_response, end.location, gone)
        data = self.pages.page("logged_out", end.page or {}, script_root).encode()
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                                  ("Content-Length", str(len(data))),
                                  ("Cache-Control", "no-store"), *gone])
        return [data]


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


def _incoming(environ: WSGIEnvironment, came_back: bool,
              seen: pending.Pending = pending.NOTHING) -> Incoming:
    host = _host(environ)
    method = environ.get("REQUEST_METHOD", "GET").upper()
    return Incoming(
        method, environ.get("wsgi.url_scheme", "http"),
        host, _text(environ.get("SCRIPT_NAME", "")) + _text(environ.get("PATH_INFO", "")),
        _raw(environ.get("QUERY_STRING", "")), environ.get("REMOTE_ADDR", ""),
        state_came_back=came_back,
        navigation=flow.is_navigation(method, environ.get("HTTP_SEC_FETCH_MODE"),
                                      environ.get("HTTP_SEC_FETCH_DEST"),
                                      environ.get("HTTP_ACCEPT")),
        pending=seen.tokens,
    )


def _host(environ: WSGIEnvironment) -> str:
    return environ.get("HTTP_HOST") or (
        f"{environ.get('SERVER_NAME', '')}:{environ.get('SERVER_PORT', '')}")


def _redirect(start_response: StartResponse, location: str,
              cookies: list[tuple[str, str]]) -> list[bytes]:
    body = b"See other: the page has moved for this request."
    start_response(_STATUS[303], [
        ("Location", location), ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Length", str(len(body))), *flow.REDIRECT_HEADERS.items(), *cookies,
    ])
    return [body]
