"""ASGI glue (Starlette, FastAPI): log people in with Raven.

::

    app = FastAPI()
    app.add_middleware(RavenMiddleware, secret_key=KEY, origin="https://www.example.com",
                       desc="My website", paths=None)   # None: every path

    @app.get("/staff")
    def staff(user: RavenUser = Depends(raven_user(require_ptags={"staff"}))):
        return {"hello": user.display_name}

The middleware keeps the login in a signed cookie (or in Starlette's
``SessionMiddleware`` session, when one is installed outside it) and puts
the identity in the scope: ``scope["user"]`` (so ``request.user``),
``scope["auth"]`` and ``scope["raven"]``.

This module only translates ASGI scopes and messages into the flow core's
terms (:mod:`raven.flow`) and its decisions into answers. Every rule lives
in the core. See ``docs/asgi.md``.
"""

from __future__ import annotations

import inspect
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping
from http.cookies import SimpleCookie
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, select_autoescape
from starlette.authentication import AuthCredentials, BaseUser, UnauthenticatedUser
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from . import flow
from .flow import Allow, Incoming, LoggedIn, Login, Refuse, State, ToWLS
from .origin import under_prefixes
from .settings import ConfigurationError, Settings

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


class RavenUser(BaseUser):
    """A logged-in Raven user, as Starlette's ``request.user``."""

    def __init__(self, login: Login, settings: Settings) -> None:
        self.login = login
        self._settings = settings

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def display_name(self) -> str:
        return self.login.principal

    @property
    def identity(self) -> str:
        return self.login.principal

    @property
    def principal(self) -> str:
        return self.login.principal

    @property
    def ptags(self) -> frozenset[str]:
        return self.login.ptags

    @property
    def issue(self) -> int:
        return self.login.issue

    @property
    def life(self) -> int | None:
        return self.login.life

    @property
    def last(self) -> int:
        return self.login.last

    @property
    def expires(self) -> int | None:
        """When the login expires (Unix time), the earliest of expires_all."""
        return self.login.expires(self._settings)

    @property
    def expires_all(self) -> list[tuple[str, int]]:
        return self.login.expiries(self._settings)

    def __repr__(self) -> str:
        return f"RavenUser({self.login.principal!r})"


class _Context:
    """What one request knows: where the state lives, what it holds, and
    what to write back when the answer starts."""

    def __init__(self, middleware: RavenMiddleware, scope: Scope) -> None:
        self.middleware = middleware
        self.session: MutableMapping[str, Any] | None = scope.get("session")
        self.came_back = False
        if self.session is not None:
            self.stored = self.session.get(SESSION_KEY)
            self.came_back = self.stored is not None or bool(self.session)
        else:
            self.stored, self.came_back = middleware._read_cookie(scope)
        self.write: object = None  # a State to store, _DELETE, or None: leave it
        self.rotate = False
        self.cache_control: str | None = None

    def store(self, state: State | None) -> None:
        if state is not None:
            self.write = state
            self.stored = state.dump()


class RavenMiddleware:
    """Require a Raven login for every path (``paths=None``) or for the
    paths under the given prefixes (``paths=["/admin"]``; ``paths=()`` to
    protect none and use :func:`raven_user` per route).

    Settings are those of the Flask glue, under the same names, as keyword
    arguments (``desc=``, ``require_ptags=``, ``wls=``, ``origin=`` ...) or
    in ``settings`` (a mapping with ``RAVEN_*`` keys, such as
    ``os.environ``); keyword arguments win. ``origin`` (``RAVEN_ORIGIN``)
    is required: the site's exact origin(s), scheme, host and port.
    A bad configuration raises :class:`ConfigurationError` here, at start-up.

    ``secret_key`` signs the login cookie; it is not needed when Starlette's
    ``SessionMiddleware`` is installed outside this one (then the login is
    kept in its session, under ``"_raven"``). ``authorise(principal, ptags)``
    replaces the ``require_*`` rule. ``template_dirs`` are searched for
    ``raven/<page>.html`` before the package's own pages.
    """

    def __init__(
        self,
        app: ASGIApp,
        secret_key: str | bytes | None = None,
        *,
        settings: Mapping[str, Any] | None = None,
        paths: Iterable[str] | None = None,
        exempt: Iterable[str] = (),
        cookie_name: str = "raven",
        max_age: int | None = None,
        https_only: bool | None = None,
        authorise: Callable[[str, frozenset[str]], bool] | None = None,
        template_dirs: Iterable[str] = (),
        **given: Any,
    ) -> None:
        self.app = app
        self._config = dict(settings or {})
        self._given = given
        self.settings = Settings.from_config(self._config, given)
        self._variants: dict[tuple[tuple[str, Any], ...], Settings] = {}
        self.paths = None if paths is None else tuple(_prefix(p) for p in paths)
        self.exempt = tuple(_prefix(p) for p in exempt)
        self.authorise = authorise
        self.cookie_name = cookie_name
        self._signer = (
            None if secret_key is None else URLSafeTimedSerializer(secret_key, salt="raven")
        )
        self.max_age = max_age if max_age is not None else (self.settings.max_life or 86400)
        origins = self.settings.origins or frozenset()
        self.https_only = (
            https_only if https_only is not None
            else bool(origins) and all(o.startswith("https://") for o in origins)
        )
        self._templates = Environment(
            loader=ChoiceLoader([FileSystemLoader(list(template_dirs)),
                                 PackageLoader("raven", "templates")]),
            autoescape=select_autoescape(["html"]),
        )
        for page in ("bad_request", "bad_response", "no_cookies", "login_failed", "forbidden"):
            self._templates.get_template(f"raven/{page}.html")  # fail now, not per request

    # --- settings for one route -------------------------------------------------

    def settings_for(self, rules: Mapping[str, Any]) -> Settings:
        """This middleware's settings with a route's own (``raven_user(...)``)."""
        if not rules:
            return self.settings
        key = tuple(sorted((k, _hashable(v)) for k, v in rules.items()))
        found = self._variants.get(key)
        if found is None:
            found = self._variants[key] = Settings.from_config(
                self._config, {**self._given, **rules}
            )
        return found

    # --- the ASGI application -------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        if self._signer is None and "session" not in scope:
            raise ConfigurationError(
                "RavenMiddleware needs a secret_key for its cookie, or Starlette's "
                "SessionMiddleware installed outside it"
            )
        context = _Context(self, scope)
        scope[_CONTEXT] = context
        self._set_identity(scope, context, None)
        if scope["type"] == "websocket":
            await self._websocket(scope, receive, send, context)
            return

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                self._finish(scope, context, message)
            await send(message)

        if self._protects(_route_path(scope)):
            answer = self.decide(scope, context, self.settings, self.authorise)
            if answer is not None:
                await answer(scope, receive, send_wrapper)
                return
        try:
            await self.app(scope, receive, send_wrapper)
        except _Answer as raised:  # from raven_user(): not yet started
            await raised.response(scope, receive, send_wrapper)

    def site_rule(self, principal: str, ptags: frozenset[str]) -> bool:
        """Who may be logged in here at all: ``authorise=``, else the
        settings' ``require_principal`` / ``require_ptags``."""
        return (self.authorise or self.settings.authorised)(principal, ptags)

    def _protects(self, path: str) -> bool:
        # As the router sees the path: "//admin" and "/static/../admin" are "/admin".
        if under_prefixes(path, self.exempt):
            return False
        return self.paths is None or under_prefixes(path, self.paths)

    def decide(
        self, scope: Scope, context: _Context, settings: Settings,
        authorise: Callable[[str, frozenset[str]], bool] | None,
    ) -> Response | None:
        """The core's decision for this request, as None (go on) or an answer."""
        incoming = _incoming(scope, context.came_back)
        decision = flow.decide(incoming, context.stored, settings, time.time(),
                               _new_token, authorise)
        flow.emit(decision, logger)
        if isinstance(decision, Allow):
            context.store(decision.state)
            if settings.cache_control:
                context.cache_control = settings.cache_control
            self._set_identity(scope, context, RavenUser(decision.login, settings))
            return None
        if isinstance(decision, Refuse):
            context.store(decision.state)
            return self._page(scope, decision)
        if isinstance(decision, LoggedIn) and decision.state is not None:
            context.rotate = decision.new_identity
            context.store(decision.state)
        elif isinstance(decision, ToWLS):
            context.store(decision.state)
        return RedirectResponse(decision.location, status_code=303)

    def _set_identity(self, scope: Scope, context: _Context, user: RavenUser | None) -> None:
        if user is None:  # a page that asks for no login: the stored one, if still good
            login = State.load(context.stored).login
            if (
                login is not None and login.valid_for(self.settings, time.time())
                and self.site_rule(login.principal, login.ptags)
            ):
                user = RavenUser(login, self.settings)
        if user is None:
            scope["user"], scope["auth"] = UnauthenticatedUser(), AuthCredentials()
            scope["raven"] = {"principal": None, "ptags": None, "expires": None}
            return
        scope["user"] = user
        scope["auth"] = AuthCredentials(
            ["authenticated", *(f"ptag:{tag}" for tag in sorted(user.ptags))]
        )
        scope["raven"] = {"principal": user.principal, "ptags": user.ptags,
                          "expires": user.expires}

    def _page(self, scope: Scope, refusal: Refuse) -> Response:
        context = {"check": refusal.check, "reason": refusal.reason, **refusal.context,
                   "status": refusal.status,
                   "request": _PageRequest(scope.get("root_path", ""))}
        body = self._templates.get_template(f"raven/{refusal.page}.html").render(context)
        return HTMLResponse(body, refusal.status,
                            headers={**refusal.headers, "Cache-Control": "no-store"})

    async def _websocket(self, scope: Scope, receive: Receive, send: Send,
                         context: _Context) -> None:
        """A websocket cannot go to the WLS: on a protected path it needs an
        authorised login already made, else it is closed before accepting."""
        if self._protects(_route_path(scope)):
            refusal = flow.cross_site_refusal(
                _incoming(scope, context.came_back), self.settings,
                _header(scope, b"origin"), None, "websocket",
            )
            if refusal is not None:
                flow.emit(refusal, logger)
            elif not scope["user"].is_authenticated:
                logger.warning("refused a websocket to %s: no authorised Raven login",
                               flow.shown(scope["path"]))
            if refusal is not None or not scope["user"].is_authenticated:
                await receive()  # websocket.connect
                await send({"type": "websocket.close", "code": 1008})
                return
        await self.app(scope, receive, send)

    # --- the stored state ---------------------------------------------------------

    def _read_cookie(self, scope: Scope) -> tuple[object, bool]:
        """(stored state, whether a genuine cookie of ours came back)."""
        assert self._signer is not None
        raw = _cookie(scope, self.cookie_name)
        if raw is None:
            return None, False
        try:
            value = self._signer.loads(raw, max_age=self.max_age)
        except (BadSignature, ValueError, UnicodeError):
            return None, False  # tampered, forged or too old: no state at all
        return value, True

    def _finish(self, scope: Scope, context: _Context, message: Message) -> None:
        """Write what the request changed, as the answer starts."""
        headers = MutableHeaders(scope=message)
        if context.cache_control is not None:
            merged = flow.cache_control(headers.get("cache-control"), context.cache_control)
            if merged is not None:
                headers["Cache-Control"] = merged
        if context.write is None:
            return
        session = context.session
        if session is not None:
            if context.write is _DELETE:
                session.pop(SESSION_KEY, None)
            else:
                if context.rotate:  # a new user: the previous one's data goes
                    session.clear()
                session[SESSION_KEY] = context.write.dump()  # type: ignore[attr-defined]
            return
        assert self._signer is not None
        cookie: SimpleCookie = SimpleCookie()
        if context.write is _DELETE:
            cookie[self.cookie_name] = ""
            cookie[self.cookie_name]["max-age"] = 0
        else:
            state = context.write.dump()  # type: ignore[attr-defined]
            cookie[self.cookie_name] = self._signer.dumps(state)
            cookie[self.cookie_name]["max-age"] = self.max_age
        morsel = cookie[self.cookie_name]
        morsel["path"] = "/"
        morsel["httponly"] = True
        morsel["samesite"] = "Lax"
        if self.https_only:
            morsel["secure"] = True
        headers.append("Set-Cookie", morsel.OutputString())


class _PageRequest:
    """What the pages read of the request (named as Flask names it)."""

    def __init__(self, root_path: str) -> None:
        self.script_root = root_path


class _Answer(Exception):
    """Raised by :func:`raven_user` to answer in its place (caught by the
    middleware, which writes the state with it)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def _context(request: HTTPConnection) -> _Context:
    context = request.scope.get(_CONTEXT)
    if context is None:
        raise ConfigurationError("raven_user and logout need RavenMiddleware on the app")
    return context  # type: ignore[no-any-return]


class _Requirement:
    """A FastAPI dependency: the user, once the route's own rules are met."""

    def __init__(self, rules: Mapping[str, Any],
                 authorise: Callable[[str, frozenset[str]], bool] | None) -> None:
        # Check the rules now, at import time, rather than on a request.
        Settings.from_config(None, {**rules, "can_trust_request_host": True})
        self.rules = dict(rules)
        self.authorise = authorise

    def __call__(self, request: Request) -> RavenUser:
        context = _context(request)
        middleware = context.middleware
        settings = middleware.settings_for(self.rules)
        route_rule = self.authorise or settings.authorised

        def both(principal: str, ptags: frozenset[str]) -> bool:
            # A route may ask for more than the site, never for less.
            return middleware.site_rule(principal, ptags) and route_rule(principal, ptags)

        answer = middleware.decide(request.scope, context, settings, both)
        if answer is not None:
            raise _Answer(answer)
        user = request.scope["user"]
        assert isinstance(user, RavenUser)
        return user


# The class itself, not the string postponed evaluation leaves: older
# FastAPI (0.110) cannot resolve a string annotation on an instance's __call__.
_Requirement.__call__.__annotations__["request"] = Request
_ANY_LOGIN = _Requirement({}, None)


def raven_user(
    request: Request | None = None,
    *,
    authorise: Callable[[str, frozenset[str]], bool] | None = None,
    **rules: Any,
) -> Any:
    """The logged-in user, for FastAPI's ``Depends``.

    ``Depends(raven_user)`` uses the middleware's settings;
    ``Depends(raven_user(require_ptags={"staff"}))`` (or ``require_principal``,
    ``iact``, ``aauth``, ``max_life`` ...) a route's own. Nobody logged in:
    the browser goes to the WLS; a user the route does not allow: 403.
    (A plain function, so FastAPI runs it in its thread pool; it does no I/O.)
    """
    if request is None:
        return _Requirement(rules, authorise)
    return _ANY_LOGIN(request)


# FastAPI reads a dependency's parameters from its signature: show it only
# the request, so that the rules are never taken for query parameters.
raven_user.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
    [inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request)],
    return_annotation=RavenUser,
)


async def logout(request: Request) -> Response:
    """Forget the login and redirect (303) to the WLS's logout page (or to
    the site's root). Mount it for POST: ``app.post("/logout")(logout)``; a
    request that is not a POST from a page of this site's own origin
    (``Origin``, else ``Referer``) is refused, so another site cannot log
    users out."""
    context = _context(request)
    middleware, scope = context.middleware, request.scope
    refusal = flow.logout_refusal(  # a POST from a page of this site only
        _incoming(scope, True), middleware.settings,
        _header(scope, b"origin"), _header(scope, b"referer"),
    )
    if refusal is not None:
        flow.emit(refusal, logger)
        return middleware._page(scope, refusal)
    context.write, context.stored = _DELETE, None
    location = flow.logout(middleware.settings)
    return RedirectResponse(location or request.scope.get("root_path", "") + "/",
                            status_code=303)


# --- translation helpers ---------------------------------------------------------------


def _incoming(scope: Scope, came_back: bool) -> Incoming:
    host = _header(scope, b"host")
    if host is None:
        server = scope.get("server") or ("", "")
        host = f"{server[0]}:{server[1]}"
    client = scope.get("client")
    return Incoming(
        scope.get("method", "GET"), _HTTP_SCHEME.get(scope["scheme"], scope["scheme"]),
        host, scope["path"],
        scope.get("query_string", b""),
        client[0] if client else "", state_came_back=came_back,
    )


#: A websocket's origin is that of the page that opened it.
_HTTP_SCHEME = {"ws": "http", "wss": "https"}


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


def _cookie(scope: Scope, name: str) -> str | None:
    found = None
    for key, value in scope["headers"]:
        if key == b"cookie":
            for part in value.decode("latin-1").split(";"):
                cookie_name, sep, cookie_value = part.strip().partition("=")
                if sep and cookie_name == name:
                    found = cookie_value
    return found


def _prefix(path: str) -> str:
    if not isinstance(path, str) or not path.startswith("/"):
        raise ConfigurationError(f"RavenMiddleware paths must start with '/': {path!r}")
    return path.rstrip("/") or "/"


def _hashable(value: Any) -> Any:
    if isinstance(value, (set, frozenset, list, tuple)):
        return tuple(sorted(map(str, value)))
    return value if isinstance(value, (str, int, float, bool, type(None))) else id(value)



def _new_token() -> str:
    return secrets.token_urlsafe(16)
