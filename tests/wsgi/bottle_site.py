"""A small Bottle site behind RavenMiddleware, for gunicorn in the tests:
``gunicorn bottle_site:application``, configured by RAVEN_* environment
variables (RAVEN_WLS, RAVEN_ORIGIN, RAVEN_SECRET_KEY)."""

from __future__ import annotations

import os
from html import escape

import bottle

from raven.wsgi import RavenMiddleware

site = bottle.Bottle()


@site.get("/")
def home() -> str:
    return "<p>Public home</p>"


@site.get("/members")
def members() -> str:
    environ = bottle.request.environ
    ptags = ",".join(sorted(environ["raven.ptags"]))
    return (
        "<!doctype html><title>Members</title>"
        f"<p id=hello>Hello {escape(environ['REMOTE_USER'])}</p>"
        f"<p id=auth_type>{escape(environ['AUTH_TYPE'])}</p>"
        f"<p id=ptags>{escape(ptags)}</p>"
        f"<p id=expires>{environ['raven.expires']}</p>"
        '<form method=post action="/raven/logout"><button id=logout>Log out</button></form>'
    )


application = RavenMiddleware(site, os.environ, protect=["/members"], desc="Bottle test")
