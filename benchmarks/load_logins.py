"""Concurrent complete logins: the demo under gunicorn, through the local WLS.

Starts, on 127.0.0.1 only, the local test WLS and two separate instances of
the demo application under gunicorn (several worker processes each, one
shared secret), then runs many browsers at once. Each browser logs in as
its own test user, the whole way (protected page → WLS → password form →
signed response → back), checks that it sees exactly its own principal,
then shows its session cookie to the *other* instance, which must honour
it: sessions are signed cookies, so nothing lives in one process's memory.

Bounded in count and time; it stops its servers by itself.

    python benchmarks/load_logins.py                 # 400 logins, 16 at a time
    python benchmarks/load_logins.py --logins 2000 --concurrency 32
"""

from __future__ import annotations

import argparse
import html
import re
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from urllib.parse import urljoin

import requests

HOST = "127.0.0.1"
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
_PRINCIPAL = re.compile(r'<span id="principal">([^<]*)</span>')


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(app: str, workers: int, deadline: float, port: int = 0) -> Iterator[str]:
    """Serve a WSGI app spec with gunicorn on a loopback port (0: a free one)."""
    port = port or free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--threads", "2",
         "--bind", f"{HOST}:{port}", "--log-level", "warning", "--graceful-timeout", "3", app],
        stdout=subprocess.DEVNULL,
    )
    try:
        while True:
            try:
                socket.create_connection((HOST, port), timeout=0.2).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn did not start for {app}") from None
                time.sleep(0.1)
        yield f"http://{HOST}:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@dataclass
class Outcome:
    logins: int = 0  # complete, own principal seen, honoured by the other instance
    errors: list[str] = field(default_factory=list)


def one_login(user: str, app_a: str, app_b: str, timeout: float) -> str | None:
    """A whole login as ``user`` on instance A, then a look from instance B.

    Returns None on success, else what went wrong.
    """
    with requests.Session() as browser:
        def get(url: str, expect: int) -> requests.Response:
            r = browser.get(url, allow_redirects=False, timeout=timeout)
            if r.status_code != expect:
                raise AssertionError(f"GET {url.split('?')[0]} answered {r.status_code}")
            return r

        to_wls = get(app_a + "/protected", 303).headers["Location"]
        form = get(to_wls, 200).text
        fields = {name: html.unescape(value) for name, value in _HIDDEN.findall(form)}
        fields.update(userid=user, pwd="test")
        back = browser.post(to_wls.split("?")[0], data=fields, allow_redirects=False,
                            timeout=timeout)
        if back.status_code != 303 or "WLS-Response=" not in back.headers["Location"]:
            raise AssertionError(f"the WLS answered {back.status_code}")
        clean = get(back.headers["Location"], 303).headers["Location"]
        page = get(urljoin(app_a, clean), 200).text
        seen = _PRINCIPAL.findall(page)
        if seen != [user]:
            return f"{user} saw principal {seen} on instance A"
        other = get(app_b + "/protected", 200).text  # same cookie, other processes
        if _PRINCIPAL.findall(other) != [user]:
            return f"{user} was not recognised by instance B"
    return None


def run(logins: int = 400, concurrency: int = 16, workers: int = 3,
        time_limit: float = 120.0) -> tuple[Outcome, float]:
    """Run the load; returns the outcome and the seconds the logins took."""
    deadline = time.monotonic() + time_limit
    secret = secrets.token_hex(32)
    outcome = Outcome()
    with ExitStack() as stack:
        wls = stack.enter_context(gunicorn(
            f"raven.wls:create_app({{'SECRET_KEY': '{secrets.token_hex(32)}'}})",
            workers, deadline))
        port_a, port_b = free_port(), free_port()
        origins = f"http://{HOST}:{port_a} http://{HOST}:{port_b}"
        demo = (f"raven.demo:create_app({{'SECRET_KEY': '{secret}', 'RAVEN_WLS': '{wls}', "
                f"'RAVEN_ORIGIN': '{origins}'}})")
        app_a = stack.enter_context(gunicorn(demo, workers, deadline, port_a))
        app_b = stack.enter_context(gunicorn(demo, 1, deadline, port_b))
        users = [f"test{(i % 400) + 1:04d}" for i in range(logins)]  # all 'current'
        started = time.monotonic()
        with ThreadPoolExecutor(concurrency) as pool:
            def attempt(user: str) -> str | None:
                if time.monotonic() > deadline:
                    return "time limit reached before this login started"
                try:
                    return one_login(user, app_a, app_b, timeout=30)
                except (AssertionError, requests.RequestException) as exc:
                    return f"{user}: {exc}"

            for problem in pool.map(attempt, users):
                if problem is None:
                    outcome.logins += 1
                else:
                    outcome.errors.append(problem)
        elapsed = time.monotonic() - started
    return outcome, elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--logins", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--time-limit", type=float, default=120.0)
    args = parser.parse_args()
    outcome, elapsed = run(args.logins, args.concurrency, args.workers, args.time_limit)
    print(f"{outcome.logins} complete logins in {elapsed:.1f} s "
          f"({outcome.logins / elapsed:.1f} logins/s) with {args.concurrency} concurrent "
          f"browsers, {args.workers} gunicorn workers per instance")
    print(f"each saw exactly its own principal, and its session was honoured by the "
          f"second instance; errors: {len(outcome.errors)}")
    for problem in outcome.errors[:10]:
        print("  ", problem)
    return 1 if outcome.errors else 0


if __name__ == "__main__":
    sys.exit(main())
