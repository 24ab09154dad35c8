"""Pages of the Django app beyond the refusals: the site's own page after
logout."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.template import RequestContext

from . import conf, glue

__all__ = ["render"]


def render(request: HttpRequest, name: str, context: dict[str, Any],
           status: int = 200) -> HttpResponse:
    """``raven/<name>.html``, from the site's templates if it has one (or
    only ``raven/base.html``), else ours, as the refusal pages are."""
    template = glue._engine(conf.settings_object()).get_template(f"raven/{name}.html")
    body = template.render(RequestContext(request, context))
    response = HttpResponse(body, status=status, content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return response
