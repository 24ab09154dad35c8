"""A logged-in request to a trivial protected Django view: python-raven
against django.contrib.auth alone.

One project, one session engine (signed cookies, so no session table is
read), one database (the user is loaded from it on every request, by
both). Two WSGI handlers are built from it: one with
``SessionMiddleware`` and ``AuthenticationMiddleware`` only, one with
python-raven's ``RavenMiddleware`` after them. Contenders:

- django-auth: ``@login_required`` logged in with ``login()``, on the
  handler without Raven's middleware;
- python-raven: ``@raven_login_required`` logged in through the WLS, on
  the handler with it (the guard a Raven site puts on a view);
- raven+login_required: Django's ``@login_required`` behind Raven's
  middleware, the same login (a site that keeps its decorators);
- for scale, django-auth given the session cookie of the Raven login, to
  show what the larger session alone costs.

Each view answers "You are <username>" from ``request.user``. Requests
go straight to the WSGI handler with a prepared environ (no test client,
no network). The contenders alternate in many short rounds and the
figures are medians of per-round ratios. Goal: python-raven no slower
than django-auth.

    python benchmarks/bench_django.py
    python benchmarks/bench_django.py --against HEAD~3   # also a past revision
    python benchmarks/bench_django.py --rounds 50        # a quicker look
"""

from __future__ import annotations

import logging
import sys
import types
from collections.abc import Callable
from io import BytesIO
from typing import Any

import _pairing
import django
from django.conf import settings

HOST = "www.example.cam.ac.uk"
BASE = f"https://{HOST}"
ROUNDS = 200
NUMBER = 50
BASE_MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
URLS = "bench_django_urls"


def configure(against: str | None) -> None:
    backends = ["raven.django.backends.RavenBackend", "django.contrib.auth.backends.ModelBackend"]
    if against:
        backends.append(f"{_pairing.THEN}.django.backends.RavenBackend")
    settings.configure(
        SECRET_KEY="bench: not a secret",
        DEBUG=False,
        ALLOWED_HOSTS=[HOST],
        INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes",
                        "django.contrib.sessions", "raven.django"],
        MIDDLEWARE=BASE_MIDDLEWARE,
        AUTHENTICATION_BACKENDS=backends,
        SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies",
        ROOT_URLCONF=URLS,
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
        USE_TZ=True,
        LOGGING_CONFIG=None,
        LOGIN_URL="/login/",
        RAVEN_WLS="http://127.0.0.1:5001",
        RAVEN_ORIGIN=BASE,
        SILENCED_SYSTEM_CHECKS=["raven.W007"],
    )
    django.setup()
    logging.getLogger("raven").setLevel(logging.ERROR)  # the demo-key notice
    from django.core.management import call_command

    call_command("migrate", verbosity=0, run_syncdb=True)


def urls(against: str | None) -> None:
    """The project's views, as the module ROOT_URLCONF names."""
    from django.contrib.auth.decorators import login_required
    from django.http import HttpRequest, HttpResponse
    from django.urls import path

    from raven.django import raven_login_required

    def whoami(request: HttpRequest) -> HttpResponse:
        return HttpResponse("You are " + request.user.get_username())

    module = types.ModuleType(URLS)
    module.urlpatterns = [  # type: ignore[attr-defined]
        path("django/", login_required(whoami)),
        path("raven/", raven_login_required(whoami)),
        path("raven-lr/", login_required(whoami)),
    ]
    if against:
        then = _pairing.raven_at(against, "django.decorators")
        module.urlpatterns.append(  # type: ignore[attr-defined]
            path("then/", then.raven_login_required(whoami)))
    sys.modules[URLS] = module


def handler(middleware: list[str]) -> Any:
    """A WSGI handler whose middleware chain is ``middleware`` (it is read
    once, when the handler is made)."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.test.utils import override_settings

    with override_settings(MIDDLEWARE=middleware):
        return WSGIHandler()


def with_raven(package: str = "raven") -> list[str]:
    return [*BASE_MIDDLEWARE, f"{package}.django.middleware.RavenMiddleware"]


def raven_cookie(middleware: list[str], path: str, login: Callable[..., Any]) -> str:
    """The session cookie of a login through the (local, signed-here) WLS."""
    from django.test import Client
    from django.test.utils import override_settings

    with override_settings(MIDDLEWARE=middleware):
        client = Client(HTTP_HOST=HOST)
        login(client, BASE + path)
        return client.cookies[settings.SESSION_COOKIE_NAME].value


def django_cookie() -> str:
    """The session cookie of ``django.contrib.auth.login()`` (force_login calls it)."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    user, _ = get_user_model()._default_manager.get_or_create(username="test0001")
    client = Client(HTTP_HOST=HOST)
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def request_maker(app: Any, path: str, cookie: str) -> Callable[[], None]:
    environ = {
        "REQUEST_METHOD": "GET", "SCRIPT_NAME": "", "PATH_INFO": path, "QUERY_STRING": "",
        "SERVER_NAME": HOST, "SERVER_PORT": "443", "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": HOST, "HTTP_COOKIE": f"{settings.SESSION_COOKIE_NAME}={cookie}",
        "REMOTE_ADDR": "127.0.0.1", "wsgi.url_scheme": "https", "wsgi.version": (1, 0),
        "wsgi.multithread": False, "wsgi.multiprocess": False, "wsgi.run_once": False,
        "wsgi.errors": sys.stderr,
    }
    seen: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info=None) -> None:
        seen.append(status)
        if any(name == "Set-Cookie" for name, _ in headers):
            seen.append("Set-Cookie")

    def one_request() -> bytes:
        body = app({**environ, "wsgi.input": BytesIO()}, start_response)
        try:
            return b"".join(body)
        finally:
            body.close()

    # Check that the request is what we mean to measure: let through, as
    # test0001, with nothing written back.
    assert one_request() == b"You are test0001", path
    assert seen == ["200 OK"], (path, seen)
    seen.clear()
    return one_request


def main() -> None:
    args = _pairing.arguments(__doc__, ROUNDS)
    against = args.against
    configure(against)
    urls(against)
    from raven.testing import login

    plain, raven = handler(BASE_MIDDLEWARE), handler(with_raven())
    cookie = raven_cookie(with_raven(), "/raven/", login)
    candidates = {
        "django-auth": request_maker(plain, "/django/", django_cookie()),
        "python-raven": request_maker(raven, "/raven/", cookie),
        "raven+login_required": request_maker(raven, "/raven-lr/", cookie),
        # For scale: Django alone reading the session a Raven login made
        # (the same user, and our state beside Django's own keys).
        "django-auth, raven session": request_maker(plain, "/django/", cookie),
    }
    comparisons = [("python-raven", "django-auth", "goal <= 1.00"),
                   ("raven+login_required", "django-auth", "goal <= 1.00"),
                   ("python-raven", "django-auth, raven session", "for scale: the same session"),
                   ("django-auth, raven session", "django-auth", "for scale: the session alone")]
    if against:
        then = with_raven(_pairing.THEN)
        then_login = _pairing.raven_at(against, "testing").login
        candidates[f"@{against}"] = request_maker(
            handler(then), "/then/", raven_cookie(then, "/then/", then_login))
        comparisons.append(("python-raven", f"@{against}", "goal <= 1.00: no slower"))
    times = _pairing.paired_rounds(
        {name: _pairing.repeat(fn, NUMBER) for name, fn in candidates.items()},
        args.rounds, NUMBER)
    _pairing.report(times, comparisons, NUMBER)


if __name__ == "__main__":
    main()
