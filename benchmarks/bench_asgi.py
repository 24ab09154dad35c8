"""Overhead of RavenMiddleware: an authenticated request through it against
the same route bare, both as ASGI apps called directly in-process.

Contenders alternate in many short rounds; printed is the median of the
per-round ratios (protected / bare) with its spread.

    .venv/bin/python benchmarks/bench_asgi.py
"""

from __future__ import annotations

import asyncio
import statistics
import time

from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from raven.asgi import RavenMiddleware
from raven.testing import login

BASE = "https://www.example.cam.ac.uk"
ROUNDS, PER_ROUND = 200, 50


async def hello(request):
    return PlainTextResponse("hello")


def apps():
    bare = Starlette(routes=[Route("/", hello)])
    protected = RavenMiddleware(Starlette(routes=[Route("/", hello)]), secret_key="bench",
                                origin=BASE, wls="http://127.0.0.1:5001")
    client = TestClient(protected, base_url=BASE)
    login(client, BASE + "/")
    cookie = client.cookies.get("raven")
    return bare, protected, cookie


def scope(cookie: str | None):
    headers = [(b"host", b"www.example.cam.ac.uk")]
    if cookie is not None:
        headers.append((b"cookie", f"raven={cookie}".encode()))
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": "GET", "scheme": "https", "path": "/", "raw_path": b"/",
            "query_string": b"", "root_path": "", "headers": headers,
            "client": ("127.0.0.1", 5000), "server": ("www.example.cam.ac.uk", 443)}


async def run(app, cookie, n: int) -> float:
    statuses = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    start = time.perf_counter()
    for _ in range(n):
        await app(scope(cookie), receive, send)
    elapsed = time.perf_counter() - start
    assert statuses == [200] * n, statuses[:3]
    return elapsed


async def main() -> None:
    bare, protected, cookie = apps()
    await run(bare, None, PER_ROUND)  # warm up
    await run(protected, cookie, PER_ROUND)
    ratios, bare_times, raven_times = [], [], []
    for i in range(ROUNDS):
        if i % 2:
            b = await run(bare, None, PER_ROUND)
            r = await run(protected, cookie, PER_ROUND)
        else:
            r = await run(protected, cookie, PER_ROUND)
            b = await run(bare, None, PER_ROUND)
        ratios.append(r / b)
        bare_times.append(b / PER_ROUND)
        raven_times.append(r / PER_ROUND)
    q = statistics.quantiles(ratios, n=4)
    print(f"authenticated request via RavenMiddleware vs bare Starlette route, "
          f"{ROUNDS} rounds x {PER_ROUND} requests")
    print(f"  bare:      median {statistics.median(bare_times) * 1e6:.1f} us/request")
    print(f"  protected: median {statistics.median(raven_times) * 1e6:.1f} us/request")
    print(f"  ratio protected/bare: median {statistics.median(ratios):.2f} "
          f"(quartiles {q[0]:.2f}-{q[2]:.2f}, min {min(ratios):.2f}, max {max(ratios):.2f})")


if __name__ == "__main__":
    asyncio.run(main())
