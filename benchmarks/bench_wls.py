"""Completed logins per second against the test WLS, served on loopback.

A login is the form POST with a good password answered by a 303 carrying
a signed response. Side by side, in interleaved rounds on the same server
and connection pool: a plain page (the floor of HTTP plus Flask) and a
single-sign-on answer (the same work minus the password and new session).
Bounded in requests and seconds; it stops by itself.

    python benchmarks/bench_wls.py
"""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, urlsplit

import requests

import raven
import raven.demoserver
from raven.wls import AUTHENTICATE_PATH, create_app
from raven.wls.server import serve

RETURN_URL = "http://127.0.0.1:9/members/?page=1"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
ROUNDS = 5
PER_ROUND = 300  # requests at most, per kind and round
ROUND_SECONDS = 1.0  # … and at most this long
DEADLINE_SECONDS = 30.0  # the whole run, whatever the machine


def main() -> None:
    started = time.monotonic()
    with serve(create_app()) as base, requests.Session() as http:
        auth = base + AUTHENTICATE_PATH
        sso_query = {"ver": "3", "url": RETURN_URL, "params": "state"}
        # The form's anti-forgery token, read once as a browser would (it lasts
        # as long as the WLS's cookie).
        token = _TOKEN.search(http.get(auth, params=sso_query).text).group(1)
        form = {"ver": "3", "url": RETURN_URL, "params": "state", "userid": "test0001",
                "pwd": "test", "csrf_token": token}

        def page() -> requests.Response:
            return http.get(base + "/", allow_redirects=False)

        def login() -> requests.Response:
            return http.post(auth, data=form, allow_redirects=False)

        def sso() -> requests.Response:
            return http.get(auth, params=sso_query, allow_redirects=False)

        # Each kind must really do its job before it is timed.
        assert page().status_code == 200
        for fn, expect_auth in ((login, "pwd"), (sso, None)):
            r = fn()
            assert r.status_code == 303, r.status_code
            string = parse_qs(urlsplit(r.headers["Location"]).query)["WLS-Response"][0]
            resp = raven.validate_response(
                string, RETURN_URL, response_class=raven.demoserver.Response
            )
            assert resp.principal == "test0001" and resp.auth == expect_auth

        kinds = {"page": (page, 200), "login": (login, 303), "sso": (sso, 303)}
        best = dict.fromkeys(kinds, 0.0)
        total = dict.fromkeys(kinds, 0)
        for _ in range(ROUNDS):
            if time.monotonic() - started > DEADLINE_SECONDS:
                break
            for name, (fn, status) in kinds.items():
                count, t0 = 0, time.perf_counter()
                end = t0 + ROUND_SECONDS
                while count < PER_ROUND and time.perf_counter() < end:
                    if fn().status_code != status:
                        raise SystemExit(f"{name}: unexpected status")
                    count += 1
                rate = count / (time.perf_counter() - t0)
                best[name] = max(best[name], rate)
                total[name] += count

    print(f"test WLS on loopback, best of {ROUNDS} rounds "
          f"({sum(total.values())} requests in {time.monotonic() - started:.1f} s)")
    print(f"  completed logins (POST -> signed 303): {best['login']:7.0f} per second")
    print(f"  single sign-on (GET -> signed 303):    {best['sso']:7.0f} per second")
    print(f"  plain page (GET /, the floor):         {best['page']:7.0f} per second")
    print(f"ratio login / plain page: {best['login'] / best['page']:.2f}  "
          f"(the rest is the password check, the session cookie and the RSA signature)")


if __name__ == "__main__":
    main()
