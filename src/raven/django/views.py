"""The app's views: ``login`` (``LOGIN_URL``), ``return_`` (where the WLS
sends the browser back), ``logout`` and ``logged_out`` (where a logout
ends).

The login view asks the WLS to come back to the return view with the page
wanted as ``next`` in its query: the response's URL must then match it
exactly, so the signature covers ``next`` too, and each tab keeps its own.
``next`` is checked with ``url_has_allowed_host_and_scheme`` when it is
given and again when it is used.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qs, urlencode, urlsplit

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
from ..origin import HostError, site_url, trusted_origin
from . import conf, glue, pages

__all__ = ["logged_out", "login", "logout", "return_"]

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
    return wanted or resolve_url(raven.login_redirect or login_redirect_url())


def login_redirect_url() -> str:
    """``LOGIN_REDIRECT_URL`` if the site set it; else ``/``, where
    django-ucamwebauth went, rather than Django's default
    ``/accounts/profile/``, which few sites serve."""
    if not django_settings.is_overridden("LOGIN_REDIRECT_URL"):
        return "/"
    return getattr(django_settings, "LOGIN_REDIRECT_URL", None) or "/"


def _return_path(request: HttpRequest) -> str:
    return reverse(f"{_namespace(request)}:return")


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
    if isinstance(decision, LoggedIn) and not request.GET.get(auth.REDIRECT_FIELD_NAME):
        # An OpenID provider comes back to this view without ``next``: the
        # page wanted travelled in the state, and is the decision's location.
        wanted = parse_qs(urlsplit(decision.location).query).get(auth.REDIRECT_FIELD_NAME)
        location = (_next(request, wanted[0]) if wanted else None) or location
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
    then go where the user can go on from (see :func:`after_logout`)."""
    raven = conf.site()
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        logger.info("%s logged out", shown(user.get_username()))
    auth.logout(request)  # flushes the session: our state goes with it
    return glue.forget_logins_under_way(request, glue.redirect(after_logout(request, raven)),
                                        raven)


def after_logout(request: HttpRequest, raven: conf.DjangoRaven) -> str:
    """Where a logout ends: ``RAVEN_LOGOUT_REDIRECT`` if set; else, for a
    WLS whose logout page links back (the local test WLS), that page with
    a link back to our "logged out" page; else our "logged out" page
    itself, which links to the WLS's logout page and back into the site."""
    if raven.logout_redirect:
        return resolve_url(raven.logout_redirect)
    page = reverse(f"{_namespace(request)}:logged_out")
    wls = raven.settings.wls
    if wls.logout_url and wls.kind == "local":
        site = raven.settings
        try:
            origin = trusted_origin(request.scheme or "http", request.get_host(),
                                    origins=site.origins, host_names=site.host_names,
                                    trust_any_host=site.trust_any_host)
        except (DisallowedHost, HostError):
            return page
        return f"{wls.logout_url}?{urlencode({'return': site_url(origin, page, b'')})}"
    return page


@never_cache
@require_safe
def logged_out(request: HttpRequest) -> HttpResponseBase:
    """The site's own page after logout: how to end the Raven session too
    (the WLS's logout page), and links back into the site."""
    raven = conf.site()
    wls = raven.settings.wls
    context = {
        "wls_logout_url": None if wls.kind == "local" else wls.logout_url,
        "wls_name": "Raven" if wls.kind == "live" else wls.name,
        "home_url": resolve_url(getattr(django_settings, "LOGOUT_REDIRECT_URL", None) or "/"),
        "login_url": reverse(f"{_namespace(request)}:login"),
    }
    return pages.render(request, "logged_out", context)


def _namespace(request: HttpRequest) -> str:
    match = request.resolver_match
    return (match.namespace if match and match.namespace else None) or "raven"
