"""The local WLS under gunicorn with two workers: with one key from the
environment, every login form one worker signs, the other accepts; and
two tabs of one browser that load the login form at the same moment can
both log in with it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from urllib.parse import quote, urljoin

import pytest
from tests.browsing import Form, Hop, Jar, Tab, in_threads
from tests.servers import Process, gunicorn

RETURN = "http://127.0.0.1:9/page"
SECRET = "two workers, one key, for the test"


@pytest.fixture(scope="module")
def wls() -> Iterator[str]:
    with Process(gunicorn("raven.wls:create_app()"),
                 env=lambda url: {"RAVEN_WLS_SECRET_KEY": SECRET}) as server:
        yield server.url


def _asking(url: str) -> str:
    return f"{url}/auth/authenticate.html?ver=3&url={quote(RETURN, '')}"


def _post_form(tab: Tab, page_url: str, page: str) -> int:
    """Press the login form's button on ``page``: the WLS's answer's status
    (not followed: the return address is nowhere)."""
    form = Form(page)
    return tab.send("POST", urljoin(page_url, form.action or ""), form.login_fields()).status


def test_two_workers_sharing_a_key_accept_every_login(wls):
    """Form from one request, POST on a new connection (so either worker
    may answer either), each login in a new browser."""
    statuses = []
    for _ in range(30):
        tab = Tab(Jar())
        form = tab.send("GET", _asking(wls))
        statuses.append(_post_form(tab, form.url, form.body))
    assert statuses == [303] * 30


def test_two_tabs_loading_the_form_at_once_both_log_in(wls):
    """A fresh browser's two tabs ask for the login page at the same
    moment (two sites' logins, or two of one site's, started together):
    the login form in either tab works, one after the other."""
    refused = 0
    for _ in range(10):
        jar, barrier = Jar(), threading.Barrier(2, timeout=10)
        tabs = [Tab(jar, hold=lambda url: True, barrier=barrier) for _ in range(2)]
        forms = in_threads(*(lambda tab=tab: tab.send("GET", _asking(wls)) for tab in tabs))
        statuses = [_post_form(tab, form.url, form.body) if isinstance(form, Hop) else form
                    for tab, form in zip(tabs, forms, strict=True)]
        refused += statuses != [303, 303]
    assert refused == 0, f"one of the two forms was refused in {refused} of 10 trials"
