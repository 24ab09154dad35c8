"""The app's three views: ``login`` (``LOGIN_URL``), ``return_`` (where
the WLS sends the browser back) and ``logout``.

The login view asks the WLS to come back to the return view with the page
wanted as ``next`` in its query: the response's URL must then match it
exactly, so the signature covers ``next`` too, and each tab keeps its own.
``next`` is checked with ``url_has_allowed_host_and_scheme`` when it is
given and again when it is used.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from django.conf import settings as django_settings
from django.contrib import auth
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_POST, require_safe

from .. import flow
from ..flow import Allow, LoggedIn, Refuse, shown
from . import conf, glue

__all__ = ["login", "logout", "return_"]

logger = logging.getLogger("raven")


def _next(request: HttpRequest, value: str | None) -> str | None:
    """``value`` if it is a safe place to send the browser, else None."""
    if not value:
        return None
    try:
        host = request.get_host()
    except DisallowedHost:  # the views refuse the request themselves
        return None
    if url_has_allowed_host_and_scheme(value, allowed_hosts={host},
                                       require_https=request.is_secure()):
        return value
    return None


def _after_login(request: HttpRequest, raven: conf.DjangoRaven) -> str:
    wanted = _next(request, request.GET.get(auth.REDIRECT_FIELD_NAME))
    return wanted or resolve_url(raven.login_redirect or django_settings.LOGIN_REDIRECT_URL)


def _return_path(request: HttpRequest) -> str:
    namespace = request.resolver_match.namespace if request.resolver_match else "raven"
    return reverse(f"{namespace or 'raven'}:return")


@never_cache
@require_safe
def login(request: HttpRequest) -> HttpResponseBase:
    """Send the browser to the WLS, to come back to the return view and
    then to ``next``."""
    raven = conf.site()
    wanted = _next(request, request.GET.get(auth.REDIRECT_FIELD_NAME))
    query = urlencode({auth.REDIRECT_FIELD_NAME: wanted}).encode() if wanted else b""
    decision = glue.decide(request, raven, path=_return_path(request), query=query)
    return _answer(request, raven, decision)


@never_cache
def return_(request: HttpRequest) -> HttpResponseBase:
    """Complete a login with the ``WLS-Response`` the browser brings back,
    through the flow core; then go to ``next``. Without a response it acts
    as the login view."""
    raven = conf.site()
    return _answer(request, raven, glue.decide(request, raven))


def _answer(
    request: HttpRequest, raven: conf.DjangoRaven, decision: flow.Decision
) -> HttpResponseBase:
    location = _after_login(request, raven)
    if isinstance(decision, LoggedIn):
        return glue.complete(request, decision, location)
    if isinstance(decision, Allow) and request.GET.get(auth.REDIRECT_FIELD_NAME):
        # Logged in already, and sent here from a page: that page refused this
        # user (the admin, @permission_required...). Back there would loop.
        login = decision.login
        return glue.page(request, Refuse(
            403, "forbidden", "forbidden",
            {"principal": login.principal, "ptags": sorted(login.ptags)},
        ))
    return glue.answer(request, decision, location)


@require_POST
@csrf_protect
def logout(request: HttpRequest) -> HttpResponseBase:
    """Log out here (the Django login and the Raven login go together),
    then to ``RAVEN_LOGOUT_REDIRECT`` if set, else to the WLS's logout page
    (which ends the Raven session too), else to ``LOGOUT_REDIRECT_URL``."""
    raven = conf.site()
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        logger.info("%s logged out", shown(user.get_username()))
    auth.logout(request)  # flushes the session: our state goes with it
    if raven.logout_redirect:
        target = resolve_url(raven.logout_redirect)
    else:
        target = raven.settings.wls.logout_url or resolve_url(
            django_settings.LOGOUT_REDIRECT_URL or "/"
        )
    return glue.redirect(target)
