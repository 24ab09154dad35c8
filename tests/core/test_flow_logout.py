"""The core's rule for a logout request: a POST sent by a page of the site."""

from __future__ import annotations

import logging

import pytest

from raven.flow import Incoming, logout_refusal
from raven.settings import Settings

SITE = "https://www.example.cam.ac.uk"


@pytest.fixture
def settings() -> Settings:
    return Settings.from_config({}, {"wls": "http://127.0.0.1:5001", "origin": SITE})


def post(host: str = "www.example.cam.ac.uk", method: str = "POST") -> Incoming:
    return Incoming(method, "https", host, "/raven/logout", b"", "192.0.2.1")


def test_a_post_from_a_page_of_the_site_may_log_out(settings):
    assert logout_refusal(post(), settings, SITE, None) is None
    assert logout_refusal(post(), settings, None, SITE + "/members?x=1") is None
    assert logout_refusal(post(), settings, "HTTPS://WWW.example.cam.ac.uk:443", None) is None


@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT", "DELETE"])
def test_only_a_post_logs_out(settings, method):
    refusal = logout_refusal(post(method=method), settings, SITE, None)
    assert (refusal.status, refusal.check, refusal.headers) == (405, "logout method",
                                                                {"Allow": "POST"})
    assert refusal.log.level == logging.WARNING


@pytest.mark.parametrize(("origin", "referer"), [
    ("https://evil.example.com", None),
    ("https://evil.example.com", SITE + "/"),  # the Origin header decides
    ("null", SITE + "/"),  # a hidden origin is not this site
    (None, "https://evil.example.com/" + SITE),
    (None, "http://www.example.cam.ac.uk/"),  # another scheme is another origin
    (None, "https://www.example.cam.ac.uk:8443/"),
    (None, "https://user@www.example.cam.ac.uk/"),
    (None, "not a url"),
    (None, None),
    ("", ""),
])
def test_a_logout_from_elsewhere_is_refused(settings, origin, referer):
    refusal = logout_refusal(post(), settings, origin, referer)
    assert (refusal.status, refusal.check, refusal.page) == (403, "logout origin",
                                                             "logout_refused")
    assert refusal.log.level == logging.WARNING
    assert "logout" in refusal.log.message


def test_a_logout_to_a_host_not_allowed_is_refused(settings):
    refusal = logout_refusal(post(host="evil.example.com"), settings,
                             "https://evil.example.com", None)
    assert (refusal.status, refusal.check) == (400, "host")
