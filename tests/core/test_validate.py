from datetime import datetime, timedelta

import pytest

import raven
import raven.demoserver as demo
from raven.errors import AuthTypeError, IssueTimeError, URLMismatchError
from raven.testing import make_response

URL = "https://www.example.cam.ac.uk/members/?page=2"
NOW = datetime(2026, 11, 25, 12, 0, 0)


def validate(text, url=URL, **kw):
    kw.setdefault("now", NOW)
    return raven.validate_response(text, url, response_class=demo.Response, **kw)


def test_a_fresh_matching_response_passes_and_is_returned():
    r = validate(make_response(URL, issue=NOW - timedelta(seconds=2)))
    assert r.principal == "test0001"


def test_an_already_parsed_response_is_accepted():
    parsed = demo.Response(make_response(URL, issue=NOW))
    assert validate(parsed) is parsed


@pytest.mark.parametrize("offset, ok", [
    (-25, True), (-26, False), (-3600, False), (5, True), (6, False), (86400, False),
])
def test_issue_window_defaults_to_20s_timeout_and_5s_skew(offset, ok):
    text = make_response(URL, issue=NOW + timedelta(seconds=offset))
    if ok:
        validate(text)
    else:
        with pytest.raises(IssueTimeError):
            validate(text)


def test_issue_window_is_configurable():
    text = make_response(URL, issue=NOW - timedelta(seconds=100))
    validate(text, max_age=120, clock_skew=0)
    with pytest.raises(IssueTimeError, match="stale"):
        validate(text, max_age=60, clock_skew=0)


@pytest.mark.parametrize("url", [
    "https://www.example.cam.ac.uk/members/?page=3",
    "https://www.example.cam.ac.uk/members/",
    "https://evil.example.org/members/?page=2",
    "http://www.example.cam.ac.uk/members/?page=2",
])
def test_a_response_for_another_url_is_refused(url):
    with pytest.raises(URLMismatchError):
        validate(make_response(url, issue=NOW))


def test_version_1_cancel_loses_the_query_and_still_matches():
    cancel = make_response("https://www.example.cam.ac.uk/members/", status=410, ver=1, issue=NOW)
    r = validate(cancel)
    assert r.status == raven.STATUS_CANCELLED
    with pytest.raises(URLMismatchError):
        validate(cancel, url="https://www.example.cam.ac.uk/other/?page=2")


def test_version_3_query_must_match_exactly():
    with pytest.raises(URLMismatchError):
        validate(make_response("https://www.example.cam.ac.uk/members/", issue=NOW))


def test_iact_and_aauth_are_enforced_on_success():
    sso = make_response(URL, auth=None, sso={"pwd"}, issue=NOW)
    validate(sso)
    validate(sso, iact=False)
    with pytest.raises(AuthTypeError):
        validate(sso, iact=True)
    with pytest.raises(AuthTypeError):
        validate(make_response(URL, issue=NOW), aauth={"x-token"})


def test_errors_name_their_check():
    with pytest.raises(raven.ResponseError) as info:
        validate(make_response(URL, issue=NOW - timedelta(hours=1)))
    assert info.value.check == "issue"


def test_default_now_is_the_real_clock():
    raven.validate_response(make_response(URL), URL, response_class=demo.Response)


def test_an_unparseable_url_in_an_unsigned_v1_failure_is_a_url_mismatch():
    forged = make_response("http://[::1", status=410, ver=1, issue=NOW)
    with pytest.raises(URLMismatchError):
        validate(forged)
