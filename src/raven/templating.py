"""The refusal pages, rendered with Jinja for the adapters that bring no
template engine of their own (WSGI, ASGI). Flask renders them with the
app's own environment, Django with its own engine: the templates are
the same."""

from __future__ import annotations

from collections.abc import Iterable
from types import SimpleNamespace
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, select_autoescape

from . import pages
from .flow import Refuse
from .settings import Settings

PAGES = ("bad_request", "bad_response", "no_cookies", "login_failed", "forbidden",
         "logout_refused", "logged_out")


class Pages:
    """``raven/<page>.html`` from ``template_dirs`` first, then ours."""

    def __init__(self, template_dirs: Iterable[str] | str = ()) -> None:
        dirs = [template_dirs] if isinstance(template_dirs, str) else list(template_dirs)
        self.environment = Environment(
            loader=ChoiceLoader([FileSystemLoader(dirs), PackageLoader("raven", "templates")]),
            autoescape=select_autoescape(default=True),
        )
        for page in PAGES:  # a broken override fails now, not on a request
            self.environment.get_template(f"raven/{page}.html")

    def render(self, refusal: Refuse, settings: Settings, *, script_root: str, path: str,
               query: str | bytes, logout_url: str | None, cookie_came_back: bool | None,
               ) -> str:
        context = pages.refusal_context(
            refusal, settings, script_root=script_root, path=path, query=query,
            logout_url=logout_url, cookie_came_back=cookie_came_back,
        )
        return self.page(refusal.page, context, script_root)

    def page(self, name: str, context: dict[str, Any], script_root: str) -> str:
        # what a site's templates may read from Flask's request
        context = {**context, "request": SimpleNamespace(script_root=script_root)}
        return self.environment.get_template(f"raven/{name}.html").render(context)
