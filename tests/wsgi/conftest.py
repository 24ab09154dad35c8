"""Fixtures for the WSGI middleware's tests (helpers in wsgi_kit)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from wsgi_kit import Visitor, build

from raven.wsgi import RavenMiddleware


@pytest.fixture
def middleware() -> RavenMiddleware:
    return build()


@pytest.fixture
def visitor(middleware: RavenMiddleware) -> Visitor:
    return Visitor(middleware)


@pytest.fixture
def visitor_for() -> Callable[[RavenMiddleware], Visitor]:
    return Visitor
