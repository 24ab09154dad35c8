"""The ASGI adapter's back channel: httpx2, asynchronous, with the same
rules as the standard library's (https but for loopback, a size limit, a
timeout, never a redirect followed, never an exception)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import pytest
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


def _dripping_server(at_once: bytes, dripped: bytes) -> tuple[str, threading.Thread]:
    """A raw server answering each of two connections with ``at_once``, then
    ``dripped`` a byte every 0.1 s: each read comes before a per-read
    timeout, the whole never does."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        with listener:
            listener.settimeout(10)
            for _ in range(2):
                connection, _ = listener.accept()
                with connection:
                    connection.recv(65536)
                    connection.sendall(at_once)
                    try:
                        for byte in dripped:
                            connection.sendall(bytes([byte]))
                            time.sleep(0.1)
                    except OSError:
                        pass  # the client gave up, as it should

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}/token", thread


STATUS = b"HTTP/1.1 200 OK\r\n"
HEAD = b"Content-Type: application/json\r\nContent-Length: 40\r\n\r\n"


@pytest.mark.parametrize(("what", "at_once", "dripped"), [
    ("the body", STATUS + HEAD, b" " * 40),
    ("a header", STATUS, b"X-Slow: " + b"x" * 32 + b"\r\n" + HEAD + b" " * 40),
])
def test_a_provider_sending_slowly_is_cut_off_at_the_timeout_in_all(what, at_once, dripped):
    url, thread = _dripping_server(at_once, dripped)  # 4 s or more in all, 0.1 s a read
    for fetch in (lambda r: urllib_fetch(r, timeout=0.5),
                  lambda r: asyncio.run(async_fetch(r, timeout=0.5))):
        started = time.monotonic()
        answer = fetch(HTTPRequest("POST", url, body=b"x"))
        took = time.monotonic() - started
        assert answer.status == 0 and "Timeout" in (answer.error or ""), (what, answer)
        assert took < 2.0, f"waited {took:.2f} s, {what} dripping, for a 0.5 s timeout"
    thread.join(10)
