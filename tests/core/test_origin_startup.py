"""What start-up can know of an origin that cannot match how the site is
served (raven.origin.served_mismatches, the one rule every adapter
translates), and the first request that shows what start-up could not."""

from __future__ import annotations

import logging

import pytest

from raven import guard
from raven.flow import Incoming, Refuse, decide
from raven.origin import is_loopback, is_loopback_host, parse_origins, served_mismatches
from raven.services import DEMO
from raven.settings import Settings

SITE = "https://www.example.cam.ac.uk"


def kinds(found):
    return [m.kind for m in found]


@pytest.mark.parametrize(("origin", "loopback"), [
    ("http://127.0.0.1:8000", True), ("http://localhost:5000", True),
    ("http://app.localhost", True), ("http://[::1]:8000", True), ("http://127.8.0.1", True),
    ("http://www.example.cam.ac.uk", False), ("http://192.0.2.1:8000", False),
    ("http://[2001:db8::1]", False), ("http://localhost.example.com", False),
])
def test_which_origins_are_this_machine(origin, loopback):
    assert is_loopback(origin) is loopback


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.1.2.3", True), ("::1", True), ("[::1]", True),
    ("localhost", True), ("LOCALHOST", True),
    ("0.0.0.0", False), ("::", False), ("10.0.0.1", False), ("example.org", False),
    ("", False), ("127.0.0.1.example.org", False), ("localhost.", False),
    ("localhost.example", False), ("[127.0.0.1]", False), ("[::1", False), ("::1]", False),
    ("[[::1]]", False), ("[::1%lo]", False), ("\uff11\uff12\uff17.0.0.1", False),
])
def test_which_hosts_are_this_machine_for_certain(host, loopback):
    """One rule for the test servers' binding and Host checks, the demo's
    probe, and plain http to a WLS or an OpenID provider."""
    assert is_loopback_host(host) is loopback


def test_plain_http_on_a_host_others_reach_is_said():
    [found] = served_mismatches(parse_origins("http://www.example.cam.ac.uk"))
    assert found.kind == "plain http"
    assert "RAVEN_ORIGIN http://www.example.cam.ac.uk is plain http" in found.message
    assert found.hint.startswith("set RAVEN_ORIGIN = 'https://www.example.cam.ac.uk'")


@pytest.mark.parametrize("origins", [SITE, "http://127.0.0.1:8000", "http://localhost:5000"])
def test_https_and_this_machine_are_no_mismatch(origins):
    assert served_mismatches(parse_origins(origins)) == []


def test_a_development_server_at_another_origin_is_said():
    [found] = served_mismatches(parse_origins("http://localhost:5000"),
                                served="http://127.0.0.1:5000", served_by="flask run")
    assert found.kind == "served"
    assert found.message.startswith("flask run serves http://127.0.0.1:5000, which")
    assert found.hint.startswith("set RAVEN_ORIGIN = 'http://127.0.0.1:5000'")
    assert served_mismatches(parse_origins("http://127.0.0.1:5000"),
                             served="http://127.0.0.1:5000") == []


@pytest.mark.parametrize(("origins", "said"), [
    ("http://127.0.0.1:8000", []),  # any address: one of them, at the port
    ("http://localhost:8000", []),
    ("http://127.0.0.1:9000", ["served"]),  # no origin at that port
])
def test_a_server_on_every_address_needs_an_origin_at_its_port(origins, said):
    assert kinds(served_mismatches(parse_origins(origins), served="http://0.0.0.0:8000")) == said
    assert kinds(served_mismatches(parse_origins(origins), served="http://[::]:8000")) == said


def test_a_host_whitelist_that_refuses_the_origin_is_said():
    origins = parse_origins(f"{SITE} http://[::1]:8000")
    [found] = served_mismatches(origins, whitelist=["[::1]"], whitelist_name="TRUSTED_HOSTS")
    assert found.kind == "whitelist"
    assert f"RAVEN_ORIGIN {SITE} names a host that TRUSTED_HOSTS does not allow" in found.message
    assert found.hint == "add 'www.example.cam.ac.uk' to TRUSTED_HOSTS"
    for allowed in (["*"], [".example.cam.ac.uk", "::1"], ["WWW.example.cam.ac.uk.", "[::1]"]):
        assert served_mismatches(origins, whitelist=allowed, whitelist_name="X") == []


def test_absolute_urls_made_at_another_origin_are_said():
    [found] = served_mismatches(parse_origins(SITE), external="http://www.example.cam.ac.uk",
                                external_name="SERVER_NAME and PREFERRED_URL_SCHEME")
    assert found.kind == "external"
    assert "at http://www.example.cam.ac.uk, which is not one of its origins" in found.message
    assert served_mismatches(parse_origins(SITE), external=SITE, external_name="X") == []


def test_an_origin_with_the_sites_path_says_where_the_path_goes():
    with pytest.raises(ValueError, match="nothing after it") as raised:
        parse_origins(SITE + "/app/")
    assert "a site under the path '/app' still has the origin alone" in str(raised.value)
    with pytest.raises(ValueError) as raised:
        parse_origins(SITE + "?x")
    assert "under the path" not in str(raised.value)


def test_each_mismatch_is_said_once_with_its_rule_for_a_filter(caplog):
    caplog.set_level(logging.WARNING, logger="raven")
    found = served_mismatches(parse_origins("http://www.example.cam.ac.uk"))
    said: set[str] = set()
    guard.say_mismatches(found, said)
    guard.say_mismatches(found, said)
    [record] = caplog.records
    assert record.raven_mismatch == "plain http"
    assert "(hint: set RAVEN_ORIGIN = 'https://" in record.getMessage()


# --- what only a request shows -----------------------------------------------------------


def request(host, scheme="https"):
    return Incoming("GET", scheme, host, "/page", b"", "192.0.2.1")


@pytest.mark.parametrize(("given", "where"), [
    ({"origin": SITE}, f"{SITE} (RAVEN_ORIGIN)"),
    ({"origin": None}, "the hosts www.example.cam.ac.uk on their default ports"),
])
def test_the_first_request_at_another_address_says_how_it_was_reached(given, where):
    settings = Settings.from_config(None, {"wls": DEMO, **given},
                                    host_names=["www.example.cam.ac.uk"], warn=False)
    first = decide(request("localhost:8000", "http"), None, settings, 0, "t")
    again = decide(request("localhost:8000", "http"), None, settings, 0, "t")
    assert isinstance(first, Refuse) and isinstance(again, Refuse)
    assert first.log is not None and again.log is not None
    assert "reached at 'http://localhost:8000'" in first.log.message
    assert f"this site answers only at {where}" in first.log.message
    # once per process (these settings), then the usual one line a refusal
    assert again.log.message.startswith("refused a request (check host)")
    assert "reached at" not in again.log.message
    assert first.log.level == again.log.level == logging.WARNING
