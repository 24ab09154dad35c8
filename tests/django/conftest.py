"""Django, configured for the test project (raventest/) only when these
tests are collected, so the rest of the suite never needs it: no
DJANGO_SETTINGS_MODULE in the environment or the pytest configuration.
pytest-django's fixtures (client, settings, django_db) then work here."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # the test project's package, raventest

import django  # noqa: E402
from django.conf import settings  # noqa: E402

if not settings.configured:
    import raventest.settings as project  # noqa: E402

    values = {name: getattr(project, name) for name in dir(project) if name.isupper()}
    values["DATABASES"]["default"]["NAME"] = str(Path(tempfile.mkdtemp()) / "raventest.db")
    values["LOGGING_CONFIG"] = None  # leave logging (and pytest's capture) alone
    settings.configure(**values)
    django.setup()

from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.test import Client  # noqa: E402
from tests.browsing import logins_under_way  # noqa: E402

from raven.django import SESSION_KEY  # noqa: E402
from raven.flow import State  # noqa: E402
from raven.testing import login  # noqa: E402

BASE = "https://www.example.cam.ac.uk"  # RAVEN_ORIGIN of the project
HOST = "www.example.cam.ac.uk"
LOCAL_WLS = "http://127.0.0.1:5001"


class Browser:
    """A Django test client on the project's origin, that knows the
    Ucam-WebAuth round trip."""

    def __init__(self) -> None:
        self.client = Client(HTTP_HOST=HOST)

    def get(self, path: str, **extra: Any) -> Any:
        return self.open("GET", path, **extra)

    def open(self, method: str, path: str, **extra: Any) -> Any:
        if path.startswith(BASE):
            path = path[len(BASE):]
        return self.client.generic(method, path, secure=True, **extra)

    def start(self, path: str = "/protected/", **extra: Any) -> tuple[str, str, dict[str, str]]:
        """Visit a page that needs a login, following the site's own
        redirects; return (url, params, whole query) sent to the WLS."""
        r = self.get(path, **extra)
        for _ in range(3):
            assert r.status_code in (302, 303), r.content
            if {"ver", "url"} <= set(parse_qs(urlsplit(r["Location"]).query)):
                break
            r = self.get(r["Location"], **extra)
        assert r.status_code == 303, r.content
        query = {k: v[0] for k, v in parse_qs(urlsplit(r["Location"]).query).items()}
        return query["url"], query["params"], query

    def come_back(self, url: str, response: str, method: str = "GET", **extra: Any) -> Any:
        sep = "&" if "?" in url else "?"
        return self.open(method, url + sep + urlencode({"WLS-Response": response}), **extra)

    def login(self, path: str = "/protected/", *args: Any, **fields: Any) -> Any:
        return login(self.client, BASE + path, *args, **fields)

    def whoami(self) -> dict[str, Any]:
        return self.get("/", HTTP_ACCEPT="application/json").json()

    @property
    def session(self) -> Any:
        return self.client.session

    @property
    def state(self) -> dict[str, Any] | None:
        """Our stored state, flattened: the tokens of the logins under way
        (session and their own cookies) and the login's fields."""
        stored = self.client.session.get(SESSION_KEY)
        under_way = logins_under_way((m.key, m.value) for m in self.client.cookies.values())
        if stored is None and not under_way:
            return None
        state = State.load(stored)
        login = {} if state.login is None else state.login._asdict()
        return {"tokens": [*state.tokens, *under_way], **login}

    def with_session(self) -> str:
        """Give the browser a session (as any page that keeps one would):
        its key."""
        session = SessionStore()
        session["visited"] = True
        session.create()
        self.client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
        return session.session_key

    def forget_logins_under_way(self) -> None:
        for name in [k for k in self.client.cookies if "raven-login-" in k]:
            del self.client.cookies[name]

    def edit_state(self, **changes: Any) -> None:
        """Change the stored login's fields (as time passing would)."""
        session = self.client.session
        state = State.load(session[SESSION_KEY])
        assert state.login is not None, "not logged in"
        session[SESSION_KEY] = (
            state._replace(login=state.login._replace(**changes))
        ).dump()
        session.save()

    def logged_in(self) -> bool:
        return "_auth_user_id" in self.client.session


@pytest.fixture
def browser(db: None) -> Browser:
    return Browser()


@pytest.fixture
def browser_for(db: None) -> Callable[[], Browser]:
    return Browser

