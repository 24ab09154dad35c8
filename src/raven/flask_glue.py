"""Flask glue: protect views with Raven in two lines.

::

    auth_decorator = AuthDecorator(desc="My website")

    @app.route("/")
    @auth_decorator
    def home():
        return "You are " + auth_decorator.principal

or, for every view, ``app.before_request(auth_decorator.before_request)``.

This module only translates Flask's request and session into calls on the
protocol core (:mod:`raven.request`, :mod:`raven.response`,
:mod:`raven.protocol`) and the core's errors into HTTP answers. Settings
come from the constructor and from ``app.config`` (``RAVEN_*`` keys); see
``docs/flask.md`` for the table and the security checklist.
"""

from __future__ import annotations

import calendar
import functools
import inspect
import logging
import re
import secrets
import time
from collections.abc import Callable, Collection, Iterable
from typing import Any, NoReturn
from urllib.parse import unquote_plus, urlsplit

from flask import Flask, after_this_request, current_app, redirect, request, session
from flask.sessions import SecureCookieSessionInterface
from jinja2 import ChoiceLoader, Environment, PackageLoader
from werkzeug.exceptions import (
    BadRequest,
    Forbidden,
    HTTPException,
    MethodNotAllowed,
    SecurityError,
    Unauthorized,
)
from werkzeug.sansio.utils import get_current_url
from werkzeug.urls import iri_to_uri
from werkzeug.wrappers import Response as WerkzeugResponse

from .errors import ParamsMismatchError, RequestError, ResponseError
from .keys import DEMO_KEYS
from .protocol import (
    RAVEN_AUTH,
    RAVEN_LOGOUT,
    STATUS_CODES,
    atypes_acceptable,
    check_atypes,
    check_issue,
    check_url,
)
from .request import Request
from .response import Response, utcnow
from .services import wls_for

__all__ = ["AuthDecorator", "ConfigurationError", "SESSION_KEY"]

logger = logging.getLogger("raven")

#: The one key of ``flask.session`` this module reads and writes.
SESSION_KEY = "_raven"
#: Outstanding params tokens kept per browser session: one per tab that
#: went to the WLS at the same time; older ones are forgotten.
MAX_TOKENS = 5
_RESPONSE_PARAM = "WLS-Response"
_EXTENSION = "raven"


class ConfigurationError(RuntimeError):
    """The application is set up in a way that cannot be safe or cannot work.

    Raised at :meth:`AuthDecorator.init_app` or, for settings only known
    per request (the trusted-host whitelist), when first needed; Flask
    answers 500 and logs it, like mod_ucam_webauth does for its own
    configuration errors. Nothing a client sends raises it.
    """


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

    ``issue_bounds=(a, b)`` accepts a response issued at most ``a`` seconds
    ago and at most ``b`` seconds in the future. ``require_ptags`` needs at
    least one of the tags; ``None`` (for either ``require_*``) allows any.
    """

    #: The WLS this class talks to. A subclass that sets these to the
    #: :mod:`raven.demoserver` ones talks to the hosted demo server;
    #: ``RAVEN_WLS`` in the config does the same without a subclass.
    request_class: type[Request] = Request
    response_class: type[Response] = Response
    logout_url: str = RAVEN_LOGOUT

    #: Defaults for settings that only the config sets.
    fail: bool = False
    cache_control: str | None = "private"
    timeout_msg: str | None = "your session on the site has expired"

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

    # --- configuration ---------------------------------------------------------

    def init_app(self, app: Flask) -> _Settings:
        """Read and check this decorator's settings for ``app``.

        Optional: without it the settings are read on the first request.
        Calling it at start-up makes a bad configuration fail at once.
        """
        try:
            settings = _Settings(self, app)
        except ConfigurationError as exc:
            logger.error("Raven configuration error: %s", exc)
            raise
        app.extensions.setdefault(_EXTENSION, {})[self] = settings
        return settings

    def _settings(self) -> _Settings:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        try:
            return app.extensions[_EXTENSION][self]  # type: ignore[no-any-return]
        except KeyError:
            return self.init_app(app)

    # --- use as a decorator or a before_request hook ---------------------------

    def __call__(self, view: Callable[..., Any]) -> Callable[..., Any]:
        """Wrap ``view`` so that it only runs for an authorised user."""
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
        s = self._settings()
        try:
            arrived = bool(request.query_string) and _RESPONSE_PARAM in request.args
        except UnicodeDecodeError:  # raw bytes that are not UTF-8: Werkzeug cannot read them
            logger.warning("refused a query string that is not UTF-8 (check query) from %s",
                           request.remote_addr)
            raise _page(s, BadRequest, "raven/bad_request.html", check="query") from None
        if arrived:
            return self._handle_response(s)
        state = session.get(SESSION_KEY)
        if state is None or "principal" not in state:
            return self._redirect_to_wls(s, None)
        try:  # the authenticated fast path
            now = int(time.time())
            expired = s.expired(state, now)
            if expired is None:
                principal = state["principal"]
                ptags = frozenset(state["ptags"])
                if s.inactive_timeout is not None and now - state["last"] >= s.last_resolution:
                    state["last"] = now
                    session.modified = True
        except (KeyError, TypeError, ValueError):  # a state we did not write
            logger.warning("ignoring an unreadable Raven session state")
            session.pop(SESSION_KEY, None)
            return self._redirect_to_wls(s, None)
        if expired is not None:
            logger.info("session expired (%s): back to the WLS", expired)
            return self._redirect_to_wls(s, expired)
        if s.checks_atypes and not atypes_acceptable(
            state.get("auth"), state.get("sso", ()), s.iact, s.aauth,
            s.response_class.known_atypes,
        ):
            # The login was made for a laxer decorator (they share the session).
            logger.info("the login does not meet this page's iact/aauth: back to the WLS")
            return self._redirect_to_wls(s, None)
        if not self.check_authorised(principal, ptags):
            logger.info("not authorised: principal %r, ptags %s", principal, sorted(ptags))
            raise _page(
                s, Forbidden, "raven/forbidden.html",
                principal=principal, ptags=sorted(ptags),
            )
        if s.cache_control_hook is not None:
            after_this_request(s.cache_control_hook)
        return None

    # --- override points -----------------------------------------------------

    def check_authorised(self, principal: str, ptags: frozenset[str]) -> bool:
        """May this authenticated user see the page? Override to decide.

        By default: the principal must be in ``require_principal`` and the
        ptags must meet ``require_ptags`` (each skipped when None).
        """
        s = self._settings()
        if s.require_principal is not None and principal not in s.require_principal:
            return False
        return s.require_ptags is None or not s.require_ptags.isdisjoint(ptags)

    def session_new(self) -> None:
        """Called when a login changes the principal or ptags (first login
        included), before the new identity is stored. Override it to clear
        application data kept for the previous user, or to start a fresh
        server-side session.
        """

    # --- the session, as properties ------------------------------------------

    @property
    def principal(self) -> str | None:
        """The logged-in user's identifier; None unless logged in and current."""
        state = self._current_state()
        return None if state is None else state["principal"]

    @property
    def ptags(self) -> frozenset[str] | None:
        """The user's ptags (e.g. ``{"current"}``); None unless logged in."""
        state = self._current_state()
        return None if state is None else frozenset(state["ptags"])

    @property
    def issue(self) -> int | None:
        """When the WLS issued the login (Unix time), or None."""
        return self._stored("issue")

    @property
    def life(self) -> int | None:
        """Seconds the WLS said its own session had left at login, or None."""
        return self._stored("life")

    @property
    def last(self) -> int | None:
        """Last recorded activity (Unix time); only tracked, approximately,
        with ``inactive_timeout`` (else it stays the login time)."""
        return self._stored("last")

    @property
    def expires(self) -> int | None:
        """When the login expires (Unix time): the earliest of expires_all."""
        times = self.expires_all
        return min((when for _, when in times), default=None) if times is not None else None

    @property
    def expires_all(self) -> list[tuple[str, int]] | None:
        """Each limit on the login as ``(reason, when)``; reason is one of
        ``"config max life"``, ``"wls life"``, ``"inactive"``. None if not
        logged in."""
        state = session.get(SESSION_KEY)
        if not state or "principal" not in state:
            return None
        return self._settings().expiries(state)

    def _stored(self, name: str) -> Any:
        state = session.get(SESSION_KEY)
        if not state or "principal" not in state:
            return None
        return state.get(name)

    def _current_state(self) -> dict[str, Any] | None:
        state = session.get(SESSION_KEY)
        if not state or "principal" not in state:
            return None
        try:
            if self._settings().expired(state, int(time.time())) is not None:
                return None
        except (KeyError, TypeError, ValueError):
            return None
        return state  # type: ignore[no-any-return]

    # --- logout ----------------------------------------------------------------

    def logout(self) -> WerkzeugResponse:
        """Forget the login here, and redirect (303) to the WLS logout page,
        which ends the user's Raven session too."""
        s = self._settings()
        session.pop(SESSION_KEY, None)
        return redirect(s.logout_url, code=303)

    # --- going to the WLS ------------------------------------------------------

    def _redirect_to_wls(self, s: _Settings, expired: str | None) -> WerkzeugResponse:
        url = _request_url(s, request.query_string)
        token = secrets.token_urlsafe(16)
        try:
            wls_request = s.request_class(
                url, s.desc, s.aauth, s.iact,
                s.timeout_msg if expired is not None and s.timeout_msg else s.msg,
                token, s.fail or None,
            )
        except RequestError as exc:
            logger.warning("cannot send %s to the WLS (check %s): %s", url, exc.check, exc)
            raise _page(s, BadRequest, "raven/bad_request.html", check=exc.check) from None
        if request.method not in ("GET", "HEAD"):
            logger.warning(
                "a %s to %s needs a Raven login: the data it carried is lost",
                request.method, request.path,
            )
        state = dict(session.get(SESSION_KEY) or ())
        state["tokens"] = [*state.get("tokens", ())[-(MAX_TOKENS - 1):], token]
        session[SESSION_KEY] = state
        return redirect(str(wls_request), code=303)

    # --- coming back from the WLS ----------------------------------------------

    def _handle_response(self, s: _Settings) -> WerkzeugResponse:
        if request.method != "GET":
            _refuse_response(s, MethodNotAllowed, "method", f"it came with {request.method}")
        values = request.args.getlist(_RESPONSE_PARAM)
        if len(values) != 1:
            _refuse_response(s, BadRequest, "duplicate", f"{len(values)} {_RESPONSE_PARAM} values")
        if not session:
            # We stored a token before sending the browser away: it came
            # back without our cookie. Another redirect would loop forever.
            logger.warning(
                "a %s arrived without a session cookie (check cookies): the browser "
                "refuses cookies, or the cookie is not sent back from the WLS",
                _RESPONSE_PARAM,
            )
            raise _page(
                s, Forbidden, "raven/no_cookies.html",
                check="cookies", retry_url=_relative_url(_without_response(request.query_string)),
            )
        query = _without_response(request.query_string)
        url = _request_url(s, query)
        state = session.get(SESSION_KEY)
        if not isinstance(state, dict):
            state = {}
        try:
            response = s.response_class(values[0])
            check_url(response.url, url, response.ver)
            tokens = list(state.get("tokens", ()))
            if response.params not in tokens:
                raise ParamsMismatchError(
                    "the response does not answer a login started by this browser "
                    "session, or it was used already"
                )
            tokens.remove(response.params)  # spent: a response works once
            state = {**state, "tokens": tokens}
            session[SESSION_KEY] = state
            if response.success:
                check_atypes(response.auth, response.sso, s.iact, s.aauth, response.known_atypes)
            check_issue(response.issue, utcnow(), *s.issue_bounds)
        except ResponseError as exc:
            _refuse_response(s, BadRequest, exc.check, str(exc), url)
        if not response.success:
            self._login_failed(s, response, state, url)
        principal, ptags = response.principal, response.ptags
        if (state.get("principal"), frozenset(state.get("ptags", ()))) != (principal, ptags):
            self.session_new()
        now = int(time.time())
        session[SESSION_KEY] = {
            "principal": principal,
            "ptags": sorted(ptags),
            "issue": calendar.timegm(response.issue.timetuple()),
            "life": response.life,
            "last": now,
            "auth": response.auth,
            "sso": sorted(response.sso),
            "tokens": state["tokens"],
        }
        logger.info("%s logged in (ptags %s)", principal, ",".join(sorted(ptags)) or "none")
        return redirect(response.url, code=303)

    def _login_failed(
        self, s: _Settings, response: Response, state: dict[str, Any], url: str
    ) -> NoReturn:
        # A failure ends any earlier login, and is shown once: no retry,
        # so a WLS that keeps refusing cannot make a redirect loop.
        session[SESSION_KEY] = {"tokens": state["tokens"]}
        status = int(response.status)
        log = logger.info if status == 410 else logger.warning
        log("the WLS answered %d (%s) for %s", status, STATUS_CODES[status], url)
        raise _page(
            s, Unauthorized, "raven/login_failed.html",
            wls_status=status, wls_status_text=STATUS_CODES[status], wls_msg=response.msg,
            retry_url=_relative_url(_without_response(request.query_string)),
        )


# --- settings -------------------------------------------------------------------

class _Settings:
    """One decorator's effective settings for one application."""

    def __init__(self, decorator: AuthDecorator, app: Flask) -> None:
        config = app.config

        def pick(name: str) -> Any:
            if name in decorator._given:
                return getattr(decorator, name)
            return config.get("RAVEN_" + name.upper(), getattr(decorator, name))

        self.desc: str | None = pick("desc")
        self.msg: str | None = pick("msg")
        self.aauth = _as_set("aauth", pick("aauth"))
        self.iact: bool | None = pick("iact")
        # Only a decorator that asks for something re-checks each request.
        self.checks_atypes = self.iact is not None or self.aauth is not None
        self.fail = bool(config.get("RAVEN_FAIL", decorator.fail))
        self.max_life = _seconds("max_life", pick("max_life"))
        self.use_wls_life = bool(pick("use_wls_life"))
        self.inactive_timeout = _seconds("inactive_timeout", pick("inactive_timeout"))
        self.issue_bounds = _issue_bounds(pick("issue_bounds"))
        self.require_principal = _as_set("require_principal", pick("require_principal"))
        self.require_ptags = _as_set("require_ptags", pick("require_ptags"))
        self.can_trust_request_host = bool(pick("can_trust_request_host"))
        self.timeout_msg: str | None = config.get("RAVEN_TIMEOUT_MSG", decorator.timeout_msg)
        cache_control = config.get("RAVEN_CACHE_CONTROL", decorator.cache_control)
        if cache_control is True:
            cache_control = "private"
        self.cache_control: str | None = cache_control or None
        self.cache_control_hook = (
            functools.partial(_add_cache_control, self.cache_control)
            if self.cache_control else None
        )
        # inactive_timeout is approximate (as in mod_ucam_webauth): the
        # cookie is rewritten at most every 1/60 of it, not on each request.
        self.last_resolution = max(1, (self.inactive_timeout or 0) // 60)
        self.request_class, self.response_class, self.logout_url, self.trusts_demo_key = (
            _choose_wls(type(decorator), config)
        )
        self._jinja_env: Environment | None = None
        self._app = app
        self._check(app)

    def _check(self, app: Flask) -> None:
        if self.iact not in (None, True, False):
            raise ConfigurationError("iact (RAVEN_IACT) must be True, False or None")
        if self.timeout_msg is not None and not isinstance(self.timeout_msg, str):
            raise ConfigurationError("RAVEN_TIMEOUT_MSG must be a string or None")
        if self.cache_control is not None and not isinstance(self.cache_control, str):
            raise ConfigurationError("RAVEN_CACHE_CONTROL must be a string, True, or None")
        try:  # let the core refuse a bad desc, msg, aauth or timeout message now
            for msg in (self.msg, self.timeout_msg):
                self.request_class(
                    "https://example.invalid/", self.desc, self.aauth, self.iact, msg,
                )
        except RequestError as exc:
            raise ConfigurationError(f"Raven settings: {exc}") from None
        if (
            isinstance(app.session_interface, SecureCookieSessionInterface)
            and not app.secret_key
        ):
            raise ConfigurationError(
                "Raven logins live in flask.session: set app.secret_key (SECRET_KEY)"
            )
        samesite = app.config.get("SESSION_COOKIE_SAMESITE")
        if isinstance(samesite, str) and samesite.lower() == "strict":
            raise ConfigurationError(
                "SESSION_COOKIE_SAMESITE='Strict' stops the session cookie coming back "
                "with the redirect from the WLS, so no login can ever succeed: use 'Lax'"
            )
        if self.trusts_demo_key:
            logger.warning(
                "this application trusts the published demo key (kid 901, WLS %s): "
                "its logins prove nothing; never use it for real",
                self.request_class.wls_url,
            )

    def expiries(self, state: dict[str, Any]) -> list[tuple[str, int]]:
        out = []
        if self.max_life is not None:
            out.append(("config max life", state["issue"] + self.max_life))
        if self.use_wls_life and state["life"] is not None:
            out.append(("wls life", state["issue"] + state["life"]))
        if self.inactive_timeout is not None:
            out.append(("inactive", state["last"] + self.inactive_timeout))
        return out

    def expired(self, state: dict[str, Any], now: int) -> str | None:
        """Why the login in ``state`` is over at ``now``, or None if it is not."""
        if self.max_life is not None and now >= state["issue"] + self.max_life:
            return "config max life"
        life = state["life"] if self.use_wls_life else None
        if life is not None and now >= state["issue"] + life:
            return "wls life"
        if self.inactive_timeout is not None and now >= state["last"] + self.inactive_timeout:
            return "inactive"
        return None

    @property
    def jinja_env(self) -> Environment:
        """The app's own Jinja environment, with our templates behind its own,
        so that an app's ``templates/raven/*.html`` (and blueprints') win."""
        if self._jinja_env is None:
            base = self._app.jinja_env
            self._jinja_env = base.overlay(
                loader=ChoiceLoader([base.loader, PackageLoader("raven", "templates")])
            )
        return self._jinja_env


def _as_set(name: str, value: Any) -> frozenset[str] | None:
    """None, or a set of names; a string (as from an environment variable)
    is a list separated by commas or spaces. A bare string is never used as
    a collection: ``"abc" in "xabcx"`` would be a substring test."""
    if value is None:
        return None
    if isinstance(value, str):
        value = [item for item in re.split(r"[,\s]+", value) if item]
    try:
        result = frozenset(value)
    except TypeError:
        raise ConfigurationError(f"{name} must be None or a collection of strings") from None
    if not result or not all(isinstance(item, str) for item in result):
        raise ConfigurationError(
            f"{name} must be None (no requirement) or a non-empty collection of strings"
        )
    return result


def _seconds(name: str, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigurationError(f"{name} must be a positive whole number of seconds, or None")
    return value


def _issue_bounds(value: Any) -> tuple[float, float]:
    try:
        past, future = value
        if isinstance(past, bool) or isinstance(future, bool) or past < 0 or future < 0:
            raise ValueError
        return float(past), float(future)
    except (TypeError, ValueError):
        raise ConfigurationError(
            "issue_bounds must be (seconds in the past, seconds in the future), both >= 0"
        ) from None


def _choose_wls(
    cls: type[AuthDecorator], config: Any
) -> tuple[type[Request], type[Response], str, bool]:
    """The request class, response class and logout URL of the WLS, and
    whether the demo key is trusted.

    ``RAVEN_WLS`` (with ``RAVEN_KEY_DIR``) picks it from config; a subclass
    may pick it with class attributes. If both do and disagree, or if
    requests would go to live Raven while the demo key is trusted, refuse.
    """
    chosen = (cls.request_class, cls.response_class, cls.logout_url)
    subclassed = chosen != (Request, Response, RAVEN_LOGOUT)
    if "RAVEN_WLS" in config or "RAVEN_KEY_DIR" in config:
        configured = _wls_from_config(config.get("RAVEN_WLS", "live"), config.get("RAVEN_KEY_DIR"))
        if not subclassed:
            chosen = configured
        elif _describe(chosen) != _describe(configured):
            raise ConfigurationError(
                f"{cls.__name__} sets request_class/response_class/logout_url for "
                f"{_describe(chosen)[0]}, but RAVEN_WLS/RAVEN_KEY_DIR choose "
                f"{_describe(configured)[0]}: use one or the other"
            )
    request_class, response_class, logout_url = chosen
    trusts_demo = any(_is_demo_key(kid, key) for kid, key in response_class.keys.items())
    if trusts_demo and request_class.wls_url == RAVEN_AUTH:
        raise ConfigurationError(
            "requests go to live Raven but the published demo key (kid 901) is "
            "trusted: anyone could forge a login. Remove it from the keys."
        )
    return request_class, response_class, logout_url, trusts_demo


def _wls_from_config(
    wls: Any, key_dir: Any
) -> tuple[type[Request], type[Response], str]:
    try:
        chosen = wls_for(wls, key_dir)
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"RAVEN_WLS / RAVEN_KEY_DIR: {exc}") from None
    return chosen.request_class, chosen.response_class, chosen.logout_url


def _describe(choice: tuple[type[Request], type[Response], str]) -> tuple[str, object, str]:
    request_class, response_class, logout_url = choice
    keys = {kid: key.public_numbers() for kid, key in response_class.keys.items()}
    return request_class.wls_url, keys, logout_url


_DEMO_NUMBERS = DEMO_KEYS["901"].public_numbers()


def _is_demo_key(kid: str, key: Any) -> bool:
    return kid == "901" or key.public_numbers() == _DEMO_NUMBERS


# --- URLs -------------------------------------------------------------------------


def _request_url(s: _Settings, query: bytes) -> str:
    """This request's URL (with ``query``), from a host we may trust.

    Werkzeug takes the host from the Host header (or X-Forwarded-Host behind
    ProxyFix), which a client controls; only a whitelist makes it safe.
    """
    if not s.can_trust_request_host and not request.trusted_hosts:
        message = (
            "Raven needs this site's own URL but the Host header is not "
            "checked: set TRUSTED_HOSTS in app.config (or trusted_hosts on "
            "app.request_class), or, if your web server already refuses "
            "other hosts, pass can_trust_request_host=True "
            "(RAVEN_CAN_TRUST_REQUEST_HOST)"
        )
        logger.error(message)
        raise ConfigurationError(message)
    try:
        host = request.host
    except SecurityError:
        logger.warning("refused an untrusted Host (check host) from %s", request.remote_addr)
        raise
    try:
        if not host:
            raise ValueError
        url = iri_to_uri(
            get_current_url(request.scheme, host, request.root_path, request.path, query)
        )
        if urlsplit(url).hostname is None:
            raise ValueError
    except ValueError:
        logger.warning("refused a request with no usable Host (check host)")
        raise _page(s, BadRequest, "raven/bad_request.html", check="host") from None
    return url


def _relative_url(query: bytes) -> str:
    """Path and query of this request, for a "try again" link."""
    full = iri_to_uri(
        get_current_url("http", "localhost", request.root_path, request.path, query)
    )
    parts = urlsplit(full)
    return parts.path + ("?" + parts.query if parts.query else "")


def _without_response(query: bytes) -> bytes:
    """The raw query string minus the parameter the WLS appended."""
    return b"&".join(
        part for part in query.split(b"&")
        if unquote_plus(part.partition(b"=")[0].decode("latin-1")) != _RESPONSE_PARAM
    )


# --- answers ----------------------------------------------------------------------

#: What a user is told about each refused check (the log says more).
_REASONS = {
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
}


def _refuse_response(
    s: _Settings, exc_class: type[HTTPException], check: str, detail: str, url: str | None = None
) -> NoReturn:
    # One line per refusal, naming the check. Never the response itself nor
    # a cookie: both could be replayed by whoever reads the log.
    logger.warning(
        "refused a %s (check %s) from %s%s: %s",
        _RESPONSE_PARAM, check, request.remote_addr, f" for {url}" if url else "", detail,
    )
    headers = {"Allow": "GET"} if exc_class is MethodNotAllowed else None
    raise _page(
        s, exc_class, "raven/bad_response.html", headers=headers,
        check=check, reason=_REASONS.get(check, "The login response was refused."),
        retry_url=_relative_url(_without_response(request.query_string)),
    )


def _page(
    s: _Settings,
    exc_class: type[HTTPException],
    template: str,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTTPException:
    """An HTTP error carrying our (overridable) page.

    Raised rather than returned, so an app's ``errorhandler`` for the code
    still sees it; ``error.get_response()`` gives our page.
    """
    context.setdefault("check", None)
    context["status"] = exc_class.code
    current_app.update_template_context(context)
    body = s.jinja_env.get_template(template).render(context)
    response = current_app.response_class(
        body, exc_class.code, headers=headers, mimetype="text/html"
    )
    response.headers["Cache-Control"] = "no-store"
    error = exc_class(description=_REASONS.get(context["check"]), response=response)
    error.raven_check = context["check"]  # type: ignore[attr-defined]
    return error


def _add_cache_control(value: str, response: WerkzeugResponse) -> WerkzeugResponse:
    """Keep a shared cache from storing a page meant for one user
    (mod_ucam_webauth's AACacheControl On); a view's own stricter choice stays."""
    existing = response.headers.get("Cache-Control")
    if existing is None:
        response.headers.add("Cache-Control", value)  # add: no second scan
        return response
    directives = [d.strip() for d in existing.split(",") if d.strip()]
    names = {d.split("=", 1)[0].lower() for d in directives}
    if not names & {"private", "no-store"}:
        kept = [d for d in directives if d.lower() != "public"]
        response.headers["Cache-Control"] = ", ".join([value, *kept])
    return response
