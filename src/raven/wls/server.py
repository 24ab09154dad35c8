"""Run any WSGI application as a real HTTP server on the loopback interface.

Tests, benchmarks and the command line need the same thing: a genuine
HTTP server (so that cookies, redirects and headers behave as they do in a
browser) that binds a free port, runs in the background and stops cleanly.

    with serve(app) as base_url:
        requests.get(base_url + "/")

:class:`LiveServer` is the same thing as an object, for fixtures that keep
a server across many tests.
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from ..origin import is_loopback_host

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

__all__ = ["LiveServer", "NotLoopbackError", "redact_responses", "serve"]

LOCALHOST = "127.0.0.1"
# A parameter in a logged URL. '?' ends a name too, so that "?a?WLS-Response=..."
# is caught: hiding more than needed costs nothing.
_PARAM_IN_URL = re.compile(r"([?&])([^&=\s?]*)=(\[not logged\]|[^&\s]*)")


def _is_response_name(name: str) -> bool:
    """Does ``name`` decode to ``WLS-Response``, however spelt (``WLS%2DResponse``,
    ``wls-response``, percent-encoded more than once)?"""
    for _ in range(5):
        decoded = unquote_plus(name)
        if decoded == name:
            break
        name = decoded
    return name.lower() == "wls-response"


def redact_responses(text: str) -> str:
    """``text`` (a URL or a log line) with every WLS-Response value replaced."""
    return _PARAM_IN_URL.sub(
        lambda m: f"{m[1]}{m[2]}=[not logged]" if _is_response_name(m[2]) else m[0], text
    )


class NotLoopbackError(ValueError):
    """Asked to listen where other machines could reach a test server."""


class _Handler(WSGIRequestHandler):
    """Keeps track of open connections so that ``stop`` can end them.

    Browsers open spare connections ahead of need; a thread waiting on one
    would otherwise outlive the server until the browser gave up on it.
    """

    live: LiveServer

    def setup(self) -> None:
        super().setup()
        self.live._opened(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.live._closed(self.connection)

    def make_environ(self) -> dict[str, Any]:
        environ = super().make_environ()
        environ["raven.listening_host"] = self.live.host  # see raven.wls.app
        return environ

    # A logged response could be replayed: keep it out of the log. The path is
    # redacted before Werkzeug decodes it for display, the line again after.

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if not self.live.quiet:
            if hasattr(self, "path"):
                self.path = redact_responses(self.path)
            super().log_request(code, size)

    def log(self, type: str, message: str, *args: object) -> None:
        super().log(type, "%s", redact_responses(message % args if args else message))


class LiveServer:
    """A threaded HTTP server for ``app``, bound as soon as it is made.

    Binding at once means a busy port fails here, with an ``OSError``, and
    ``port`` is known (port 0 picks a free one) before anything starts.
    ``start()`` serves in a background thread, ``serve_forever()`` in this
    one; ``stop()`` (or leaving the ``with`` block) stops accepting, lets
    answers being written finish, and ends connections still waiting for a
    request. Refuses a non-loopback ``host`` unless
    ``allow_non_loopback`` is given.
    """

    def __init__(
        self,
        app: WSGIApplication,
        host: str = LOCALHOST,
        port: int = 0,
        *,
        allow_non_loopback: bool = False,
        quiet: bool = True,
    ) -> None:
        if not allow_non_loopback and not is_loopback_host(host):
            raise NotLoopbackError(
                f"refusing to listen on {host}: a test server belongs on a loopback "
                "address such as 127.0.0.1"
            )
        self.quiet = quiet
        self._connections: dict[socket.socket, threading.Thread] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        # Bind ourselves: werkzeug's own binding exits the process on error.
        with socket.create_server((host.strip("[]"), port), family=family) as sock:
            handler = type("Handler", (_Handler,), {"live": self})
            self._server: BaseWSGIServer = make_server(
                host.strip("[]"), port, app, threaded=True,
                request_handler=handler, fd=sock.fileno(),
            )
        self.host = host.strip("[]")
        self.port: int = self._server.port

    @classmethod
    def of(cls, build: Callable[[str], WSGIApplication], *args: Any, **kwargs: Any) -> LiveServer:
        """A server for the app ``build(url)`` makes: for apps that must be
        told their own origin, known only once the port is bound."""
        apps: list[WSGIApplication] = []
        server = cls(lambda environ, start: apps[0](environ, start), *args, **kwargs)
        apps.append(build(server.url))
        return server

    @property
    def url(self) -> str:
        """The base URL, without a trailing slash, e.g. ``http://127.0.0.1:5001``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> LiveServer:
        if self._thread is not None:
            raise RuntimeError("the server is already running")
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
            name=f"LiveServer {self.url}", daemon=True,
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted (Ctrl+C) or stopped."""
        self._server.serve_forever(poll_interval=0.2)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop accepting, end idle connections, wait for the threads."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout)
            self._thread = None
        self._server.server_close()
        with self._lock:
            connections = list(self._connections.items())
        for conn, _ in connections:
            try:  # reading ends at once; an answer being written still goes out
                conn.shutdown(socket.SHUT_RD)
            except OSError:
                pass  # already closed by the client
        for _, thread in connections:
            if thread is not threading.current_thread():
                thread.join(timeout)

    def _opened(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections[conn] = threading.current_thread()

    def _closed(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections.pop(conn, None)

    def __enter__(self) -> LiveServer:
        return self.start() if self._thread is None else self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self._thread is not None else "stopped"
        return f"<LiveServer {self.url} {state}>"


@contextmanager
def serve(
    app: WSGIApplication,
    host: str = LOCALHOST,
    port: int = 0,
    *,
    allow_non_loopback: bool = False,
    quiet: bool = True,
) -> Iterator[str]:
    """Serve ``app`` in a background thread; yield its base URL."""
    with LiveServer(
        app, host, port, allow_non_loopback=allow_non_loopback, quiet=quiet
    ) as server:
        yield server.url
