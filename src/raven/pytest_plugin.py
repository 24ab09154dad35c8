"""pytest fixtures for testing Raven-protected applications.

Installing ucam-raven registers this plugin (entry point ``pytest11``),
so the fixtures are there in any test suite with no import:

- ``raven_login(client, path="/", principal="test0001", ...)`` logs a
  Flask test client in through the application's real Raven flow and
  returns the last response (see :func:`raven.testing.login`);
- ``raven_response(url, principal, ...)`` mints a signed ``WLS-Response``
  string (see :func:`raven.testing.make_response`);
- ``raven_wls`` runs the local test WLS as a live HTTP server on a free
  loopback port for the whole session and gives its base URL, for tests
  that drive a real browser or HTTP client.

The helpers live in :mod:`raven.testing`, which does not need pytest; this
module only wraps them, so importing it costs a test run nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

import raven._check  # noqa: F401  (first: a clear error if 'raven' is another package)

from . import testing


@pytest.fixture
def raven_login() -> Callable[..., Any]:
    """Log a test client in: ``raven_login(client, "/", "abc123")``."""
    return testing.login


@pytest.fixture
def raven_response() -> Callable[..., str]:
    """Mint a genuinely signed response: ``raven_response(url, "abc123")``."""
    return testing.make_response


@pytest.fixture(scope="session")
def raven_wls() -> Iterator[str]:
    """The base URL of a local test WLS serving on 127.0.0.1 for the session.

    Point the application at it with ``RAVEN_WLS = raven_wls``; with the
    ``entra`` extra it also serves the local OpenID provider, for a site
    configured with ``raven.oidc.testprovider.site_settings(raven_wls)``.
    """
    try:  # Flask is only needed by tests that use it
        from .wls import create_app
        from .wls.server import LiveServer
    except ImportError as exc:
        from ._needs import missing_part, needs

        part = missing_part(exc)
        if part is None:
            raise
        pytest.fail(needs("the raven_wls fixture (the local test WLS)", part), pytrace=False)

    from .cli import with_local_provider

    app, _ = with_local_provider(create_app())  # Entra ID's shape too, with its extra
    with LiveServer(app) as server:
        yield server.url
