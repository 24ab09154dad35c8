"""Fixtures for the demo application, driven through Flask's test client.

Every URL is absolute, on http://127.0.0.1:5000: the demo answers to that
host only, as ``raven demo`` runs it.
"""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
from tests.browsing import TestBrowser, query_of

from raven.demo import create_app

BASE = "http://127.0.0.1:5000"
WLS = "http://127.0.0.1:5001"


class Visitor(TestBrowser):
    """The shared test-client browser, knowing the demo's pages and forms."""

    base = BASE
    wls = WLS

    def __init__(self, app) -> None:
        super().__init__(app, BASE)

    def post(self, path: str, data: dict[str, str] | None = None, *, csrf: bool = True,
             **kwargs: Any):
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf", self.csrf_token())
        return super().post(path, data=data, **kwargs)

    def csrf_token(self) -> str:
        html = self.get("/logout").get_data(as_text=True)
        return re.search(r'name="csrf" value="([^"]+)"', html).group(1)

    def login(self, path: str = "/protected", *principal: Any, **fields: Any):
        """Through the app's real flow, with a genuinely signed response
        (for test0001 with ptag current unless told otherwise)."""
        return super().login(path, *principal, **fields)

    def start(self, path: str) -> dict[str, str]:
        """Visit a page that sends us to the WLS; the request it carries."""
        r = self.get(path)
        assert r.status_code == 303, r.get_data(as_text=True)[:500]
        assert r.location.startswith(self.wls + "/auth/authenticate.html?")
        return query_of(r.location)


def text(response) -> str:
    """The visible text of a page: tags removed, entities decoded, spaces squeezed."""
    html = re.sub(r"<style>.*?</style>", " ", response.get_data(as_text=True), flags=re.S)
    html = re.sub(r"</?(?:strong|code|em|a|span|q)\b[^>]*>", "", html)  # inline: no gap
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def flashes(response) -> list[str]:
    """The flashed messages a page shows, as (category, text)."""
    html = response.get_data(as_text=True)
    block = re.search(r'<ul class="flashes".*?</ul>', html, re.S)
    if not block:
        return []
    return [
        (category, re.sub(r"\s+", " ", unescape(message)).strip())
        for category, message in re.findall(
            r'<li class="flash-(\w+)"><strong class="flash-kind">[^<]*</strong> '
            r'<span class="flash-text">(.*?)</span></li>', block.group(0), re.S
        )
    ]


def flash_lines(response) -> list[str]:
    """The flashed messages as a person reads them: the kind in words, then the text."""
    html = response.get_data(as_text=True)
    block = re.search(r'<ul class="flashes".*?</ul>', html, re.S)
    items = re.findall(r"<li\b[^>]*>(.*?)</li>", block.group(0), re.S) if block else []
    return [re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", "", item))).strip() for item in items]


def make_demo(**config: Any):
    return create_app({"TESTING": True, "RAVEN_WLS": WLS, **config})


@pytest.fixture
def app():
    return make_demo()


@pytest.fixture
def visitor(app) -> Visitor:
    return Visitor(app)


@pytest.fixture
def visitor_for():
    """A visitor for a demo with other settings: ``visitor_for(RAVEN_WLS="demo")``."""
    return lambda **config: Visitor(make_demo(**config))


@pytest.fixture
def page():
    """Helpers that read pages: ``page.text(r)``, ``page.flashes(r)``."""

    class Page:
        pass

    Page.text = staticmethod(text)
    Page.flashes = staticmethod(flashes)
    Page.flash_lines = staticmethod(flash_lines)
    return Page
