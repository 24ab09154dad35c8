"""Fuzzing the decorator's response handling: whatever arrives as
WLS-Response, the answer is a 4xx page and no login, unless it is the
genuine response to this browser's own request."""

from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import Browser, build_app

from raven.testing import make_response

APP, _ = build_app()
EXAMPLES = 1000


def fresh_login():
    browser = Browser(APP)
    url, params, _ = browser.start("/")
    return browser, url, make_response(url, params=params)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(position=st.integers(min_value=0), replacement=st.characters(codec="utf-8"),
       cut=st.integers(0, 3))
def test_a_genuine_response_changed_anywhere_gives_no_login(position, replacement, cut):
    browser, url, genuine = fresh_login()
    at = position % len(genuine)
    changed = genuine[:at] + replacement + genuine[at + cut:]
    r = browser.get(url + "?WLS-Response=" + quote(changed, safe=""))
    if changed == genuine:
        assert r.status_code == 303
        return
    assert r.status_code in (400, 403), (changed, r.status_code)
    assert "principal" not in (browser.state or {})


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=500) | st.binary(max_size=500).map(lambda b: b.decode("latin-1")))
def test_arbitrary_text_gives_no_login_and_no_500(value):
    browser, url, _ = fresh_login()
    r = browser.get(url + "?WLS-Response=" + quote(value, safe=""))
    assert r.status_code in (400, 403)
    assert "principal" not in (browser.state or {})
