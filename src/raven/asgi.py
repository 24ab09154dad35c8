"""ASGI glue (Starlette, FastAPI): log people in with Raven.

::

    app = FastAPI()
    app.add_middleware(RavenMiddleware, secret_key=KEY, origin="https://www.example.com",
                       desc="My website", protect=())   # (): no path; each route asks

    @app.get("/staff")
    def staff(user: RavenUser = Depends(raven_user(require_ptags={"staff"}))):
        return {"hello": user.display_name}

The middleware keeps the login in a signed cookie (or in Starlette's
``SessionMiddleware`` session, with ``session=True``) and puts
the identity in the scope: ``scope["user"]`` (so ``request.user``),
``scope["auth"]`` and ``scope["raven"]``.

This module only translates ASGI scopes and messages into the flow core's
terms (:mod:`raven.flow`) and its decisions into answers. Every rule lives
in the core. See ``docs/asgi.md``.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping
from typing import Any

from starlette.authentication import AuthCredentials, BaseUser, UnauthenticatedUser
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.exceptions import WebSocketException
from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from . import flow, guard, pending
from .flow import Allow, Incoming, LoggedIn, Refuse, State
from .settings import ConfigurationError, Settings
from .templating import Pages

__all__ = [
    "SESSION_KEY", "ConfigurationError", "RavenMiddleware", "RavenUser", "logout", "raven_user",
]

logger = logging.getLogger("raven")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: The key of a ``SessionMiddleware`` session this module reads and writes.
SESSION_KEY = "_raven"
_CONTEXT = "raven._context"  # our per-request object in the scope
_DELETE = object()


class RavenUser(guard.Identity, BaseUser):
    """A logged-in Raven user, as Starlette's ``request.user``: the login's
    fields (``principal``, ``ptags``, ``expires`` ...) and Starlette's names."""

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def display_name(self) -> str:
        return self.login.principal

    @property
    def identity(self) -> str:
        return self.login.principal


class _Context:
    """What one request knows: where the state lives, what it holds, and
    what to write back when the answer starts."""

    __slots__ = ("middleware", "session", "stored", "came_back", "write", "seen", "pending",
                 "rotate", "clear", "now", "site_rule", "user")

    def __init__(self, middleware: RavenMiddleware, scope: Scope) -> None:
        self.middleware = middleware
        self.now = time.time()
        self.session: MutableMapping[str, Any] | None = None
        if middleware.cookie is None:
            session = scope.get("session")
            if session is None:  # the last resort: no start-up could see it
                raise ConfigurationError(
                    "RavenMiddleware(session=True) keeps the login in the framework's "
                    "session, and this request has none: install Starlette's "
                    "SessionMiddleware outside it" + _OUTSIDE
                )
            self.session = session
            self.stored = session.get(SESSION_KEY)
            self.came_back = self.stored is not None or bool(session)
        else:
            read = middleware.cookie.read(_cookie_header(scope), self.now)
            if read.problem is not None:
                logger.warning("ignored the login cookie from %s: %s",
                               flow.shown(_client(scope)), read.problem)
            self.stored, self.came_back = read.stored, read.came_back
        self.write: object = None  # a State to store, _DELETE, or None: leave it
        self.seen = pending.NOTHING  # the logins under way the request's cookies hold
        self.pending: Iterable[pending.PendingCookie] = ()  # logins under way started or ended
        self.rotate = False  # a login: the session id changes
        self.clear = False  # a new identity: the previous one's data goes
        # The site's rule, asked at most once per request.
        self.site_rule = guard.once(middleware.site_rule)
        self.user: RavenUser | None = None

    def store(self, state: State | None) -> None:
        if state is not None:
            self.write = state
            self.stored = state.dump()


class RavenMiddleware:
    """Require a Raven login for the paths under ``protect`` (default every
    path; ``protect=()`` for none, using :func:`raven_user` per route), less
    those under ``exempt``.

    Settings are those of the Flask glue, under the same names, as keyword
    arguments (``desc=``, ``require_ptags=``, ``wls=``, ``origin=`` ...) or
    in ``settings`` (a mapping with ``RAVEN_*`` keys, such as
    ``os.environ``); keyword arguments win. ``origin`` (``RAVEN_ORIGIN``)
    is required: the site's exact origin(s), scheme, host and port.
    A bad configuration raises :class:`ConfigurationError` here, at start-up.

    The login is kept in a signed cookie of its own (``secret_key``, or
    ``RAVEN_SECRET_KEY``; ``cookie_name``, ``cookie_secure`` and
    ``cookie_max_age`` as the WSGI middleware has them), or, with
    ``session=True``, in the session of Starlette's ``SessionMiddleware``
    installed outside this one (under ``"_raven"``). A POST to
    ``logout_path`` logs out. ``authorise(principal, ptags)`` replaces the
    ``require_*`` rule. ``template_dirs`` are searched for
    ``raven/<page>.html`` before the package's own pages.
    """

    def __init__(
        self,
        app: ASGIApp,
        secret_key: str | bytes | None = None,
        *,
        settings: Mapping[str, Any] | None = None,
        protect: Iterable[str] | str = ("/",),
        exempt: Iterable[str] | str = (),
        session: bool = False,
        cookie_name: str | None = None,
        cookie_secure: bool | None = None,
        cookie_max_age: int | None = None,
        logout_path: str | None = "/raven/logout",
        authorise: Callable[[str, frozenset[str]], bool] | None = None,
        template_dirs: Iterable[str] = (),
        **given: Any,
    ) -> None:
        self.app = app
        self._config = dict(settings or {})
        guard.retired(given, guard.RETIRED, "RavenMiddleware")
        self._given = given
        self.settings = Settings.from_config(self._config, given)
        self._variants = guard.RouteSettings(self._config, given)
        self.guard = guard.SiteGuard.configure(
            self.settings, self._config, secret_key=secret_key, session=session,
            protect=protect, exempt=exempt, cookie_name=cookie_name,
            cookie_secure=cookie_secure, cookie_max_age=cookie_max_age, logout_path=logout_path,
        )
        self.cookie = self.guard.cookie
        self.authorise = authorise
        self.pages = Pages(template_dirs)
        if session:
            _no_session_inside(app)

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Start-up: what the wrapped apps show of the session's place."""
        if self.cookie is None:
            _session_outside(scope.get("app"), self)
        await self.app(scope, receive, send)

    _started = False  # has the lifespan start-up been seen?

    def settings_for(self, rules: Mapping[str, Any]) -> Settings:
        """This middleware's settings with a route's own (``raven_user(...)``)."""
        return self._variants(rules) if rules else self.settings

    # --- the ASGI application -------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            if scope["type"] == "lifespan" and not self._started:
                self._started = True
                await self._lifespan(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        context = _Context(self, scope)
        scope[_CONTEXT] = context
        path = _route_path(scope)
        if scope["type"] == "websocket":
            await self._websocket(scope, receive, send, context, path)
            return

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                self._finish(scope, context, message)
            await send(message)

        answer: Response | None
        if self.guard.is_logout(path):
            answer = logout_answer(scope, context)
        elif self.guard.is_callback(scope["path"]):
            answer = await self._callback(scope, context)
        elif self.guard.paths.needs_login(path):
            answer = self.decide(scope, context, self.settings, context.site_rule)
        else:
            answer = None
            if context.stored is not None:
                login = guard.identity(context.stored, self.settings, context.now,
                                       context.site_rule)
                if login is not None:
                    self._set_identity(scope, context, RavenUser(login, self.settings))
        if answer is None:
            if context.user is None:
                _anonymous(scope)
            try:
                await self.app(scope, receive, send_wrapper)
                return
            except _Answer as raised:  # from raven_user(): not yet started
                answer = raised.response
        await answer(scope, receive, send_wrapper)

    def site_rule(self, principal: str, ptags: frozenset[str]) -> bool:
        """Who may be logged in here at all: ``authorise=``, else the
        settings' ``require_principal`` / ``require_ptags``."""
        return (self.authorise or self.settings.authorised)(principal, ptags)

    def decide(
        self, scope: Scope, context: _Context, settings: Settings,
        authorise: Callable[[str, frozenset[str]], bool] | None,
    ) -> Response | None:
        """The core's decision for this request, as None (go on) or an answer."""
        decision: flow.Decision | None = flow.current(
            scope.get("query_string", b""), context.stored, settings, context.now, authorise,
            _HTTP_SCHEME.get(scope["scheme"], scope["scheme"]), _host(scope))
        if decision is None:
            decision = flow.decide(self._incoming(scope, context), context.stored,
                                   settings, context.now, guard.new_token, authorise)
        return self._answer(scope, context, decision, settings)

    def _answer(self, scope: Scope, context: _Context, decision: flow.Decision,
                settings: Settings) -> Response | None:
        flow.emit(decision, logger)
        context.store(decision.state)
        if isinstance(decision, Allow):
            self._set_identity(scope, context, RavenUser(decision.login, settings))
            return None
        context.pending = pending.changes(decision, context.now, self._secure(scope),
                                          context.seen)
        if isinstance(decision, Refuse):
            return self._page(scope, decision)
        if guard.rotates_session(decision):
            assert isinstance(decision, LoggedIn)
            context.rotate, context.clear = True, decision.new_identity
        return _redirect(decision.location)

    async def _callback(self, scope: Scope, context: _Context) -> Response | None:
        """The return from an OpenID provider: its back-channel calls (token,
        keys) never block the event loop."""
        decision: flow.Decision | flow.BackChannel = flow.decide(
            self._incoming(scope, context), context.stored, self.settings, context.now,
            guard.new_token, context.site_rule, fetch=None)
        from .oidc.http import async_fetch, urllib_fetch
        from .oidc.step import call

        fetch = self.settings.wls.fetch  # type: ignore[attr-defined]
        while isinstance(decision, flow.BackChannel):
            if fetch is urllib_fetch:  # the default: an asynchronous client
                answer = await async_fetch(decision.request)
            else:  # the site's own, synchronous: off the event loop
                answer = await run_in_threadpool(call, fetch, decision.request)
            decision = decision.resume(answer)
        return self._answer(scope, context, decision, self.settings)

    def _secure(self, scope: Scope) -> bool:
        scheme = scope["scheme"]
        return pending.secure_for(self.settings, str(_HTTP_SCHEME.get(scheme, scheme)))

    def _incoming(self, scope: Scope, context: _Context) -> Incoming:
        seen = context.seen = pending.read(_cookie_header(scope), self._secure(scope),
                                           context.now)
        return _incoming(scope, context.came_back or seen.came_back, seen.tokens)

    def _set_identity(self, scope: Scope, context: _Context, user: RavenUser) -> None:
        context.user = user
        scope["user"] = user
        scope["auth"] = AuthCredentials(
            ["authenticated", *(f"ptag:{tag}" for tag in sorted(user.ptags))]
        )
        scope["raven"] = {"principal": user.principal, "ptags": user.ptags,
                          "expires": user.expires}

    def _page(self, scope: Scope, refusal: Refuse) -> Response:
        if refusal.json is not None:
            return JSONResponse(refusal.json, refusal.status,
                                headers={**refusal.headers, "Cache-Control": "no-store"})
        root = scope.get("root_path", "")
        context = scope.get(_CONTEXT)
        body = self.pages.render(
            refusal, self.settings, script_root=root, path=scope["path"],
            query=scope.get("query_string", b""), logout_url=self.guard.logout_url(root),
            cookie_came_back=(None if self.cookie is None or context is None
                              else context.came_back),
        )
        return HTMLResponse(body, refusal.status,
                            headers={**refusal.headers, "Cache-Control": "no-store"})

    async def _websocket(self, scope: Scope, receive: Receive, send: Send,
                         context: _Context, path: str) -> None:
        """A websocket cannot go to the WLS: it carries an identity only if
        its page is of this site's own origin, and on a protected path it
        needs one (an authorised login already made), else it is closed
        before it is accepted."""
        login = None
        if context.stored is not None:
            login = guard.websocket_identity(
                _incoming(scope, context.came_back), _header(scope, b"origin"),
                context.stored, self.settings, context.now, context.site_rule,
            )
        if login is not None:
            self._set_identity(scope, context, RavenUser(login, self.settings))
        else:
            _anonymous(scope)
            if self.guard.paths.needs_login(path):
                logger.warning("refused a websocket to %s from %s: no authorised Raven login "
                               "from a page of this site", flow.shown(scope["path"]),
                               flow.shown(_client(scope)))
                await receive()  # websocket.connect
                await send({"type": "websocket.close", "code": 1008})
                return
        await self.app(scope, receive, send)

    # --- the stored state ---------------------------------------------------------

    def _finish(self, scope: Scope, context: _Context, message: Message) -> None:
        """Write what the request changed, as the answer starts."""
        headers = MutableHeaders(scope=message)
        if context.user is not None:  # an answer built for a user is private
            merged = guard.private(headers.get("cache-control"), self.settings.cache_control)
            if merged is not None:
                headers["Cache-Control"] = merged
        for cookie in context.pending:
            headers.append("set-cookie", cookie.header())
        if context.write is None:
            return
        session = context.session
        if session is not None:
            if context.write is _DELETE:
                session.pop(SESSION_KEY, None)
                return
            if context.clear:  # a new user: the previous one's data goes
                session.clear()
            session[SESSION_KEY] = context.write.dump()  # type: ignore[attr-defined]
            if context.rotate:
                _regenerate_session_id(scope)
            return
        assert self.cookie is not None
        state = None if context.write is _DELETE else context.write
        headers.append("Set-Cookie", self.cookie.set_cookie(
            state, context.now, scope["scheme"] in ("https", "wss")))  # type: ignore[arg-type]


# --- where the session middleware is ---------------------------------------------------

_OUTSIDE = (" (list Middleware(SessionMiddleware, ...) before Middleware(RavenMiddleware, ...), "
            "or call app.add_middleware(SessionMiddleware, ...) after "
            "app.add_middleware(RavenMiddleware, ...): the last added is the outermost)")


def _is_session_middleware(cls: object) -> bool:
    """Starlette's SessionMiddleware, or a store of the same name and
    place (starsessions)."""
    return isinstance(cls, type) and any(k.__name__ == "SessionMiddleware" for k in cls.__mro__)


def _inner(app: object) -> Iterable[object]:
    """The apps (or, in a Starlette app not yet built, the middleware
    classes) a request passes through after ``app``, outermost first."""
    seen: set[int] = set()
    while app is not None and id(app) not in seen:
        seen.add(id(app))
        yield app
        user_middleware = getattr(app, "user_middleware", None)
        if isinstance(user_middleware, list):  # a Starlette app: its own middleware
            stack = getattr(app, "middleware_stack", None)
            if stack is None:
                yield from (getattr(m, "cls", None) for m in user_middleware)
                return
            app = stack
        else:
            app = getattr(app, "app", None)


def _no_session_inside(app: object) -> None:
    """Refuse, when the middleware is built, a session middleware that
    runs after it: it would make the session only once RavenMiddleware has
    looked for it, so every request would fail."""
    for inner in _inner(app):
        cls = inner if isinstance(inner, type) else type(inner)
        if _is_session_middleware(cls):
            message = (f"RavenMiddleware(session=True) reads the session that {cls.__name__} "
                       f"makes, and {cls.__name__} is inside it, so it runs too late: install "
                       f"it outside RavenMiddleware" + _OUTSIDE)
            logger.error("Raven configuration error: %s", message)
            raise ConfigurationError(message)


def _session_outside(top: object, middleware: RavenMiddleware) -> None:
    """At the lifespan start-up, the Starlette app that holds the
    middleware is in the scope: say if none of the middleware before ours
    makes a session. (A session middleware wrapped around that whole app
    cannot be seen, so this is a warning.)"""
    before = []
    for app in _inner(getattr(top, "middleware_stack", None)):
        if app is middleware:
            break
        before.append(app)
    else:
        return  # not inside this app's stack: nothing can be said
    if not any(_is_session_middleware(type(app)) for app in before):
        logger.warning(
            "RavenMiddleware(session=True) keeps the login in a session, and no "
            "SessionMiddleware comes before it in %s's middleware: unless one wraps the "
            "whole app, every request will fail%s", type(top).__name__, _OUTSIDE,
            extra={"raven_mismatch": "session"})


def _anonymous(scope: Scope) -> None:
    scope["user"], scope["auth"] = UnauthenticatedUser(), AuthCredentials()
    scope["raven"] = {"principal": None, "ptags": None, "expires": None}


def _regenerate_session_id(scope: Scope) -> None:
    """A login gets a new session id where the session store has one (a
    server-side store such as starsessions): one planted before it must not
    carry it. Starlette's own SessionMiddleware keeps everything in its
    cookie, whose new value is new."""
    handler = scope.get("session_handler")
    regenerate = getattr(handler, "regenerate_id", None)
    if regenerate is not None:
        regenerate()
    elif handler is not None:
        raise ConfigurationError(
            f"the session store {type(handler).__name__} has ids, and RavenMiddleware "
            "cannot change one at login: use a store with regenerate_id()"
        )


class _Answer(Exception):
    """Raised by :func:`raven_user` to answer in its place (caught by the
    middleware, which writes the state with it)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def _context(connection: HTTPConnection) -> _Context:
    context = connection.scope.get(_CONTEXT)
    if context is None:
        raise ConfigurationError("raven_user and logout need RavenMiddleware on the app")
    return context  # type: ignore[no-any-return]


class _Requirement:
    """A FastAPI dependency: the user, once the route's own rules are met."""

    def __init__(self, rules: Mapping[str, Any],
                 authorise: Callable[[str, frozenset[str]], bool] | None) -> None:
        guard.RouteSettings.check(rules)  # now, at import time, rather than on a request
        self.rules = dict(rules)
        self.authorise = authorise

    def __call__(self, connection: HTTPConnection) -> RavenUser:
        context = _context(connection)
        settings = context.middleware.settings_for(self.rules)
        both = guard.stricter(context.site_rule, self.authorise or settings.authorised)
        if connection.scope["type"] == "websocket":
            # No WLS round trip on a socket: the identity the middleware
            # gave (own origin only), if the route's rules also hold.
            user = context.user
            if user is None or guard.identity(context.stored, settings, context.now,
                                              both) is None:
                logger.warning("refused a websocket to %s from %s: no Raven login this "
                               "route accepts", flow.shown(connection.scope["path"]),
                               flow.shown(_client(connection.scope)))
                raise WebSocketException(code=1008)
            return RavenUser(user.login, settings)
        answer = context.middleware.decide(connection.scope, context, settings, both)
        if answer is not None:
            raise _Answer(answer)
        assert context.user is not None
        return context.user


_ANY_LOGIN = _Requirement({}, None)


def raven_user(
    connection: HTTPConnection | None = None,
    *,
    authorise: Callable[[str, frozenset[str]], bool] | None = None,
    **rules: Any,
) -> Any:
    """The logged-in user, for FastAPI's ``Depends``.

    ``Depends(raven_user)`` uses the middleware's settings;
    ``Depends(raven_user(require_ptags={"staff"}))`` (or ``require_principal``,
    ``iact``, ``aauth``, ``max_life`` ...) a route's own. Nobody logged in:
    the browser goes to the WLS; a user the route does not allow: 403. On a
    websocket route the handshake is closed (1008) unless it carries an
    accepted login from a page of this site.
    (A plain function, so FastAPI runs it in its thread pool; it does no I/O.)
    """
    if connection is None:
        return _Requirement(rules, authorise)
    return _ANY_LOGIN(connection)


# FastAPI reads a dependency's parameters from its signature: show it only
# the connection (a Request or a WebSocket), so that the rules are never
# taken for query parameters.
_SIGNATURE = inspect.Signature(
    [inspect.Parameter("connection", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                       annotation=HTTPConnection)],
    return_annotation=RavenUser,
)
raven_user.__signature__ = _SIGNATURE  # type: ignore[attr-defined]
_Requirement.__call__.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
    [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD),
     *_SIGNATURE.parameters.values()], return_annotation=RavenUser,
)


async def logout(request: Request) -> Response:
    """Forget the login and redirect (303) to the WLS's logout page (or to
    the site's root). The middleware answers at ``logout_path`` itself; this
    endpoint is for a route of your own: ``app.post("/logout")(logout)``. A
    request that is not a POST from a page of this site's own origin
    (``Origin``, else ``Referer``) is refused, so another site cannot log
    users out."""
    return logout_answer(request.scope, _context(request))


def logout_answer(scope: Scope, context: _Context) -> Response:
    middleware = context.middleware
    refusal = flow.logout_refusal(  # a POST from a page of this site only
        _incoming(scope, True), middleware.settings,
        _header(scope, b"origin"), _header(scope, b"referer"),
    )
    if refusal is not None:
        flow.emit(refusal, logger)
        return middleware._page(scope, refusal)
    context.write, context.stored, context.user = _DELETE, None, None
    context.pending = pending.forget(_cookie_header(scope), middleware._secure(scope))
    root = scope.get("root_path", "")
    end = flow.logged_out(_incoming(scope, True), middleware.settings, root + "/")
    if end.location is not None:
        return _redirect(end.location)
    return HTMLResponse(middleware.pages.page("logged_out", end.page or {}, root),
                        headers={"Cache-Control": "no-store"})


# --- translation helpers ---------------------------------------------------------------


def _redirect(location: str) -> RedirectResponse:
    return RedirectResponse(location, status_code=303, headers=flow.REDIRECT_HEADERS)


def _incoming(scope: Scope, came_back: bool, tokens: tuple[str, ...] = ()) -> Incoming:
    host = _host(scope)
    method = scope.get("method", "GET")
    return Incoming(
        method, str(_HTTP_SCHEME.get(scope["scheme"], scope["scheme"])),
        host, scope["path"], scope.get("query_string", b""), _client(scope),
        state_came_back=came_back,
        navigation=flow.is_navigation(method, _header(scope, b"sec-fetch-mode"),
                                      _header(scope, b"sec-fetch-dest"),
                                      _header(scope, b"accept")),
        pending=tokens,
    )


#: A websocket's origin is that of the page that opened it.
_HTTP_SCHEME = {"ws": "http", "wss": "https"}


def _host(scope: Scope) -> str:
    host = _header(scope, b"host")
    if host is None:
        server = scope.get("server") or ("", "")
        host = f"{server[0]}:{server[1]}"
    return host


def _client(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else ""


def _route_path(scope: Scope) -> str:
    """The path inside this app: without the ``root_path`` that a server's
    --root-path or a Starlette ``Mount`` puts in front (routing ignores it
    too). The whole path still makes the return URL."""
    path, root = scope["path"], scope.get("root_path", "")
    if root and path.startswith(root) and path[len(root):len(root) + 1] in ("", "/"):
        return path[len(root):] or "/"
    return path


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")  # type: ignore[no-any-return]
    return None


def _cookie_header(scope: Scope) -> str | None:
    """Every ``Cookie`` header, joined (HTTP/2 may send several)."""
    found = [value.decode("latin-1") for key, value in scope["headers"] if key == b"cookie"]
    return "; ".join(found) if found else None
