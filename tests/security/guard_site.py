"""One small site, behind each adapter, for the tests against real servers
(the guard's attack list, tabs and workers racing): routes a router
matches however a path is spelt, so that a hole in the path rule shows as
a page served without a login. Every page answers JSON: which page, and
who is logged in (None: nobody).

Protected: /admin, /staff and /reports; exempt: /static (inside none of
them, so only a path that escapes a protected prefix reaches it unguarded).
With RAVEN_* in the environment: the WSGI middleware under gunicorn as
``guard_site:wsgi_site``, the ASGI one under uvicorn as ``--factory
guard_site:starlette_site``, the Flask glue as ``guard_site:flask_site()``.
"""

from __future__ import annotations

import json
import os
from typing import Any

from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from raven.wsgi import RavenMiddleware

PROTECT = ("/admin", "/staff", "/reports")
EXEMPT = ("/static",)
_ROUTES = Map([
    Rule("/admin/<page>", endpoint="admin"),
    Rule("/staff/<path:rest>", endpoint="staff"),
    Rule("/reports", endpoint="reports"),
    Rule("/static/<path:rest>", endpoint="static"),
    Rule("/public", endpoint="public"),
], merge_slashes=False, strict_slashes=False)


def _page(endpoint: str, user: str | None) -> str:
    return json.dumps({"page": endpoint, "user": user})


def wsgi_app(environ: dict[str, Any], start_response: Any) -> Any:
    request = Request(environ)
    try:
        endpoint, _ = _ROUTES.bind_to_environ(environ).match(request.path)
    except Exception:  # noqa: BLE001 (a test site: any miss is a 404)
        return Response("no such page", 404)(environ, start_response)
    body = _page(endpoint, environ.get("REMOTE_USER"))
    return Response(body, mimetype="application/json")(environ, start_response)


def build_wsgi(**options: Any) -> RavenMiddleware:
    return RavenMiddleware(wsgi_app, os.environ, protect=PROTECT, exempt=EXEMPT, **options)


def starlette_site(**options: Any) -> Any:
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    from raven.asgi import RavenMiddleware as AsgiMiddleware

    def view(endpoint: str) -> Any:
        async def answer(request: Any) -> PlainTextResponse:
            user = request.user.display_name if request.user.is_authenticated else None
            return PlainTextResponse(_page(endpoint, user), media_type="application/json")
        return answer

    routes = [Route("/admin/{page}", view("admin")), Route("/staff/{rest:path}", view("staff")),
              Route("/reports", view("reports")), Route("/static/{rest:path}", view("static")),
              Route("/public", view("public"))]
    middleware = [Middleware(AsgiMiddleware, settings=os.environ, protect=PROTECT,
                             exempt=EXEMPT, **options)]
    return Starlette(routes=routes, middleware=middleware)


def flask_site() -> Any:
    """The same pages as Flask views behind the Flask glue's decorator;
    Flask's session is signed with RAVEN_SECRET_KEY."""
    from flask import Flask, request

    from raven.flask_glue import AuthDecorator

    app = Flask(__name__, static_folder=None)  # /static is the site's own
    app.config.update(SECRET_KEY=os.environ["RAVEN_SECRET_KEY"],
                      RAVEN_WLS=os.environ["RAVEN_WLS"], RAVEN_ORIGIN=os.environ["RAVEN_ORIGIN"])
    auth = AuthDecorator()

    @app.route("/admin/<page>", endpoint="admin")
    @app.route("/staff/<path:rest>", endpoint="staff")
    @app.route("/reports", endpoint="reports")
    @auth
    def protected(**_: str) -> Any:
        return app.response_class(_page(request.endpoint or "", auth.principal),
                                  mimetype="application/json")

    @app.route("/static/<path:rest>", endpoint="static")
    @app.route("/public", endpoint="public")
    def open_page(**_: str) -> Any:
        return app.response_class(_page(request.endpoint or "", None),
                                  mimetype="application/json")

    return app


if "RAVEN_ORIGIN" in os.environ:  # under gunicorn
    wsgi_site = build_wsgi()
