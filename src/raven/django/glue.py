"""Django's request, session and auth in the flow core's terms, and the
core's decisions as Django answers. Views, decorators and the middleware
all go through here; every rule lives in :mod:`raven.flow`.

One invariant keeps Raven and ``django.contrib.auth`` together: a login
is kept in our state only alongside the Django login it made (through
:class:`~raven.django.backends.RavenBackend`); a Raven login without it
counts for nothing, and the middleware ends a Django login whose Raven
login no longer holds.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, overload

from django.conf import settings as django_settings
from django.contrib import auth
from django.contrib.auth.signals import user_logged_out
from django.core.exceptions import DisallowedHost
from django.core.handlers.asgi import ASGIRequest
from django.dispatch import receiver
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
    JsonResponse,
)
from django.middleware.csrf import get_token
from django.template import Engine, RequestContext, engines
from django.urls import NoReverseMatch, reverse
from django.utils.module_loading import import_string

from .. import flow, pages, pending
from .. import guard as site_guard
from ..flow import Allow, Incoming, LoggedIn, Login, LogLine, Refuse, State, ToWLS, shown
from ..settings import Settings
from . import SESSION_KEY, USER_KEY, conf
from .conf import DjangoRaven

__all__ = ["get_login", "guard", "page", "redirect"]

logger = logging.getLogger("raven")

#: Our default pages: the same templates as the Flask glue's.
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


class HttpResponseSeeOther(HttpResponseRedirect):
    """The protocol's redirect: 303, so that the next request is a GET."""

    status_code = 303


def redirect(location: str) -> HttpResponseSeeOther:
    return HttpResponseSeeOther(location, headers=flow.REDIRECT_HEADERS)


# --- the request -----------------------------------------------------------------


def incoming(request: HttpRequest) -> Incoming | Refuse:
    """The request as the core sees it, or a refusal of its host."""
    try:
        host = request.get_host()  # Django's ALLOWED_HOSTS; the core adds the origin rules
    except DisallowedHost as exc:
        return _host_refusal(request, str(exc))
    request.__dict__[_HOST_ALLOWED] = host
    method = request.method or "GET"
    return Incoming(
        method, request.scheme or "http", host, request.path,
        raw_query(request), request.META.get("REMOTE_ADDR", ""),
        state_came_back=django_settings.SESSION_COOKIE_NAME in request.COOKIES,
        navigation=flow.is_navigation(method, request.META.get("HTTP_SEC_FETCH_MODE"),
                                      request.META.get("HTTP_SEC_FETCH_DEST"),
                                      request.META.get("HTTP_ACCEPT")),
    )


#: Set on a request whose host Django allows (get_host() answered).
_HOST_ALLOWED = "_raven_host_allowed"


def host_allowed(request: HttpRequest) -> str | None:
    """The request's host if Django allows it (``ALLOWED_HOSTS``), else None.
    Asked of Django once per request; a refused host is refused by
    :func:`incoming`."""
    host: str | None = request.__dict__.get(_HOST_ALLOWED)
    if host is not None:
        return host
    try:
        host = request.get_host()
    except DisallowedHost:
        return None
    request.__dict__[_HOST_ALLOWED] = host
    return host


def raw_query(request: HttpRequest) -> bytes:
    """The raw query string, as bytes. WSGI hands the raw bytes over as
    latin-1 text; Django's ASGI handler decodes them as UTF-8."""
    raw = request.META.get("QUERY_STRING", "")
    if not raw:
        return b""
    return raw.encode("utf-8" if isinstance(request, ASGIRequest) else "latin-1")


def _host_refusal(request: HttpRequest, detail: str) -> Refuse:
    line = LogLine(logging.WARNING, f"refused a request (check host) from "
                                    f"{shown(request.META.get('REMOTE_ADDR', ''))}: "
                                    f"{shown(detail, 200)}")
    return Refuse(400, "host", "bad_request", {"check": "host"}, line)


def stored_state(request: HttpRequest) -> object:
    """What the session holds under our key, less a login that no longer
    goes with the Django login (an account made inactive, say)."""
    _needs_session(request)
    stored = request.session.get(SESSION_KEY)
    state = State.load(stored)
    if state.login is not None and not django_login_matches(request, state.login):
        return state._replace(login=None).dump()
    return stored


def save(request: HttpRequest, state: State | None) -> None:
    if state is not None:
        request.session[SESSION_KEY] = state.dump()


def _needs_session(request: HttpRequest) -> None:
    if not hasattr(request, "session"):
        raise conf.ConfigurationError(
            "Raven logins live in request.session: add "
            "'django.contrib.sessions.middleware.SessionMiddleware' to MIDDLEWARE"
        )


@functools.lru_cache(maxsize=16)
def is_raven_backend(path: object) -> bool:
    from .backends import RavenBackend

    try:
        return isinstance(path, str) and issubclass(import_string(path), RavenBackend)
    except ImportError:
        return False


def django_login_matches(request: HttpRequest, login: Login | None = None) -> bool:
    """Is the Django login the one our backend made beside ``login``? By
    the user id recorded then, never by comparing names again: a database
    that compares names without case would find the account, and an exact
    comparison later would end the login and loop through the WLS."""
    session = request.session
    if not is_raven_backend(session.get(auth.BACKEND_SESSION_KEY)):
        return False
    recorded = session.get(USER_KEY)
    if recorded is None or recorded != session.get(auth.SESSION_KEY):
        return False
    user = getattr(request, "user", None)
    if user is None:
        user = auth.get_user(request)
    return bool(user.is_authenticated)


def get_login(request: HttpRequest) -> Login | None:
    """The request's Raven login (principal, ptags, issue...), if it holds
    under the site's settings; None otherwise."""
    cached = getattr(request, "raven", None)
    if isinstance(cached, Login):
        return cached
    if not hasattr(request, "session"):
        return None
    login = State.load(stored_state(request)).login
    if login is None or not login.valid_for(conf.site().settings, time.time()):
        return None
    return login


# --- the decisions -----------------------------------------------------------------


def decide(
    request: HttpRequest,
    raven: DjangoRaven,
    authorise: Callable[[str, frozenset[str]], bool] | None = None,
    *,
    path: str | None = None,
    query: bytes | None = None,
) -> flow.Decision:
    """The core's decision for this request (or for ``path`` and ``query``
    in its place: the login view asks for the return view's URL)."""
    seen = incoming(request)
    if isinstance(seen, Refuse):
        flow.emit(seen, logger)
        return seen
    if path is not None:
        seen = seen._replace(path=path, query=query or b"")
    now = time.time()
    secure = pending.secure_for(raven.settings, seen.scheme)
    under_way = pending.read(request.META.get("HTTP_COOKIE"), secure, now)
    seen = seen._replace(pending=under_way.tokens,
                         state_came_back=seen.state_came_back or under_way.came_back)
    decision = flow.decide(
        seen, stored_state(request), raven.settings, now, site_guard.new_token, authorise,
    )
    flow.emit(decision, logger)
    request.__dict__[_PENDING] = pending.changes(decision, now, secure, under_way)
    return decision


#: What a decision does to the browser's logins under way (raven.pending),
#: kept on the request until its answer is made.
_PENDING = "_raven_pending"


#: Set on a request by any Django logout (Raven's view, the admin's,
#: ``LogoutView``, ``auth.logout`` in a view of the site's own), so that
#: ``RavenMiddleware`` forgets the logins under way on its answer.
_LOGGED_OUT = "_raven_logged_out"


@receiver(user_logged_out, dispatch_uid="raven.django.glue.logged_out")
def _note_logout(sender: object, request: HttpRequest | None = None, **kwargs: Any) -> None:
    if request is not None:
        request.__dict__[_LOGGED_OUT] = True


def logged_out(request: HttpRequest) -> bool:
    """Did a Django logout happen during this request (and not yet forget
    the logins under way)? Asking clears it."""
    return bool(request.__dict__.pop(_LOGGED_OUT, False))


def forget_logins_under_way(request: HttpRequest, response: HttpResponseBase,
                            raven: DjangoRaven) -> HttpResponseBase:
    """A logout: no tab left at the WLS logs the browser in again."""
    logged_out(request)
    secure = pending.secure_for(raven.settings, request.scheme or "http")
    request.__dict__[_PENDING] = pending.forget(request.META.get("HTTP_COOKIE"), secure)
    return _with_pending(request, response)


def _with_pending(request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
    for cookie in request.__dict__.pop(_PENDING, ()):
        response.set_cookie(cookie.name, cookie.value, max_age=cookie.max_age, path="/",
                            secure=cookie.secure, httponly=True, samesite="Lax")
    return response


def guard(
    request: HttpRequest, raven: DjangoRaven,
    authorise: Callable[[str, frozenset[str]], bool] | None,
) -> HttpResponseBase | Login:
    """For a protected view: its login, or the answer to give instead."""
    decision: flow.Decision | None = None
    host = host_allowed(request) if hasattr(request, "session") else None
    if host is not None:
        # The usual request: the stored login, with the Django login it
        # made, lets it through (or is refused it) without describing it.
        stored = request.session.get(SESSION_KEY)
        if stored is not None and django_login_matches(request):
            decision = flow.current(raw_query(request), stored, raven.settings, time.time(),
                                    authorise, request.scheme or "http", host)
            if decision is not None:
                flow.emit(decision, logger)
    if decision is None:
        decision = decide(request, raven, authorise)
    if isinstance(decision, Allow):
        save(request, decision.state)
        request.raven = decision.login  # type: ignore[attr-defined]
        return decision.login
    return answer(request, decision, getattr(decision, "location", ""))


def answer(request: HttpRequest, decision: flow.Decision, location: str) -> HttpResponseBase:
    """Carry out a decision other than letting the request through."""
    return _with_pending(request, _answer(request, decision, location))


def _answer(request: HttpRequest, decision: flow.Decision, location: str) -> HttpResponseBase:
    if isinstance(decision, LoggedIn):
        return _complete(request, decision, location)
    if isinstance(decision, ToWLS):
        save(request, decision.state)
        return redirect(decision.location)
    if isinstance(decision, Refuse):
        save(request, decision.state)
        _keep_another_tabs_session(request)
        return page(request, decision)
    return redirect(location)  # Allow: already logged in


def _keep_another_tabs_session(request: HttpRequest) -> None:
    """A refusal must not end a login made in another tab. When a tab's
    login gives the session a new key, a second tab may still arrive with
    the old one: Django finds no such session, and would delete the cookie
    as it answers, the other tab's fresh login with it. Nothing of this
    request's is worth keeping then, so Django is not told a cookie came."""
    session = getattr(request, "session", None)
    if session is not None and session.session_key is None and not session.modified:
        request.COOKIES.pop(django_settings.SESSION_COOKIE_NAME, None)


def complete(request: HttpRequest, decision: LoggedIn, location: str) -> HttpResponseBase:
    """A verified response arrived: make the Django login, then keep the
    Raven login beside it, then go to ``location``.

    The site's own rules (``require_principal``, ``require_ptags``) decide
    who may log in at all; a view's rules are checked on top of them.
    """
    return _with_pending(request, _complete(request, decision, location))


def _complete(request: HttpRequest, decision: LoggedIn, location: str) -> HttpResponseBase:
    if decision.state is None:  # the back button: the current login goes on
        return redirect(location)
    login = decision.login
    site = conf.site().settings
    # The token is spent, pass or fail; a refused visitor who had no session gets none.
    spent = flow.ended(State.load(request.session.get(SESSION_KEY)), State(decision.state.tokens))
    if not site.authorised(login.principal, login.ptags):
        refusal = _forbidden(login, f"not authorised to log in here: principal "
                                    f"{shown(login.principal)}, ptags "
                                    f"{shown(','.join(sorted(login.ptags)))}")
        save(request, spent)
        return page(request, refusal)
    user = auth.authenticate(request, raven_login=login)
    if user is None:
        refusal = _forbidden(login, f"no Django account may log in as {shown(login.principal)} "
                                    "(unknown and RAVEN_CREATE_USER is False, or inactive)")
        save(request, spent)
        return page(request, refusal)
    before = request.session.session_key
    auth.login(request, user)  # a new session key, or a new session for another user
    if before is not None and request.session.session_key == before:
        # The same user again (a fresh password for a stricter page): Django
        # keeps the key then, and whoever held it would hold this login too.
        request.session.cycle_key()
    request.session[USER_KEY] = request.session[auth.SESSION_KEY]
    save(request, decision.state)
    request.raven = login  # type: ignore[attr-defined]
    return redirect(location)


def _forbidden(login: Login, message: str) -> Refuse:
    refusal = Refuse(403, "forbidden", "forbidden",  # refused at login: not logged in
                     {"principal": login.principal, "ptags": sorted(login.ptags),
                      "logged_in": False},
                     LogLine(logging.INFO, message))
    flow.emit(refusal, logger)
    return refusal


def add_cache_control(response: HttpResponseBase, settings: Settings) -> HttpResponseBase:
    """Keep shared caches from storing a page meant for one user."""
    if settings.cache_control:
        merged = site_guard.private(response.get("Cache-Control"), settings.cache_control)
        if merged is not None:
            response["Cache-Control"] = merged
    return response


# --- pages ----------------------------------------------------------------------------


class _CsrfField(Sequence[tuple[str, str]]):
    """The log-out form's hidden CSRF field, asked for only when a page shows
    the form: a refusal page without one sets no CSRF cookie (nor, with
    ``CSRF_USE_SESSIONS``, makes a session)."""

    def __init__(self, request: HttpRequest) -> None:
        self.request = request

    def __len__(self) -> int:
        return 1

    @overload
    def __getitem__(self, index: int) -> tuple[str, str]: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[tuple[str, str]]: ...
    def __getitem__(self, index: int | slice) -> Any:
        return [("csrfmiddlewaretoken", get_token(self.request))][index]


def page(request: HttpRequest, refusal: Refuse) -> HttpResponse:
    """A refusal's page, from the site's templates if it has ``raven/<page>.html``
    (or only ``raven/base.html``), else ours; JSON for a client that is not
    a person at a browser."""
    if refusal.json is not None:
        answer = JsonResponse(refusal.json, status=refusal.status)
        for name, value in refusal.headers.items():
            answer[name] = value
        answer["Cache-Control"] = "no-store"
        return answer
    context = pages.refusal_context(
        refusal, conf.site().settings, script_root=request.META.get("SCRIPT_NAME", ""),
        path=request.path, query=request.META.get("QUERY_STRING", ""),
        logout_url=_logout_url(), logout_fields=_CsrfField(request),
        cookie_came_back=django_settings.SESSION_COOKIE_NAME in request.COOKIES,
        debug=django_settings.DEBUG,
    )
    template = _engine(conf.settings_object()).get_template(f"raven/{refusal.page}.html")
    body = template.render(RequestContext(request, context))
    response = HttpResponse(body, status=refusal.status, content_type="text/html; charset=utf-8")
    for name, value in refusal.headers.items():
        response[name] = value
    response["Cache-Control"] = "no-store"
    response.raven_check = refusal.context.get("check")  # type: ignore[attr-defined]
    return response


def _logout_url() -> str | None:
    """raven:logout, for the log-out button of a refusal page."""
    try:
        return reverse("raven:logout")
    except NoReverseMatch:
        return None


@functools.lru_cache(maxsize=1)
def _engine(_settings: object) -> Engine:
    """The site's Django template engine with our directory behind its own
    loaders, as the Flask glue puts ours behind the app's."""
    base = None
    for backend in engines.all():
        if hasattr(backend, "engine") and isinstance(backend.engine, Engine):
            base = backend.engine
            break
    ours = ("django.template.loaders.filesystem.Loader", [str(TEMPLATES)])
    if base is None:
        return Engine(loaders=[ours], autoescape=True)
    return Engine(
        dirs=base.dirs, loaders=[*base.loaders, ours], context_processors=base.context_processors,
        debug=base.debug, string_if_invalid=base.string_if_invalid,
        file_charset=base.file_charset, libraries=base.libraries,
        builtins=[b for b in base.builtins if b not in Engine.default_builtins],
        autoescape=base.autoescape,
    )


def clear_cache(**_: Any) -> None:
    _engine.cache_clear()
    is_raven_backend.cache_clear()
