"""Guard item: a path escapes no protected prefix, however it is spelt.

Real servers (gunicorn and Werkzeug's for the WSGI middleware, uvicorn
for the ASGI one) pass paths on as the client wrote them: ``/admin/..``
reaches the router unfolded, and Werkzeug's and Starlette's routers match
it under ``/admin/<page>``. Each spelling below is sent raw, anonymous,
to each server: every one must go to the WLS, never to the page.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from guard_site import build_wsgi, starlette_site
from tests.servers import Process, Uvicorn, Werkzeug
from tests.servers import gunicorn as serve_wsgi

HERE = Path(__file__).resolve().parent
WLS = "http://127.0.0.1:5001"
SECRET = "guard test secret, not for real use"

#: Spellings that a router, a static file server or a file system may read
#: as a path under /admin, /staff or /reports.
ESCAPES = [
    "/admin/..", "/admin/%2e%2e", "/admin/%2E%2E", "/admin/.", "/admin/%2e",
    "/staff/../staff-only/x", "/staff/%2e%2e/staff-only/x", "/staff/./x",
    "/reports/../static", "/reports/%2e%2e/static/x", "/reports/..;/static/x",
    "/static/../admin/x", "/static/%2e%2e/admin/x", "/static/..%2fadmin/x",
    "/static/..%252fadmin/x", "/static/..;/admin/x", "/static/..\\admin/x",
    "//admin/x", "/./admin/x", "/ADMIN/x", "/Admin/x", "/admin./x", "/admin;a=b/x",
    "/admin%2fx", "/reports.", "/reports;jsessionid=1", "/static/x/../../reports",
]
#: What stays open: the exempt prefix and a page nobody protected.
OPEN = ["/static/x", "/static/a/b", "/public"]


@pytest.fixture(scope="module")
def gunicorn() -> Iterator[str]:
    def env(url: str) -> dict[str, str]:
        return {"RAVEN_WLS": WLS, "RAVEN_ORIGIN": url, "RAVEN_SECRET_KEY": SECRET}

    with Process(serve_wsgi("guard_site:wsgi_site", 2, "--chdir", str(HERE)), env=env) as server:
        yield server.url


@pytest.fixture(scope="module")
def werkzeug() -> Iterator[str]:
    with Werkzeug(lambda url: build_wsgi(wls=WLS, origin=url, secret_key=SECRET)) as server:
        yield server.url


@pytest.fixture(scope="module")
def uvicorn() -> Iterator[str]:
    with Uvicorn(lambda url: starlette_site(wls=WLS, origin=url, secret_key=SECRET)) as server:
        yield server.url


SERVERS = ["gunicorn", "werkzeug", "uvicorn"]


def raw_get(url: str, path: str) -> tuple[int, str, str]:
    """GET ``path`` exactly as written: no client-side folding or quoting."""
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.putrequest("GET", path, skip_accept_encoding=True)
        conn.endheaders()
        answer = conn.getresponse()
        return answer.status, answer.getheader("Location") or "", answer.read().decode()
    finally:
        conn.close()


@pytest.mark.parametrize("server", SERVERS)
@pytest.mark.parametrize("path", ESCAPES)
def test_no_spelling_escapes_a_protected_prefix(request, server, path):
    status, location, _ = raw_get(request.getfixturevalue(server), path)
    assert (status, location.split("?")[0]) == (303, WLS + "/auth/authenticate.html"), path


@pytest.mark.parametrize("server", SERVERS)
@pytest.mark.parametrize("path", OPEN)
def test_exempt_and_unprotected_paths_stay_open(request, server, path):
    status, _, body = raw_get(request.getfixturevalue(server), path)
    assert status == 200
    assert json.loads(body)["user"] is None


def test_the_routers_would_serve_an_escape():
    """The control: behind the guard's back, the routers do match the
    unfolded paths (so the test above is about something real)."""
    from guard_site import _ROUTES

    adapter = _ROUTES.bind("example")
    assert adapter.match("/admin/..")[0] == "admin"
    assert adapter.match("/staff/../staff-only/x")[0] == "staff"
    from starlette.routing import Match, Route

    route = Route("/admin/{page}", lambda r: None)
    assert route.matches({"type": "http", "path": "/admin/..", "method": "GET"})[0] == Match.FULL
