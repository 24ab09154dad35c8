"""The ASGI adapter's back channel: httpx2, asynchronous, with the same
rules as the standard library's (https but for loopback, a size limit, a
timeout, never a redirect followed, never an exception)."""

from __future__ import annotations

import asyncio
import time

from flask import Flask, redirect

from raven.oidc.http import MAX_BODY, HTTPRequest, async_fetch, urllib_fetch
from raven.wls.server import LiveServer


def _server() -> LiveServer:
    app = Flask(__name__)

    @app.get("/keys")
    def keys() -> dict[str, list[str]]:
        return {"keys": []}

    @app.get("/big")
    def big() -> bytes:
        return b"x" * (MAX_BODY + 10)

    @app.get("/slow")
    def slow() -> str:
        time.sleep(1.0)
        return "late"

    @app.get("/moved")
    def moved():  # type: ignore[no-untyped-def]
        return redirect("/keys")

    return LiveServer(app)


def test_async_fetch_answers_as_urllib_fetch_does():
    with _server() as server:
        for path in ("/keys", "/big", "/moved"):
            request = HTTPRequest("GET", server.url + path)
            sync, async_ = urllib_fetch(request), asyncio.run(async_fetch(request))
            assert (async_.status, async_.body, async_.error is None) == (
                sync.status, sync.body, sync.error is None), path
        assert asyncio.run(async_fetch(HTTPRequest("GET", server.url + "/keys"))).body == \
            b'{"keys":[]}\n'
        late = asyncio.run(async_fetch(HTTPRequest("GET", server.url + "/slow"), timeout=0.2))
        assert late.status == 0 and "Timeout" in (late.error or "")


def test_async_fetch_refuses_plain_http_off_loopback():
    answer = asyncio.run(async_fetch(HTTPRequest("GET", "http://login.example.com/keys")))
    assert answer.status == 0 and "not an https URL" in (answer.error or "")
