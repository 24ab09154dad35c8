"""The one seam through which the OpenID side talks to its provider.

The core never does I/O: when it needs the token endpoint or the key set
it describes the call as an :class:`HTTPRequest` and waits for an
:class:`HTTPResponse`. A synchronous adapter fills the seam with
:func:`urllib_fetch` (the standard library: no dependency to keep, TLS
verified, a timeout, a size limit, no redirect followed); the ASGI adapter
with :func:`async_fetch` (httpx2, the maintained successor of httpx, so
that no call blocks the event loop). A site may give its own
(``RAVEN_OIDC_FETCH``), synchronous, which the ASGI adapter then runs in a
worker thread.
"""

from __future__ import annotations

import http.client
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from ..origin import is_loopback_host

__all__ = ["MAX_BODY", "MAX_TIMEOUT", "MIN_TIMEOUT", "TIMEOUT", "Fetch", "HTTPRequest",
           "HTTPResponse", "async_fetch", "failed", "timed_fetch", "urllib_fetch"]

#: Seconds a back-channel call may take, in all: connecting, and reading the
#: whole answer (a provider sending it a byte at a time is cut off too).
TIMEOUT = 10.0
#: The bounds of a timeout chosen with :func:`timed_fetch`: never a hang,
#: never so short that a healthy provider cannot answer on a fast network.
MIN_TIMEOUT, MAX_TIMEOUT = 0.05, 60.0
#: Longest answer read from the provider.
MAX_BODY = 1024 * 1024


class HTTPRequest(NamedTuple):
    method: str
    url: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None
    #: What the call is for, for log lines: ``"token endpoint"`` or ``"jwks"``.
    purpose: str = ""


class HTTPResponse(NamedTuple):
    #: 0 when no answer came (``error`` says why).
    status: int
    body: bytes = b""
    content_type: str = ""
    error: str | None = None


#: The seam: a function making one call. It should not raise; if it does
#: (OSError, a timeout), the flow treats it as no answer.
Fetch = Callable[[HTTPRequest], HTTPResponse]


def failed(exc: BaseException) -> HTTPResponse:
    return HTTPResponse(0, error=f"{type(exc).__name__}: {str(exc)[:200]}")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # a back-channel answer is the answer: never followed elsewhere


class _Watchdog:
    """Ends a call at its deadline, whatever it is waiting for (the status
    line, a header, the body): a socket timeout bounds each read only, so a
    provider sending a byte at a time would hold the request far longer.
    At the deadline the connection's socket is shut, which wakes a read
    blocked in the calling thread."""

    def __init__(self, timeout: float) -> None:
        self.fired = False
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(timeout, self._fire)
        self._timer.daemon = True

    def __enter__(self) -> _Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sock = sock
            if self.fired:
                self._shut()

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            self._shut()

    def _shut(self) -> None:
        if self._sock is not None:
            try:
                self._sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed


class _Watched:
    """A connection whose socket, once connected (through any proxy, TLS
    set up), its call's watchdog may shut."""

    sock: socket.socket

    def __init__(self, *args: Any, watchdog: _Watchdog, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._watchdog = watchdog

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        self._watchdog.watch(self.sock)


class _WatchedHTTPConnection(_Watched, http.client.HTTPConnection):
    pass


class _WatchedHTTPSConnection(_Watched, http.client.HTTPSConnection):
    pass


class _WatchedHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req: Any) -> Any:
        return self.do_open(_WatchedHTTPConnection, req,  # type: ignore[arg-type]
                            watchdog=req.watchdog)


class _WatchedHTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req: Any) -> Any:
        return self.do_open(_WatchedHTTPSConnection, req,  # type: ignore[arg-type]
                            context=self._context,  # type: ignore[attr-defined]
                            watchdog=req.watchdog)


_OPENER = urllib.request.build_opener(_NoRedirect, _WatchedHTTPHandler, _WatchedHTTPSHandler)


def urllib_fetch(request: HTTPRequest, timeout: float = TIMEOUT) -> HTTPResponse:
    """Make the call with the standard library. https only, but for the
    loopback interface (a local test provider). Never raises."""
    refused = _checked_url(request.url)
    if refused is not None:
        return HTTPResponse(0, error=refused)
    call = urllib.request.Request(request.url, data=request.body, method=request.method,
                                  headers=dict(request.headers))
    with _Watchdog(timeout) as watchdog:
        call.watchdog = watchdog  # type: ignore[attr-defined]  # for the handlers
        try:
            with _OPENER.open(call, timeout=timeout) as answer:
                body = answer.read(MAX_BODY + 1)
                status, ctype = answer.status, answer.headers.get("Content-Type", "")
        except urllib.error.HTTPError as exc:
            try:
                body = exc.read(MAX_BODY + 1)
            except (OSError, http.client.HTTPException):
                body = b""
            status, ctype = exc.code, exc.headers.get("Content-Type", "") if exc.headers else ""
        except (OSError, ValueError, http.client.HTTPException) as exc:
            # URLError, timeouts, refused connections, an answer cut short
            return _late(timeout) if watchdog.fired else failed(exc)
    if watchdog.fired:
        return _late(timeout)
    if len(body) > MAX_BODY:
        return HTTPResponse(0, error=f"the answer is longer than {MAX_BODY} bytes")
    return HTTPResponse(status, body, ctype)


def _late(timeout: float) -> HTTPResponse:
    return HTTPResponse(0, error=f"TimeoutError: timed out (no whole answer in {timeout:g} s)")


def _checked_url(url: str) -> str | None:
    """Why ``url`` may not be called (https only, but for loopback), or None."""
    parts = urlsplit(url)
    loopback = is_loopback_host(parts.hostname or "")
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        return f"{url[:100]!r} is not an https URL"
    return None


async def async_fetch(request: HTTPRequest, timeout: float = TIMEOUT) -> HTTPResponse:
    """The call made without blocking an event loop, with httpx2 (the
    successor of httpx, in the ``entra`` extra): for the ASGI adapter.
    The same rules as :func:`urllib_fetch`; never raises."""
    import anyio  # httpx2's own dependency
    import httpx2  # outside the try: a missing part is an error, not a provider's silence

    refused = _checked_url(request.url)
    if refused is not None:
        return HTTPResponse(0, error=refused)
    try:
        with anyio.fail_after(timeout):  # the whole call, however slowly it is sent
            return await _async_call(httpx2, request, timeout)
    except TimeoutError:
        return _late(timeout)
    except Exception as exc:  # timeouts, refused connections, TLS: no answer
        return failed(exc)


async def _async_call(httpx2: Any, request: HTTPRequest, timeout: float) -> HTTPResponse:
    async with httpx2.AsyncClient(timeout=timeout, follow_redirects=False) as client:
        async with client.stream(request.method, request.url, content=request.body,
                                 headers=dict(request.headers)) as answer:
            body = b""
            async for chunk in answer.aiter_bytes():
                body += chunk
                if len(body) > MAX_BODY:
                    return HTTPResponse(0, error=f"the answer is longer than {MAX_BODY} bytes")
            return HTTPResponse(answer.status_code, body, answer.headers.get("Content-Type", ""))


def timed_fetch(timeout: float) -> Fetch:
    """:func:`urllib_fetch` with another timeout (seconds, between
    :data:`MIN_TIMEOUT` and :data:`MAX_TIMEOUT`), for ``RAVEN_OIDC_FETCH``:
    ``RAVEN_OIDC_FETCH = timed_fetch(3)``. Raises ValueError out of bounds."""
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not (
            MIN_TIMEOUT <= timeout <= MAX_TIMEOUT):
        raise ValueError(f"a back-channel timeout must be {MIN_TIMEOUT} to {MAX_TIMEOUT} "
                         f"seconds, not {timeout!r}")

    def fetch(request: HTTPRequest) -> HTTPResponse:
        return urllib_fetch(request, timeout=float(timeout))

    fetch.timeout = float(timeout)  # type: ignore[attr-defined]
    return fetch
