"""The local WLS under gunicorn with two workers: with one key from the
environment, every login form one worker signs, the other accepts."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from urllib.parse import quote

import requests
from tests.browsing import Form

RETURN = "http://127.0.0.1:9/page"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
         "--log-level", "warning", "raven.wls:create_app()"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while True:  # poll the port until gunicorn answers
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, f"http://127.0.0.1:{port}"
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("gunicorn did not start") from None
            time.sleep(0.05)


def _logins(url: str, count: int) -> list[int]:
    """The status of each login: form from one request, POST on a new
    connection (so either worker may answer either)."""
    statuses = []
    for _ in range(count):
        with requests.Session() as browser:
            form = browser.get(f"{url}/auth/authenticate.html?ver=3&url={quote(RETURN, '')}",
                               timeout=10)
            fields = Form(form.text).login_fields("test0001", "test")
            browser.headers["Connection"] = "close"
            done = browser.post(form.url, data=fields, allow_redirects=False, timeout=10)
            statuses.append(done.status_code)
    return statuses


def test_two_workers_sharing_a_key_accept_every_login():
    env = {**os.environ, "RAVEN_WLS_SECRET_KEY": "two workers, one key, for the test"}
    proc, url = _serve(env)
    try:
        statuses = _logins(url, 30)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert statuses == [303] * 30
