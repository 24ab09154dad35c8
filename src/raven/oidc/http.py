"""The one seam through which the OpenID side talks to its provider.

The core never does I/O: when it needs the token endpoint or the key set
it describes the call as an :class:`HTTPRequest` and waits for an
:class:`HTTPResponse`. A synchronous adapter fills the seam with
:func:`urllib_fetch` (the standard library, a timeout, a size limit); an
asynchronous one with its own client, in a few lines.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable
from typing import NamedTuple
from urllib.parse import urlsplit

__all__ = ["MAX_BODY", "TIMEOUT", "Fetch", "HTTPRequest", "HTTPResponse", "failed",
           "urllib_fetch"]

#: Seconds a back-channel call may take, connecting and reading each.
TIMEOUT = 10.0
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


_OPENER = urllib.request.build_opener(_NoRedirect)


def urllib_fetch(request: HTTPRequest, timeout: float = TIMEOUT) -> HTTPResponse:
    """Make the call with the standard library. https only, but for the
    loopback interface (a local test provider). Never raises."""
    parts = urlsplit(request.url)
    host = (parts.hostname or "").rstrip(".")
    loopback = host == "localhost" or host.startswith("127.") or host == "::1"
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        return HTTPResponse(0, error=f"{request.url[:100]!r} is not an https URL")
    call = urllib.request.Request(request.url, data=request.body, method=request.method,
                                  headers=dict(request.headers))
    try:
        with _OPENER.open(call, timeout=timeout) as answer:
            body = answer.read(MAX_BODY + 1)
            status, ctype = answer.status, answer.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        try:
            body = exc.read(MAX_BODY + 1)
        except OSError:
            body = b""
        status, ctype = exc.code, exc.headers.get("Content-Type", "") if exc.headers else ""
    except (OSError, ValueError) as exc:  # URLError, timeouts, refused connections
        return failed(exc)
    if len(body) > MAX_BODY:
        return HTTPResponse(0, error=f"the answer is longer than {MAX_BODY} bytes")
    return HTTPResponse(status, body, ctype)
