"""Per-view Raven requirements: ``@raven_login_required`` for functions,
``RavenLoginRequiredMixin`` for class-based views.

Each runs the flow core for its view, with the site's settings and the
view's own ``require_principal``, ``require_ptags``, ``iact`` and ``aauth``
(as the Flask glue's ``AuthDecorator`` arguments). The site's rules decide
who may log in at all; a view's rules are checked on top of them. The view
is its own return URL: a login it needs (a password typed now, for
``iact=True``) comes back to it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, sync_to_async
from django.http import HttpRequest, HttpResponseBase

from ..guard import RouteSettings
from ..settings import Settings
from . import conf, glue

__all__ = ["SITE", "RavenLoginRequiredMixin", "raven_login_required"]


class _Site:
    def __repr__(self) -> str:
        return "SITE"


#: "As the site's settings say" (the default of every per-view argument).
SITE: Any = _Site()


def _given(**requirements: Any) -> dict[str, Any]:
    return {name: value for name, value in requirements.items() if value is not SITE}


def protect(request: HttpRequest, given: dict[str, Any]) -> HttpResponseBase | Settings:
    """The answer to give instead of the view, or the settings it ran under."""
    site = conf.site()
    view = conf.for_view(given) if given else site
    authorise = None  # a view with no rules of its own: the site's rule, once
    if view is not site:
        def authorise(principal: str, ptags: frozenset[str]) -> bool:
            return (site.settings.authorised(principal, ptags)
                    and view.settings.authorised(principal, ptags))

    result = glue.guard(request, view, authorise)
    return result if isinstance(result, HttpResponseBase) else view.settings


def raven_login_required(
    view: Callable[..., Any] | None = None,
    *,
    require_principal: Any = SITE,
    require_ptags: Any = SITE,
    iact: Any = SITE,
    aauth: Any = SITE,
    api_401: Any = SITE,
) -> Any:
    """Require a Raven login for a view: ``@raven_login_required``, or
    ``@raven_login_required(iact=True)`` and the like.

    Logged-in users must meet the site's rules and the view's; someone not
    logged in (or whose login does not meet ``iact``/``aauth``) is sent to
    the WLS and back to this view; someone who does not meet
    ``require_principal``/``require_ptags`` gets the 403 page.
    ``request.raven`` is the login (:class:`raven.flow.Login`).
    """
    given = _given(require_principal=require_principal, require_ptags=require_ptags,
                   iact=iact, aauth=aauth, api_401=api_401)
    RouteSettings.check(given)  # when the view is defined: a rule that cannot hold

    def decorate(function: Callable[..., Any]) -> Callable[..., Any]:
        if iscoroutinefunction(function):

            @functools.wraps(function)
            async def async_wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
                result = await sync_to_async(protect)(request, given)
                if isinstance(result, HttpResponseBase):
                    return result
                return glue.add_cache_control(await function(request, *args, **kwargs), result)

            return async_wrapper

        @functools.wraps(function)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            result = protect(request, given)
            if isinstance(result, HttpResponseBase):
                return result
            return glue.add_cache_control(function(request, *args, **kwargs), result)

        return wrapper

    return decorate(view) if view is not None else decorate


class RavenLoginRequiredMixin:
    """A class-based view that needs a Raven login (put it first among the
    bases). Set ``require_principal``, ``require_ptags``, ``iact`` or
    ``aauth`` on the class, or in ``as_view(...)``, to ask more than the
    site does. Synchronous views only."""

    require_principal: Any = SITE
    require_ptags: Any = SITE
    iact: Any = SITE
    aauth: Any = SITE
    api_401: Any = SITE

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        RouteSettings.check(cls._rules(cls))  # when the view is defined

    @classmethod
    def as_view(cls, **initkwargs: Any) -> Any:
        RouteSettings.check(cls._rules(initkwargs))  # when the URLconf is loaded
        return super().as_view(**initkwargs)  # type: ignore[misc]

    @staticmethod
    def _rules(source: Any) -> dict[str, Any]:
        get = source.get if isinstance(source, dict) else lambda name, default: getattr(
            source, name, default)
        return _given(**{name: get(name, SITE) for name in
                         ("require_principal", "require_ptags", "iact", "aauth", "api_401")})

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        result = protect(request, self._rules(self))
        if isinstance(result, HttpResponseBase):
            return result
        response = super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
        return glue.add_cache_control(response, result)
