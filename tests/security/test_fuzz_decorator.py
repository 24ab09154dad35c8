"""Fuzzing the decorator's response handling: whatever arrives as
WLS-Response, the answer is a 400 page naming one of the checks the
parser makes, a WARNING naming it, and no login, unless it is the genuine
response to this browser's own request.

Every browser here has the session cookie its visit to the protected page
set, so a refusal is about the response itself, never the 403 a browser
refusing cookies is shown."""

import logging
import re
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import Browser, build_app

from raven.testing import make_response

APP, _ = build_app()
EXAMPLES = 1000
#: The checks made while parsing. Any change to a genuine response breaks
#: its signature, so none of the later checks (url, params...) is reached.
PARSE_CHECKS = {"format", "kid", "signature"}


def fresh_login():
    browser = Browser(APP)
    url, params, _ = browser.start("/")
    return browser, url, make_response(url, params=params)


def assert_refused_by_the_parser(browser, r, records, tokens):
    assert r.status_code == 400, r.status_code
    [check] = re.findall(rb"Check that failed: ([\w/]+)", r.data)
    check = check.decode()
    assert check in PARSE_CHECKS
    [line] = [rec for rec in records if rec.name == "raven" and rec.levelno == logging.WARNING]
    assert f"(check {check})" in line.getMessage()
    assert browser.state == {"tokens": tokens}  # no login, and the token is not spent


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(position=st.integers(min_value=0), replacement=st.characters(codec="utf-8"),
       cut=st.integers(0, 3))
def test_a_genuine_response_changed_anywhere_gives_no_login(position, replacement, cut):
    browser, url, genuine = fresh_login()
    tokens = browser.state["tokens"]
    at = position % len(genuine)
    changed = genuine[:at] + replacement + genuine[at + cut:]
    with _records() as records:
        r = browser.get(url + "?WLS-Response=" + quote(changed, safe=""))
    if changed == genuine:
        assert r.status_code == 303
        assert browser.state["principal"] == "test0001"
        return
    assert_refused_by_the_parser(browser, r, records, tokens)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=500) | st.binary(max_size=500).map(lambda b: b.decode("latin-1")))
def test_arbitrary_text_gives_no_login_and_no_500(value):
    browser, url, _ = fresh_login()
    tokens = browser.state["tokens"]
    with _records() as records:
        r = browser.get(url + "?WLS-Response=" + quote(value, safe=""))
    assert_refused_by_the_parser(browser, r, records, tokens)


class _records:
    """The log records made inside the block (caplog is per test, not per example)."""

    def __enter__(self):
        self.records = []
        self.handler = logging.Handler(logging.DEBUG)
        self.handler.emit = self.records.append
        logger = logging.getLogger("raven")
        self.old_level = logger.level
        logger.setLevel(logging.DEBUG)
        logger.addHandler(self.handler)
        return self.records

    def __exit__(self, *exc):
        logger = logging.getLogger("raven")
        logger.removeHandler(self.handler)
        logger.setLevel(self.old_level)
