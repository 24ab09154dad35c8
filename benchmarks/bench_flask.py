"""An already-authenticated request to the same trivial view: bare, behind
python-raven's AuthDecorator, and behind Flask-Login's login_required.

Each app gets the session cookie its own login would have set; requests
go straight to the WSGI callable (no test client, no network), and the
three are timed interleaved in one process so machine noise hits them
alike. Goal: python-raven's added cost (ours - bare) no larger than
Flask-Login's (theirs - bare).

    python benchmarks/bench_flask.py
"""

from __future__ import annotations

import timeit
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

from flask import Flask
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user
from werkzeug.test import EnvironBuilder

from raven.flask_glue import AuthDecorator
from raven.testing import make_response

BASE = "https://www.example.cam.ac.uk"
# Flask-Login's session protection ties the session to the user agent and
# address: the timed requests come from the same ones as the login.
HEADERS = {"User-Agent": "bench/1.0"}
ROUNDS = 15
NUMBER = 2000


def new_app() -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="bench", TRUSTED_HOSTS=["www.example.cam.ac.uk"])
    return app


def bare_app() -> tuple[Flask, str | None]:
    app = new_app()

    @app.route("/")
    def view() -> str:
        return "You are test0001"

    return app, None


def bare_session_app(cookie: str | None) -> tuple[Flask, str | None]:
    """Reference: no auth, but the view reads flask.session (python-raven's
    cookie), to show how much of any added cost is Flask's own session."""
    from flask import session

    app = new_app()

    @app.route("/")
    def view() -> str:
        session.get("_raven")
        return "You are test0001"

    return app, cookie


def raven_app() -> tuple[Flask, str | None]:
    import logging

    logging.getLogger("raven").setLevel(logging.ERROR)  # the demo-key notice
    app = new_app()
    app.config["RAVEN_WLS"] = "http://127.0.0.1:5001"
    auth = AuthDecorator()

    @app.route("/")
    @auth
    def view() -> str:
        return "You are " + auth.principal

    client = app.test_client()
    query = parse_qs(urlsplit(client.get("/", base_url=BASE).location).query)
    url, params = query["url"][0], query["params"][0]
    response = make_response(url, params=params)
    client.get(url, query_string={"WLS-Response": response}, base_url=BASE)
    return app, client.get_cookie("session", domain="www.example.cam.ac.uk").value


def flask_login_app() -> tuple[Flask, str | None]:
    app = new_app()
    manager = LoginManager(app)

    class User(UserMixin):
        def __init__(self, user_id: str) -> None:
            self.id = user_id

    users = {"test0001": User("test0001")}
    manager.user_loader(users.get)

    @app.route("/")
    @login_required
    def view() -> str:
        return "You are " + current_user.id

    @app.route("/login")
    def login() -> str:
        login_user(users["test0001"])
        return "ok"

    client = app.test_client()
    client.get("/login", base_url=BASE, headers=HEADERS)
    return app, client.get_cookie("session", domain="www.example.cam.ac.uk").value


def request_maker(app: Flask, cookie: str | None) -> Callable[[], None]:
    headers = {**HEADERS, "Cookie": f"session={cookie}"} if cookie else HEADERS
    environ = EnvironBuilder(
        path="/", base_url=BASE, headers=headers, environ_base={"REMOTE_ADDR": "127.0.0.1"}
    ).get_environ()
    seen: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info=None) -> None:
        seen.append(status)
        if any(name == "Set-Cookie" for name, _ in headers):
            seen.append("Set-Cookie")

    def one_request() -> None:
        body = app(dict(environ), start_response)
        b"".join(body)
        body.close()  # type: ignore[attr-defined]

    one_request()  # check the request is what we mean to measure
    assert seen == ["200 OK"], seen
    assert b"".join(app(dict(environ), start_response)) == b"You are test0001"
    seen.clear()
    return one_request


def main() -> None:
    raven, cookie = raven_app()
    candidates = {
        "bare": request_maker(*bare_app()),
        "python-raven": request_maker(raven, cookie),
        "flask-login": request_maker(*flask_login_app()),
        "bare+session": request_maker(*bare_session_app(cookie)),
    }
    best = dict.fromkeys(candidates, float("inf"))
    for _ in range(ROUNDS):
        for name, fn in candidates.items():
            best[name] = min(best[name], timeit.timeit(fn, number=NUMBER) / NUMBER)
    bare = best["bare"]
    for name, seconds in best.items():
        extra = "" if name == "bare" else (
            f"  ratio to bare {seconds / bare:.2f}x, added {(seconds - bare) * 1e6:5.1f} µs"
        )
        print(f"{name:>13}: {seconds * 1e6:6.1f} µs per request{extra}")
    ours, theirs = best["python-raven"] - bare, best["flask-login"] - bare
    print(f"added cost python-raven / flask-login: {ours / theirs:.2f} (goal <= 1.00)")
    glue = best["python-raven"] - best["bare+session"]
    print(f"of python-raven's added cost, {glue * 1e6:.1f} µs is the glue; the rest is "
          "Flask opening and saving its session (bare+session)")


if __name__ == "__main__":
    main()
