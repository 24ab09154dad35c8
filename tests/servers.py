"""Real servers on 127.0.0.1 for the tests, each in a thread, on a free
port: ``build(url)`` makes the application once its own origin is known
(it is the site's RAVEN_ORIGIN)."""

from __future__ import annotations

import socket
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
