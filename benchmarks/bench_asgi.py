"""A logged-in request to a trivial protected Starlette route: python-raven's
RavenMiddleware against Starlette's own session login.

Contenders, each a Starlette app called directly with a prepared scope
(no test client, no network):

- starlette-auth: ``SessionMiddleware`` + ``AuthenticationMiddleware``
  with a backend reading the user from the session, and the route behind
  ``@requires("authenticated")``;
- python-raven: ``RavenMiddleware`` (its own signed cookie) protecting
  every path, the login made through the WLS;
- bare: the route with no middleware and no cookie, for scale.

Both protected routes answer "You are <name>" from ``request.user``. The
contenders alternate in many short rounds and the figures are medians of
per-round ratios. Goal: python-raven no slower than starlette-auth.

    python benchmarks/bench_asgi.py
    python benchmarks/bench_asgi.py --against HEAD~3   # also a past revision
    python benchmarks/bench_asgi.py --rounds 50        # a quicker look
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import _pairing
from starlette.applications import Starlette
from starlette.authentication import (
    AuthCredentials,
    AuthenticationBackend,
    SimpleUser,
    requires,
)
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from raven.asgi import RavenMiddleware
from raven.testing import login

HOST = "www.example.cam.ac.uk"
BASE = f"https://{HOST}"
ROUNDS = 200
NUMBER = 50
SECRET = "bench: not a secret, but long enough"


async def whoami(request: Request) -> PlainTextResponse:
    return PlainTextResponse("You are " + request.user.display_name)


async def hello(request: Request) -> PlainTextResponse:
    return PlainTextResponse("You are test0001")


def bare_app() -> tuple[Any, str | None, str]:
    return Starlette(routes=[Route("/", hello)]), None, "unused"


class SessionBackend(AuthenticationBackend):
    """The user the session names, if any."""

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, SimpleUser] | None:
        name = conn.session.get("user")
        if name is None:
            return None
        return AuthCredentials(["authenticated"]), SimpleUser(name)


def starlette_app() -> tuple[Any, str | None, str]:
    async def log_in(request: Request) -> PlainTextResponse:
        request.session["user"] = "test0001"
        return PlainTextResponse("ok")

    app = Starlette(
        routes=[Route("/", requires("authenticated")(whoami)), Route("/login", log_in)],
        middleware=[Middleware(SessionMiddleware, secret_key=SECRET, https_only=True),
                    Middleware(AuthenticationMiddleware, backend=SessionBackend())],
    )
    client = TestClient(app, base_url=BASE)
    client.get("/login")
    return app, client.cookies.get("session"), "session"


def raven_app(middleware: type = RavenMiddleware, log_in: Callable[..., Any] = login
              ) -> tuple[Any, str | None, str]:
    logging.getLogger("raven").setLevel(logging.ERROR)  # the demo-key notice
    app = Starlette(
        routes=[Route("/", whoami)],
        middleware=[Middleware(middleware, secret_key=SECRET, origin=BASE,
                               wls="http://127.0.0.1:5001")],
    )
    client = TestClient(app, base_url=BASE)
    log_in(client, BASE + "/")
    name = "__Host-raven"
    return app, client.cookies.get(name), name


def raven_at(revision: str) -> tuple[Any, str | None, str]:
    asgi = _pairing.raven_at(revision, "asgi")
    testing = _pairing.raven_at(revision, "testing")
    return raven_app(asgi.RavenMiddleware, testing.login)


def rounds_of(app: Any, cookie: str | None, name: str, number: int) -> Callable[[], None]:
    """``number`` requests to ``app``, made on one event loop."""
    headers = [(b"host", HOST.encode())]
    if cookie is not None:
        headers.append((b"cookie", f"{name}={cookie}".encode()))
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "GET", "scheme": "https", "path": "/", "raw_path": b"/",
             "query_string": b"", "root_path": "", "headers": headers,
             "client": ("127.0.0.1", 5000), "server": (HOST, 443)}
    seen: list[Any] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            seen.append(message["status"])
            if any(key == b"set-cookie" for key, _ in message["headers"]):
                seen.append("set-cookie")
        elif message.get("body"):
            seen.append(message["body"])

    async def many(n: int) -> None:
        for _ in range(n):
            await app(dict(scope), receive, send)

    loop = asyncio.new_event_loop()
    # Check that the request is what we mean to measure: let through, as
    # test0001, with nothing written back.
    loop.run_until_complete(many(1))
    assert seen == [200, b"You are test0001"], seen
    seen.clear()

    def run() -> None:
        loop.run_until_complete(many(number))
    return run


def main() -> None:
    args = _pairing.arguments(__doc__, ROUNDS)
    candidates = {
        "bare": rounds_of(*bare_app(), NUMBER),
        "starlette-auth": rounds_of(*starlette_app(), NUMBER),
        "python-raven": rounds_of(*raven_app(), NUMBER),
    }
    comparisons = [("python-raven", "starlette-auth", "goal <= 1.00"),
                   ("python-raven", "bare", "for scale"),
                   ("starlette-auth", "bare", "for scale")]
    if args.against:
        candidates[f"@{args.against}"] = rounds_of(*raven_at(args.against), NUMBER)
        comparisons.append(("python-raven", f"@{args.against}", "goal <= 1.00: no slower"))
    times = _pairing.paired_rounds(candidates, args.rounds, NUMBER)
    _pairing.report(times, comparisons, NUMBER)
    _pairing.added_cost(times, "python-raven", "starlette-auth", "bare")


if __name__ == "__main__":
    main()
