"""Real servers on 127.0.0.1 for the tests, on a free port: in a thread,
where ``build(url)`` makes the application once its own origin is known
(it is the site's RAVEN_ORIGIN); or in a process of their own with
several workers (:class:`Process`, with :func:`gunicorn` or :func:`uvicorn`)."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any

from werkzeug.serving import make_server


class Uvicorn:
    """An ASGI app served by uvicorn on 127.0.0.1, on a free port, in a
    thread; ``build(url)`` makes the app once its own origin is known."""

    def __init__(self, build: Callable[[str], Any]) -> None:
        import uvicorn

        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"
        config = uvicorn.Config(build(self.url), log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run,
                                       kwargs={"sockets": [self.socket]}, daemon=True)

    def __enter__(self) -> Uvicorn:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:  # poll, with a deadline
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            self.thread.join(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.socket.close()




class Werkzeug:
    """A WSGI app served by Werkzeug's threaded server, as :class:`Uvicorn`."""

    def __init__(self, build: Callable[[str], Any]) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self.server = make_server("127.0.0.1", port, build(self.url), threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Werkzeug:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.thread.join(10)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Process:
    """A server in a process of its own (gunicorn or uvicorn, several
    workers) on 127.0.0.1 and a free port: ``command(port)`` is its argument
    list, ``env(url)`` what it adds to the environment (``url`` is the
    server's own origin, so a site's RAVEN_ORIGIN)."""

    def __init__(self, command: Callable[[int], list[str]],
                 env: Callable[[str], dict[str, str]] | None = None,
                 cwd: str | os.PathLike[str] | None = None, start_time: float = 30) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.command = command(self.port)
        self.env = {**os.environ, **(env(self.url) if env else {})}
        self.cwd = cwd
        self.start_time = start_time
        self.log = tempfile.TemporaryFile()  # a file: a full pipe would stall the server
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Process:
        self.proc = subprocess.Popen(self.command, env=self.env, cwd=self.cwd,
                                     stdout=subprocess.DEVNULL, stderr=self.log)
        deadline = time.monotonic() + self.start_time
        while True:  # until a worker answers, with a deadline
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            try:
                connection.request("HEAD", "/")
                connection.getresponse().close()
                return self
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.__exit__()
                    raise RuntimeError(f"{' '.join(self.command[2:4])} did not start: "
                                       + self.stderr()) from None
                time.sleep(0.05)
            finally:
                connection.close()

    def stderr(self) -> str:
        """What the server wrote on stderr so far."""
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def __exit__(self, *exc: object) -> None:
        assert self.proc is not None
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def gunicorn(app: str, workers: int = 2, *options: str) -> Callable[[int], list[str]]:
    """The command serving the WSGI ``app`` (a gunicorn spec) with ``workers``."""
    return lambda port: [sys.executable, "-m", "gunicorn", "--workers", str(workers),
                         "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
                         "--graceful-timeout", "2", *options, app]


def uvicorn(app: str, workers: int = 2, *options: str) -> Callable[[int], list[str]]:
    """The command serving the ASGI ``app`` (an import string) with ``workers``."""
    return lambda port: [sys.executable, "-m", "uvicorn", "--workers", str(workers),
                         "--host", "127.0.0.1", "--port", str(port),
                         "--log-level", "warning", "--no-access-log", *options, app]


def flask_members_site(config: dict[str, Any], decorator: Any = None,
                       greet: Callable[[Any], str] = lambda auth: "Hello " + auth.principal,
                       ) -> Any:
    """A Flask site whose /members needs a login, served for real on
    127.0.0.1 (a started LiveServer) and told its own origin."""
    from flask import Flask

    from raven.flask_glue import AuthDecorator
    from raven.wls.server import LiveServer

    app = Flask(__name__)
    app.config.update(SECRET_KEY="a flask test site", **config)
    auth = decorator or AuthDecorator(desc="A site")

    @app.route("/members")
    @auth
    def members() -> str:
        return greet(auth)

    def told_its_origin(url: str) -> Flask:
        app.config["RAVEN_ORIGIN"] = url
        return app

    return LiveServer.of(told_its_origin).start()
