"""Flask glue: protect views with Raven in two lines.

::

    auth_decorator = AuthDecorator(desc="My website")

    @app.route("/")
    @auth_decorator
    def home():
        return "You are " + auth_decorator.principal

or, for every view, ``app.before_request(auth_decorator.before_request)``.

This module only translates: Flask's request and session into the flow
core's terms (:mod:`raven.flow`), and its decisions into Flask answers.
Every rule lives in the core. Settings come from the constructor and from
``app.config`` (``RAVEN_*`` keys); see ``docs/flask.md``.
"""

from __future__ import annotations

import functools
import inspect
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Collection, Iterable
from typing import Any

from flask import (
    Flask,
    after_this_request,
    current_app,
    has_app_context,
    redirect,
    request,
    session,
)
from flask.sessions import SecureCookieSessionInterface
from jinja2 import ChoiceLoader, Environment, PackageLoader
from werkzeug.exceptions import (
    BadRequest,
    Forbidden,
    HTTPException,
    MethodNotAllowed,
    Unauthorized,
)
from werkzeug.wrappers import Response as WerkzeugResponse

import raven._check  # noqa: F401  (first: a clear error if 'raven' is another package)

from . import flow, guard, pages, pending
from .flow import MAX_TOKENS, REASONS, Allow, Incoming, LoggedIn, Login, Refuse, ToWLS
from .origin import HostError, normalise_origin, served_mismatches
from .protocol import RAVEN_LOGOUT
from .request import Request
from .response import Response
from .services import WLS, wls_from_classes, wls_from_settings
from .settings import ConfigurationError, Settings

__all__ = ["MAX_TOKENS", "SESSION_KEY", "AuthDecorator", "ConfigurationError"]

logger = logging.getLogger("raven")

#: The one key of ``flask.session`` this module reads and writes.
SESSION_KEY = "_raven"
_EXTENSION = "raven"
#: The start-up warnings an app has logged: each once, whichever decorator.
_SAID = "raven.said"
#: Where a request this module let through keeps (decorator, login,
#: Cache-Control): its WSGI environ lives exactly as long as the request.
_ALLOWED = "raven.flask_glue.allowed"
#: The login each decorator's properties found on an undecorated view.
_SEEN = "raven.flask_glue.seen"
_ERRORS: dict[int, type[HTTPException]] = {
    400: BadRequest, 401: Unauthorized, 403: Forbidden, 405: MethodNotAllowed,
}


#: What a subclass of Request or Response may set for the login flow to use;
#: anything else it defines would be silently ignored, so it is refused.
_CLASS_NAMES = frozenset({
    "__module__", "__qualname__", "__doc__", "__dict__", "__weakref__", "__slots__",
    "__annotations__", "__firstlineno__", "__static_attributes__", "__orig_bases__",
    "__parameters__", "__annotate_func__", "__annotations_cache__",
})
_HONOURED = {Request: frozenset({"wls_url"}),
             Response: frozenset({"keys", "known_atypes", "old_version_ptags"})}
_INSTEAD = {
    "check_iact_aauth": "the login flow checks how the user authenticated from the aauth and "
                        "iact settings (RAVEN_AAUTH, RAVEN_IACT) and response_class."
                        "known_atypes; decide anything more in check_authorised",
    "__str__": "requests go to request_class.wls_url (or wls= / RAVEN_WLS), and desc, msg, "
               "aauth and iact are the decorator's settings",
}


def _refuse_ignored_overrides(cls: type[AuthDecorator]) -> None:
    """Refuse a request_class or response_class that defines what the flow
    would not use (python-ucam-webauth's flask_glue called them itself)."""
    for attribute, base in (("request_class", Request), ("response_class", Response)):
        given = getattr(cls, attribute)
        if not (isinstance(given, type) and issubclass(given, base)):
            raise ConfigurationError(
                f"{cls.__name__}.{attribute} must be raven.{base.__name__} or a subclass of it"
            )
        ignored = sorted(
            name for klass in given.__mro__[: given.__mro__.index(base)]
            for name in vars(klass) if name not in _CLASS_NAMES | _HONOURED[base]
        )
        if ignored:
            instead = _INSTEAD.get(ignored[0]) or (
                f"the login flow uses only {', '.join(sorted(_HONOURED[base]))} of a "
                f"{base.__name__} subclass"
            )
            raise ConfigurationError(
                f"{cls.__name__}.{attribute} ({given.__qualname__}) overrides "
                f"{', '.join(ignored)}, which the login flow would ignore: {instead}"
            )


def _remember_given_arguments(init: Callable[..., None]) -> Callable[..., None]:
    """Record which constructor arguments were written out by the caller.

    An argument given in code beats ``app.config``; one left at its default
    yields to it. The signature (and so the documented defaults) is kept.
    """
    signature = inspect.signature(init)

    @functools.wraps(init)
    def wrapper(self: AuthDecorator, *args: Any, **kwargs: Any) -> None:
        self._given = frozenset(signature.bind(self, *args, **kwargs).arguments) - {"self"}
        init(self, *args, **kwargs)

    return wrapper


class AuthDecorator:
    """Require a Raven login for a view (``@auth_decorator``) or for every
    request (``app.before_request(auth_decorator.before_request)``).

    The arguments are those of the original python-raven glue; each may
    instead come from ``app.config`` (``RAVEN_DESC``, ``RAVEN_MAX_LIFE``, ...).
    An argument written in the constructor call wins over the config key.
    ``wls`` (a :class:`raven.WLS`, or what ``RAVEN_WLS`` takes) chooses the
    web login service.

    ``issue_bounds=(a, b)`` accepts a response issued at most ``a`` seconds
    ago and at most ``b`` seconds in the future. ``require_ptags`` needs at
    least one of the tags; ``None`` (for either ``require_*``) allows any.
    """

    #: The WLS this class talks to, the seed's way: a subclass that sets
    #: these to the :mod:`raven.demoserver` ones talks to the demo server.
    #: ``wls=`` or ``RAVEN_WLS`` do the same without a subclass.
    request_class: type[Request] = Request
    response_class: type[Response] = Response
    logout_url: str | None = RAVEN_LOGOUT

    _given: frozenset[str] = frozenset()

    @_remember_given_arguments
    def __init__(
        self,
        desc: str | None = None,
        aauth: Iterable[str] | str | None = None,
        iact: bool | None = None,
        msg: str | None = None,
        max_life: int | None = 7200,
        use_wls_life: bool = False,
        inactive_timeout: int | None = None,
        issue_bounds: tuple[float, float] = (15, 5),
        require_principal: Collection[str] | None = None,
        require_ptags: Collection[str] | None = frozenset({"current"}),
        can_trust_request_host: bool = False,
        *,
        wls: WLS | str | None = None,
        api_401: bool = True,
        app: Flask | None = None,
    ) -> None:
        self.desc = desc
        self.aauth = aauth
        self.iact = iact
        self.msg = msg
        self.max_life = max_life
        self.use_wls_life = use_wls_life
        self.inactive_timeout = inactive_timeout
        self.issue_bounds = issue_bounds
        self.require_principal = require_principal
        self.require_ptags = require_ptags
        self.can_trust_request_host = can_trust_request_host
        self.wls = wls
        self.api_401 = api_401
        if app is not None:
            self.init_app(app)

    # --- configuration ---------------------------------------------------------

    def init_app(self, app: Flask) -> Settings:
        """Read and check this decorator's settings for ``app``.

        Called on the first request if not before; calling it at start-up
        (or passing ``app=``) makes a bad configuration fail at once.
        """
        given = {name: getattr(self, name) for name in self._given - {"app"}}
        cls = type(self)
        if (cls.request_class, cls.response_class, cls.logout_url) != (
            Request, Response, RAVEN_LOGOUT
        ):
            _refuse_ignored_overrides(cls)
            try:
                chosen = wls_from_classes(cls.request_class, cls.response_class, cls.logout_url)
                configured = (
                    wls_from_settings(app.config)
                    if {"RAVEN_WLS", "RAVEN_KEYS", "RAVEN_KEY_DIR"} & set(app.config) else None
                )
            except ValueError as exc:
                raise ConfigurationError(f"{cls.__name__}: {exc}") from None
            if "wls" in given or (configured is not None and not chosen.same_as(configured)):
                raise ConfigurationError(
                    f"{cls.__name__} sets request_class/response_class/logout_url for "
                    f"{chosen.name}, and wls / RAVEN_WLS choose another WLS: use one or "
                    "the other"
                )
            given["wls"] = chosen
        try:
            _check_flask(app)
        except ConfigurationError as exc:
            logger.error("Raven configuration error: %s", exc)
            raise
        settings = Settings.from_config(app.config, given, host_names=_host_names(app),
                                        whitelist_name="TRUSTED_HOSTS")
        extension = app.extensions.setdefault(_EXTENSION, {})
        if not extension:  # once per app, for every decorator; may be first request
            app.after_request_funcs.setdefault(None, []).append(_add_cache_control)
        guard.say_mismatches(_mismatches(app, settings),
                             app.extensions.setdefault(_SAID, set()))
        # The settings' own rule, unless a subclass brings its own.
        overridden = type(self).check_authorised is not AuthDecorator.check_authorised
        if self not in extension and (callback := guard.callback_path(settings)) is not None:
            # An OpenID provider comes back to one registered path, which no
            # view of the site need serve: this decorator completes it.
            app.before_request_funcs.setdefault(None, []).insert(
                0, functools.partial(self._callback, callback))
        extension[self] = _FlaskSettings(settings, app, self.check_authorised if overridden
                                         else None)
        return settings

    def _callback(self, callback: str) -> WerkzeugResponse | None:
        if request.script_root + request.path != callback:
            return None
        return self.before_request() or _redirect(request.script_root + "/")

    def _flask_settings(self) -> _FlaskSettings:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        try:
            return app.extensions[_EXTENSION][self]  # type: ignore[no-any-return]
        except KeyError:
            self.init_app(app)
            return app.extensions[_EXTENSION][self]  # type: ignore[no-any-return]

    def _settings(self) -> Settings:
        return self._flask_settings().settings

    # --- use as a decorator or a before_request hook ---------------------------

    def __call__(self, view: Callable[..., Any]) -> Callable[..., Any]:
        """Wrap ``view`` so that it only runs for an authorised user."""
        if has_app_context():  # registered inside an app: check its settings now
            self._flask_settings()
        if inspect.iscoroutinefunction(view):

            @functools.wraps(view)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                answer = self.before_request()
                if answer is not None:
                    return answer
                return await view(*args, **kwargs)

            return async_wrapper

        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            answer = self.before_request()
            if answer is not None:
                return answer
            return view(*args, **kwargs)

        return wrapper

    def before_request(self) -> WerkzeugResponse | None:
        """None to let the request through; else a redirect to log in.

        Refusals (bad response, not authorised, ...) are raised as
        :class:`werkzeug.exceptions.HTTPException` carrying a rendered page.
        """
        fs = self._flask_settings()
        # Each proxy resolved once: every attribute read through one costs
        # more than the lookup itself, and this runs on every request.
        store = session._get_current_object()  # type: ignore[attr-defined]
        stored = store.get(SESSION_KEY)
        environ = request._get_current_object().environ  # type: ignore[attr-defined]
        now = time.time()
        decision: flow.Decision | None = flow.current(
            environ.get("QUERY_STRING", "").encode("latin-1"), stored, fs.settings, now,
            fs.authorise, environ["wsgi.url_scheme"], _host(environ),
        )
        if decision is None:
            secure = pending.secure_for(fs.settings, environ["wsgi.url_scheme"])
            seen = pending.read(environ.get("HTTP_COOKIE"), secure, now)
            decision = flow.decide(_incoming(environ, stored, store, seen), stored,
                                   fs.settings, now, guard.new_token, fs.authorise)
            _set_cookies(pending.changes(decision, now, secure, seen))
        flow.emit(decision, logger)
        if isinstance(decision, Allow):
            if decision.state is not None:
                store[SESSION_KEY] = decision.state.dump()
            # For the properties, and the Cache-Control of this answer.
            environ[_ALLOWED] = (self, decision.login, fs.settings.cache_control)
            return None
        if isinstance(decision, Refuse):
            if decision.state is not None:
                store[SESSION_KEY] = decision.state.dump()
            raise fs.page(decision)
        if isinstance(decision, LoggedIn) and decision.state is not None:
            if decision.new_identity:
                self.session_new()
            store[SESSION_KEY] = decision.state.dump()
            _rotate_session(store)
        elif isinstance(decision, ToWLS) and decision.state is not None:
            store[SESSION_KEY] = decision.state.dump()
        return _redirect(decision.location)

    # --- override points -----------------------------------------------------

    def check_authorised(self, principal: str, ptags: frozenset[str]) -> bool:
        """May this authenticated user see the page? Override to decide.

        By default: the principal must be in ``require_principal`` and the
        ptags must meet ``require_ptags`` (each skipped when None).
        """
        return self._settings().authorised(principal, ptags)

    def session_new(self) -> None:
        """Called when a login changes the principal, ptags or WLS (first
        login included), before the new identity is stored. Override it to
        clear application data kept for the previous user. (The session id
        itself is rotated on every login, whatever this does.)
        """

    # --- the session, as properties ------------------------------------------

    def _login(self) -> Login | None:
        """The request's login, as this decorator would let it through:
        a user its rules refuse is nobody here, on any view. Worked out once
        per request; an answer that shows it is private."""
        environ = request._get_current_object().environ  # type: ignore[attr-defined]
        cached = environ.get(_ALLOWED)
        if cached is not None and cached[0] is self:
            return cached[1]  # type: ignore[no-any-return]
        seen = environ.setdefault(_SEEN, {})
        if self not in seen:
            fs = self._flask_settings()
            login = guard.identity(session.get(SESSION_KEY), fs.settings, time.time(),
                                   fs.authorise)
            seen[self] = (login, fs.settings.cache_control if login else None)
        return seen[self][0]  # type: ignore[no-any-return]

    def stored_login(self) -> Login | None:
        """The login kept in the session, made by this WLS and not expired,
        whether or not this decorator's rules accept it: for a page that
        explains a refusal. Never grant anything by it; ``principal`` and
        the other properties are None for a user the rules refuse."""
        login = flow.State.load(session.get(SESSION_KEY)).login
        if login is None or not login.valid_for(self._settings(), time.time()):
            return None
        return login

    @property
    def principal(self) -> str | None:
        """The logged-in user's identifier; None unless logged in and current."""
        login = self._login()
        return None if login is None else login.principal

    @property
    def ptags(self) -> frozenset[str] | None:
        """The user's ptags (e.g. ``{"current"}``); None unless logged in."""
        login = self._login()
        return None if login is None else login.ptags

    @property
    def issue(self) -> int | None:
        """When the WLS issued the login (Unix time), or None."""
        login = self._login()
        return None if login is None else login.issue

    @property
    def life(self) -> int | None:
        """Seconds the WLS said its own session had left at login, or None."""
        login = self._login()
        return None if login is None else login.life

    @property
    def last(self) -> int | None:
        """Last recorded activity (Unix time); only tracked, approximately,
        with ``inactive_timeout`` (else it stays the login time)."""
        login = self._login()
        return None if login is None else login.last

    @property
    def expires(self) -> int | None:
        """When the login expires (Unix time): the earliest of expires_all."""
        login = self._login()
        return None if login is None else login.expires(self._settings())

    @property
    def expires_all(self) -> list[tuple[str, int]] | None:
        """Each limit on the login as ``(reason, when)``; reason is one of
        ``"config max life"``, ``"wls life"``, ``"inactive"``. None if not
        logged in."""
        login = self._login()
        return None if login is None else login.expiries(self._settings())

    def own_url(self, path: str, query: bytes = b"") -> str:
        """This site's absolute URL for ``path``, from the origins the
        operator allowed (never from the Host header alone): for a
        hand-written flow's ``url``. Raises a 400 for a host not allowed."""
        incoming = _incoming(request.environ, None, session)._replace(path=path)
        try:
            return flow.own_url(incoming, self._settings(), query)
        except HostError as exc:
            raise self._flask_settings().page(
                Refuse(400, "host", "bad_request", {"check": "host"})
            ) from exc

    # --- logout ----------------------------------------------------------------

    def logout(self) -> WerkzeugResponse:
        """Forget the login here, and redirect (303) to the WLS logout page,
        which ends the user's Raven session too (or to the site's root if
        the WLS has none)."""
        try:
            back: str | None = self.own_url(request.script_root + "/")
        except HTTPException:
            back = None
        settings = self._settings()
        location = flow.logout(settings, back)
        session.pop(SESSION_KEY, None)
        _set_cookies(pending.forget(request.headers.get("Cookie"),
                                    pending.secure_for(settings, request.scheme)))
        request.environ.pop(_ALLOWED, None)
        request.environ.pop(_SEEN, None)
        return _redirect(location or request.root_path + "/")


class _FlaskSettings:
    """A decorator's settings for one app, with the app's templates."""

    def __init__(
        self, settings: Settings, app: Flask,
        authorise: Callable[[str, frozenset[str]], bool] | None,
    ) -> None:
        self.settings = settings
        self.authorise = authorise
        self._app = app
        self._jinja_env: Environment | None = None

    @property
    def jinja_env(self) -> Environment:
        """The app's own Jinja environment, with our templates behind its own,
        so that an app's ``templates/raven/*.html`` (and blueprints') win."""
        if self._jinja_env is None:
            base = self._app.jinja_env
            self._jinja_env = base.overlay(
                loader=ChoiceLoader([loader for loader in (base.loader, PackageLoader(
                    "raven", "templates")) if loader is not None])
            )
        return self._jinja_env

    def page(self, refusal: Refuse) -> HTTPException:
        """An HTTP error carrying our (overridable) page.

        Raised rather than returned, so an app's ``errorhandler`` for the code
        still sees it; ``error.get_response()`` gives our page.
        """
        if refusal.json is not None:
            answer = current_app.response_class(
                json.dumps(refusal.json), refusal.status, headers=refusal.headers,
                mimetype="application/json")
            answer.headers["Cache-Control"] = "no-store"
            return _ERRORS[refusal.status](description=refusal.reason, response=answer)
        context = pages.refusal_context(
            refusal, self.settings, script_root=request.script_root,
            path=request.script_root + request.path,
            query=request.query_string, debug=current_app.debug,
            cookie_came_back=current_app.config.get("SESSION_COOKIE_NAME", "session")
            in request.cookies,
        )
        current_app.update_template_context(context)
        body = self.jinja_env.get_template(f"raven/{refusal.page}.html").render(context)
        response = current_app.response_class(
            body, refusal.status, headers=refusal.headers or None, mimetype="text/html"
        )
        response.headers["Cache-Control"] = "no-store"
        error = _ERRORS[refusal.status](description=REASONS.get(refusal.check),
                                        response=response)
        error.raven_check = context["check"]  # type: ignore[attr-defined]
        return error


def _redirect(location: str) -> WerkzeugResponse:
    response = redirect(location, code=303)
    response.headers.update(flow.REDIRECT_HEADERS)
    return response


def _set_cookies(cookies: list[pending.PendingCookie]) -> None:
    """Add these to the answer, whichever it is: one an app's error
    handler makes for a refusal too."""
    if cookies:
        after_this_request(lambda response: _with_cookies(response, cookies))


def _with_cookies(response: WerkzeugResponse, cookies: list[pending.PendingCookie]
                  ) -> WerkzeugResponse:
    for cookie in cookies:
        response.headers.add("Set-Cookie", cookie.header())
    return response


def _incoming(environ: dict[str, Any], stored: object, store: Any,
              seen: pending.Pending = pending.NOTHING) -> Incoming:
    # Straight from the WSGI environ (as ProxyFix leaves it): this runs on
    # every request, and Werkzeug's properties would each parse again.
    host = _host(environ)
    # As Werkzeug's request.path: leading slashes of PATH_INFO folded into one.
    path = (environ.get("SCRIPT_NAME", "").rstrip("/") + "/"
            + environ.get("PATH_INFO", "").lstrip("/")).encode("latin-1")
    method = environ["REQUEST_METHOD"]
    return Incoming(
        method, environ["wsgi.url_scheme"], host, path.decode("utf-8", "replace"),
        environ.get("QUERY_STRING", "").encode("latin-1"), environ.get("REMOTE_ADDR", ""),
        state_came_back=(stored is not None or bool(store) or seen.came_back
                         or _session_cookie_sent(environ)),
        navigation=flow.is_navigation(method, environ.get("HTTP_SEC_FETCH_MODE"),
                                      environ.get("HTTP_SEC_FETCH_DEST"),
                                      environ.get("HTTP_ACCEPT")),
        pending=seen.tokens,
    )


def _host(environ: dict[str, Any]) -> str:
    return environ.get("HTTP_HOST") or (  # type: ignore[no-any-return]
        f"{environ.get('SERVER_NAME', '')}:{environ.get('SERVER_PORT', '')}")


def _session_cookie_sent(environ: dict[str, Any]) -> bool:
    """Did the browser send the session cookie, though it gave no session
    (another worker's secret key, a restarted server)? Then it does not
    refuse cookies, and must not be told it does."""
    name = current_app.session_interface.get_cookie_name(current_app)
    return any(part.partition("=")[0].strip() == name
               for part in environ.get("HTTP_COOKIE", "").split(";"))


def _host_names(app: Flask) -> Any:
    return app.config.get("TRUSTED_HOSTS") or getattr(app.request_class, "trusted_hosts", None)


def _mismatches(app: Flask, settings: Settings) -> list[Any]:
    """What Flask knows at start-up of how the site is served, for the
    core's rule: ``flask run``'s address, ``TRUSTED_HOSTS``, and the origin
    ``SERVER_NAME`` and ``PREFERRED_URL_SCHEME`` make absolute URLs at."""
    external = None
    if app.config.get("SERVER_NAME"):
        try:
            external = normalise_origin(str(app.config.get("PREFERRED_URL_SCHEME") or "http"),
                                        str(app.config["SERVER_NAME"]))
        except HostError:
            pass  # Flask itself says what is wrong with it
    whitelist = app.config.get("TRUSTED_HOSTS")
    return served_mismatches(
        settings.origins, settings.host_names, settings.trust_any_host,
        served=served_by_flask_run(), served_by="flask run",
        whitelist=None if whitelist is None else list(whitelist), whitelist_name="TRUSTED_HOSTS",
        external=external, external_name="SERVER_NAME and PREFERRED_URL_SCHEME",
    )


def served_by_flask_run(argv: list[str] | None = None,
                        environ: Any = None) -> str | None:
    """The origin ``flask run`` serves, if that is the command being run:
    ``http://127.0.0.1:5000`` unless ``--host``, ``--port``, ``--cert`` (or
    their ``FLASK_RUN_*`` variables) say otherwise."""
    argv = sys.argv if argv is None else argv
    environ = os.environ if environ is None else environ
    program = argv[0].replace("\\", "/") if argv else ""
    if not (program.rsplit("/", 1)[-1] in ("flask", "flask.exe")
            or program.endswith("flask/__main__.py")):
        return None
    words = iter(argv[1:])
    for word in words:  # the group's options, then the command
        if word in ("-A", "--app", "-e", "--env-file"):
            next(words, None)
        elif not word.startswith("-"):
            if word != "run":
                return None
            break
    else:
        return None
    options = {"host": environ.get("FLASK_RUN_HOST") or "127.0.0.1",
               "port": environ.get("FLASK_RUN_PORT") or "5000",
               "cert": environ.get("FLASK_RUN_CERT")}
    names = {"-h": "host", "--host": "host", "-p": "port", "--port": "port", "--cert": "cert"}
    for word in words:
        name, equals, value = word.partition("=")
        if name in names:
            options[names[name]] = value if equals else next(words, "")
    scheme = "https" if options["cert"] else "http"
    host = "[::]" if options["host"] == "::" else options["host"]
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    if not str(options["port"]).isdigit():
        return None
    try:
        return normalise_origin(scheme, f"{host}:{options['port']}")
    except HostError:
        return None


def _check_flask(app: Flask) -> None:
    """What Flask itself must provide for a login to be kept."""
    interface = app.session_interface
    if isinstance(interface, SecureCookieSessionInterface):
        if not app.secret_key:
            raise ConfigurationError(
                "Raven logins live in flask.session: set app.secret_key (SECRET_KEY)"
            )
    elif not callable(getattr(interface, "regenerate", None)):
        raise ConfigurationError(
            f"the session interface {type(interface).__name__} has no regenerate(session): "
            "a login must get a new session id, so that one planted before it does not "
            "carry it (Flask-Session 0.6 and later has one)"
        )
    samesite = app.config.get("SESSION_COOKIE_SAMESITE")
    if isinstance(samesite, str) and samesite.lower() == "strict":
        raise ConfigurationError(
            "SESSION_COOKIE_SAMESITE='Strict' stops the session cookie coming back "
            "with the redirect from the WLS, so no login can ever succeed: use 'Lax'"
        )


def _rotate_session(store: Any) -> None:
    """A login gets a new session id, so that one planted before it (by a
    sibling site, say) does not share it. A signed-cookie session has no id:
    its new value is a new cookie. Server-side stores rotate by their own
    ``regenerate`` (Flask-Session 0.6 and later), which is called once our
    state is in the session: it does nothing to an empty one, and
    ``session_new`` may have emptied it."""
    before = getattr(store, "sid", None)
    regenerate = getattr(current_app.session_interface, "regenerate", None)
    if regenerate is not None:
        regenerate(store)
    if before is not None and getattr(store, "sid", None) == before:
        raise ConfigurationError(
            f"the session interface {type(current_app.session_interface).__name__} keeps "
            "session ids and did not change this one at login: give it a regenerate(session) "
            "that does (Flask-Session 0.6 and later has one)"
        )
    store.modified = True


def _add_cache_control(response: WerkzeugResponse) -> WerkzeugResponse:
    """Keep a shared cache from storing a page meant for one user
    (mod_ucam_webauth's AACacheControl On); a view's own stricter choice stays."""
    environ = request._get_current_object().environ  # type: ignore[attr-defined]
    authenticated = environ.get(_ALLOWED)
    value = authenticated and authenticated[2]
    if not value and _SEEN in environ:  # a view that showed who is logged in
        value = next((private for _, private in environ[_SEEN].values() if private), None)
    if value:
        # getlist: Headers.get raises and catches an HTTP error when absent
        existing = ", ".join(response.headers.getlist("Cache-Control")) or None
        if existing is None:
            response.headers.add("Cache-Control", value)  # add: no second scan
        elif (merged := guard.private(existing, value)) is not None:
            response.headers["Cache-Control"] = merged
    return response
