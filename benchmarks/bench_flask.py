"""An already-authenticated request to the same trivial view: bare, behind
python-raven's AuthDecorator, and behind Flask-Login's login_required.

Each app gets the session cookie its own login would have set; requests
go straight to the WSGI callable (no test client, no network). The
contenders alternate in many short rounds and the figures are medians of
per-round ratios, so machine noise hits them alike. Goals: python-raven
within 1.05x of the same app with a bare Flask session (bare+session),
and below Flask-Login.

    python benchmarks/bench_flask.py
    python benchmarks/bench_flask.py --against 5fafd67   # also the first release
    python benchmarks/bench_flask.py --rounds 50         # a quicker look

``--against REV`` adds python-raven as it was at git revision REV, imported
under another name, so that today's glue is paired with it in one process:
ratios taken from two separate runs differ by a few per cent with nothing
but the process's memory layout.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import _pairing
from flask import Flask
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user
from werkzeug.test import EnvironBuilder

from raven.flask_glue import AuthDecorator
from raven.testing import make_response

BASE = "https://www.example.cam.ac.uk"
# Flask-Login's session protection ties the session to the user agent and
# address: the timed requests come from the same ones as the login.
HEADERS = {"User-Agent": "bench/1.0"}
ROUNDS = 200
NUMBER = 100


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


def bare_session_app(cookie: str | None, cache_control: bool = False
                     ) -> tuple[Flask, str | None]:
    """Reference: no auth, but the view reads flask.session (python-raven's
    cookie), to show how much of any added cost is Flask's own session;
    with ``cache_control``, it also marks its answer private, as ours are."""
    from flask import session

    app = new_app()

    @app.route("/")
    def view() -> Any:
        session.get("_raven")
        if cache_control:
            return "You are test0001", {"Cache-Control": "private"}
        return "You are test0001"

    return app, cookie


def floor_app(cookie: str | None) -> tuple[Flask, str | None]:
    """For scale: the least any such guard does, with no check at all. It
    reads its session entry, keeps the user for the view and marks the
    answer private, as python-raven does."""
    from flask import g, session

    app = new_app()

    def guard(view: Callable[[], str]) -> Callable[[], str]:
        def wrapper() -> str:
            g.user = session["_raven"]["l"][0]
            return view()
        return wrapper

    @app.after_request
    def private(response: Any) -> Any:
        if "user" in g:
            response.headers.add("Cache-Control", "private")
        return response

    @app.route("/")
    @guard
    def view() -> str:
        return "You are " + g.user

    return app, cookie


def raven_app(decorator: type = AuthDecorator, mint: Callable[..., str] = make_response
              ) -> tuple[Flask, str | None]:
    import logging

    logging.getLogger("raven").setLevel(logging.ERROR)  # the demo-key notice
    app = new_app()
    app.config["RAVEN_WLS"] = "http://127.0.0.1:5001"
    auth = decorator()

    @app.route("/")
    @auth
    def view() -> str:
        return "You are " + auth.principal

    client = app.test_client()
    query = parse_qs(urlsplit(client.get("/", base_url=BASE).location).query)
    url, params = query["url"][0], query["params"][0]
    response = mint(url, params=params)
    client.get(url, query_string={"WLS-Response": response}, base_url=BASE)
    return app, client.get_cookie("session", domain="www.example.cam.ac.uk").value


def raven_at(revision: str) -> tuple[Flask, str | None]:
    """The app of raven_app with python-raven as it was at ``revision``,
    imported as ``raven_then`` beside today's ``raven``."""
    glue = _pairing.raven_at(revision, "flask_glue")
    testing = _pairing.raven_at(revision, "testing")
    return raven_app(glue.AuthDecorator, testing.make_response)


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
    args = _pairing.arguments(__doc__, ROUNDS)
    against = args.against
    raven, cookie = raven_app()
    candidates = {
        "bare": request_maker(*bare_app()),
        "bare+session": request_maker(*bare_session_app(cookie)),
        "bare+session+cc": request_maker(*bare_session_app(cookie, cache_control=True)),
        "no-check guard": request_maker(*floor_app(cookie)),
        "python-raven": request_maker(raven, cookie),
        "flask-login": request_maker(*flask_login_app()),
    }
    comparisons = [("python-raven", "bare+session", "goal <= 1.05"),
                   ("python-raven", "bare+session+cc", "the same answer, for scale"),
                   ("python-raven", "flask-login", "lower is better"),
                   ("no-check guard", "bare+session", "for scale: a guard that checks nothing"),
                   ("flask-login", "bare+session", "for scale")]
    if against:
        candidates[f"@{against}"] = request_maker(*raven_at(against))
        comparisons.append(("python-raven", f"@{against}", "goal <= 1.00: no slower"))
    times = _pairing.paired_rounds(
        {name: _pairing.repeat(fn, NUMBER) for name, fn in candidates.items()},
        args.rounds, NUMBER)
    _pairing.report(times, comparisons, NUMBER)
    _pairing.added_cost(times, "python-raven", "flask-login", "bare")


if __name__ == "__main__":
    main()
