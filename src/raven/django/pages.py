"""Pages of the Django app beyond the refusals: the site's own page after
logout, and the way forward from the wrong host or port."""

from __future__ import annotations

from typing import Any

from django.conf import settings as django_settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse
from django.template import RequestContext

from .. import wayforward
from . import conf, glue

__all__ = ["render", "wrong_host"]


def render(request: HttpRequest, name: str, context: dict[str, Any],
           status: int = 200) -> HttpResponse:
    """``raven/<name>.html``, from the site's templates if it has one (or
    only ``raven/base.html``), else ours, as the refusal pages are."""
    template = glue._engine(conf.settings_object()).get_template(f"raven/{name}.html")
    body = template.render(RequestContext(request, context))
    response = HttpResponse(body, status=status, content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return response


def wrong_host(request: HttpRequest) -> dict[str, Any]:
    """The wrong-host page's link to this path at ``RAVEN_ORIGIN`` and, with
    ``DEBUG``, its cause (see :func:`raven.wayforward.wrong_host`)."""
    try:
        raven = conf.site().settings
    except conf.ConfigurationError:
        raven = None
    cause = None
    try:
        host = request.get_host()
    except DisallowedHost as exc:
        host, cause = "", str(exc)
    raw = request.META.get("QUERY_STRING", "")
    return wayforward.wrong_host(
        raven, request.scheme or "http", host, request.path, raw.encode("latin-1", "replace"),
        debug=bool(django_settings.DEBUG), cause=cause,
    )
