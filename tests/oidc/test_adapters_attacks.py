"""The relying party's attack list (tests/oidc/attacks.py) against each
adapter served for real: the WSGI middleware under Werkzeug's server, the
ASGI one under uvicorn, and the Flask glue; the provider is a real server
that carries out the attack. Each attack ends on our refusal page, with
its status and check, and one WARNING line naming the check; nobody is
logged in afterwards. (The journeys that need two browsers' logins, a
replayed return and a code from another session, are run at the flow
core's level in test_rp_attacks.py, and replay through each middleware
in test_adapters_entra.py.)"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from guard_site import build_wsgi, starlette_site
from tests.browsing import HTTPBrowser
from tests.servers import Uvicorn, Werkzeug, flask_members_site

from raven.oidc.testprovider import site_settings

from .attacks import ATTACKS, Attack, AttackProvider, served
from .test_adapters_entra import SECRET

LOGIN_ATTACKS = [a for a in ATTACKS if a.journey == "login"]


@pytest.fixture(scope="module")
def provider() -> Iterator[AttackProvider]:
    with served() as attackable:
        yield attackable


def _options(provider: AttackProvider, attack: Attack, origin: str) -> dict[str, Any]:
    chosen = {**site_settings(provider.url), **attack.settings()}
    return {**{k.removeprefix("RAVEN_").lower(): v for k, v in chosen.items()},
            "origin": origin}


def _wsgi(provider: AttackProvider, attack: Attack) -> Any:
    server = Werkzeug(lambda url: build_wsgi(secret_key=SECRET,
                                              **_options(provider, attack, url))).__enter__()
    return server.url, "/admin/page", server.__exit__


def _asgi(provider: AttackProvider, attack: Attack) -> Any:
    server = Uvicorn(lambda url: starlette_site(secret_key=SECRET,
                                                **_options(provider, attack, url))).__enter__()
    return server.url, "/admin/page", server.__exit__


def _flask(provider: AttackProvider, attack: Attack) -> Any:
    server = flask_members_site({**site_settings(provider.url), **attack.settings()})
    return server.url, "/members", server.stop


SITES = {"wsgi": _wsgi, "asgi": _asgi, "flask": _flask}


@pytest.mark.parametrize("adapter", SITES)
@pytest.mark.parametrize("attack", LOGIN_ATTACKS, ids=lambda a: a.id)
def test_each_attack_is_refused_by_every_adapter(provider, adapter, attack, caplog):
    url, page, stop = SITES[adapter](provider, attack)
    provider.attack = attack
    provider.forged.clear()
    try:
        browser = HTTPBrowser()
        form = browser.go(url + page)
        with caplog.at_level(logging.WARNING, logger="raven"):
            refused = browser.log_in(form, "test0001", "test")
        assert refused.status_code == attack.status
        assert f"Check that failed: {attack.check}" in refused.text
        named = [r for r in caplog.records
                 if r.name == "raven" and f"(check {attack.check})" in r.getMessage()]
        assert len(named) == 1 and named[0].levelno == logging.WARNING
        if attack.forge is not None:
            assert provider.forged.is_set()
        provider.attack = None  # nobody is logged in: the next visit goes to the provider
        again = browser.http.get(url + page, allow_redirects=False, timeout=10)
        assert again.status_code == 303 and again.headers["Location"].startswith(
            provider.url)
    finally:
        provider.attack = None
        stop()
