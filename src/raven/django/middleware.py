"""Keeps a Django login made with Raven no longer than its Raven login.

Without it a Django login lasts as long as the Django session (two weeks
by default), whatever ``max_life`` says, on every view that checks only
``request.user`` (``@login_required``, the admin). With it, each request
of a user logged in by :class:`~raven.django.backends.RavenBackend` is
checked by the flow core against the site's settings: expiry, the WLS and
key that made it, the site's ``require_*``; a login that fails is ended
(``django.contrib.auth.logout``), and the request goes on anonymous.
``request.raven`` is the login, or None.

A request that is not a page visit (a script's ``fetch()``, a JSON POST)
which Django itself sends to the login view (``@login_required``, the
admin) gets the flow core's 401, as the Raven views give it
(:func:`raven.flow.login_required`, ``RAVEN_API_401``), not that redirect.

Django builds it when the handler loads, before any request: that is the
site's start-up, where a bad setting raises, and what the system checks
would say is said if no check ran
(:func:`raven.django.checks.report_at_start`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from django.contrib import auth
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponseBase
from django.urls import Resolver404, get_script_prefix, resolve

from .. import flow, guard
from ..flow import Allow, Refuse, State, shown
from ..origin import HostError
from . import SESSION_KEY, checks, conf, glue, views

__all__ = ["RavenMiddleware"]

logger = logging.getLogger("raven")


class RavenMiddleware:
    """Put after ``SessionMiddleware`` and ``AuthenticationMiddleware``."""

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        # runserver before serving, gunicorn at a worker's boot,
        # get_wsgi_application(): a bad setting stops the start-up here, and
        # the checks' warnings are said here, once, not on the first request
        # (nor at all without "raven.django").
        conf.site()
        checks.report_at_start()

    def __call__(self, request: HttpRequest) -> Any:
        raven = self.check(request)
        response = self.get_response(request)
        if not isinstance(response, HttpResponseBase):
            return response
        if glue.logged_out(request):  # the admin's, LogoutView, the site's own
            response = glue.forget_logins_under_way(request, response, conf.site())
        if raven is not None:
            glue.add_cache_control(response, raven.settings)
        elif response.status_code in _REDIRECTS:
            response = self.for_a_script(request, response)
        return response

    def for_a_script(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        """Django's redirect to the login view, or the core's 401 in its
        place for a request that is not a page visit: a script cannot follow
        the WLS's pages, and a POST's data would be lost on the way."""
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return response  # refused, not unknown: the login view gives the 403
        seen = glue.incoming(request)
        if isinstance(seen, Refuse) or seen.navigation:
            return response
        if not _to_login_view(request, response.get("Location", "")):
            return response
        raven = conf.site()
        try:
            url = flow.own_url(seen, raven.settings, seen.query)
        except HostError:
            return response  # the login view refuses the address itself
        refusal = flow.login_required(seen, raven.settings, url)
        if refusal is None:  # RAVEN_API_401 = False
            return response
        flow.emit(refusal, logger)
        return glue.page(request, refusal)

    def check(self, request: HttpRequest) -> conf.DjangoRaven | None:
        """End a Raven-made Django login that no longer holds; the settings
        if the request goes on logged in with Raven."""
        request.raven = None  # type: ignore[attr-defined]
        session = getattr(request, "session", None)
        if session is None or not glue.is_raven_backend(session.get(auth.BACKEND_SESSION_KEY)):
            return None
        raven = conf.site()
        host = glue.host_allowed(request)
        if host is None or not flow.trusted(request.scheme or "http", host, raven.settings):
            # A host Django refuses, or another origin than the site's: the
            # login is not served there, so this request is anonymous (the
            # session stays; the Raven views answer 400 for the host).
            logger.warning("a request from %s at a host that is not the site's (%s): its "
                           "Raven login is not used, so it goes on anonymous",
                           shown(request.META.get("REMOTE_ADDR", "")),
                           "refused by ALLOWED_HOSTS" if host is None else shown(host))
            request.user = AnonymousUser()
            request.auser = _anonymous  # type: ignore[attr-defined]
            return None
        stored = session.get(SESSION_KEY)
        now = time.time()
        # The usual request: the stored login holds (judged as a request
        # carrying no response), with the Django login it made.
        decision: flow.Decision | None = flow.current(b"", stored, raven.settings, now)
        if isinstance(decision, Allow) and glue.django_login_matches(request):
            glue.save(request, decision.state)
            request.raven = decision.login  # type: ignore[attr-defined]
            return raven
        # Otherwise the whole decision, for the reason it gives.
        login = State.load(stored).login
        decision = None
        if login is not None and glue.django_login_matches(request, login):
            seen = glue.incoming(request)  # its host is allowed: not a Refuse
            if isinstance(seen, flow.Incoming):
                seen = flow.Incoming("GET", seen.scheme, seen.host, seen.path, b"", seen.client)
                decision = flow.decide(seen, stored, raven.settings, now, guard.new_token)
            if isinstance(decision, Allow):
                glue.save(request, decision.state)
                request.raven = decision.login  # type: ignore[attr-defined]
                return raven
        why = "no Raven login is kept with it"
        if decision is not None and decision.log is not None:
            why = decision.log.message.split(": back to")[0]
        user = getattr(request, "user", None)
        name = user.get_username() if user is not None and user.is_authenticated else "?"
        logger.info("ended the Django login of %s: its Raven login no longer holds (%s)",
                    shown(name), why)
        auth.logout(request)  # a new, empty session
        glue.logged_out(request)  # not the user's logout: logins under way go on
        # Logins under way (a tab at the WLS) keep their tokens.
        tokens = State.load(stored).tokens
        if tokens:
            glue.save(request, State(tokens))
        return None


#: Django's redirect_to_login answers 302; a site's own may use another.
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


def _to_login_view(request: HttpRequest, location: str) -> bool:
    """Does ``location`` name this site's Raven login view (``LOGIN_URL``,
    or the admin's login page pointed at it)?"""
    parts = urlsplit(location)
    if parts.netloc and parts.netloc != glue.host_allowed(request):
        return False  # another site's login page
    prefix = get_script_prefix()
    if not parts.path.startswith(prefix):
        return False
    try:
        match = resolve("/" + parts.path[len(prefix):])
    except Resolver404:
        return False
    return match.func is views.login


async def _anonymous() -> AnonymousUser:
    return AnonymousUser()
