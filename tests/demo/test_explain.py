"""raven.demo.explain: the words behind the inspector and ``raven decode``."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlencode

import pytest

from raven.explain import CHECKS, describe_fields, duration, explain, extract, visible
from raven.keys import DEMO_KEYS, LIVE_KEYS
from raven.testing import make_response

URL = "https://app.example/page"
NOW = datetime(2024, 5, 1, 12, 0, 0)


def states(result) -> dict[str, str]:
    return {c.name: c.state for c in result.checks}


def test_a_good_response_passes_every_check_it_can_make():
    r = make_response(URL, issue=NOW, params="t")
    result = explain(r, keys=DEMO_KEYS, url=URL, params="t", now=NOW + timedelta(seconds=3))
    assert result.valid and result.response.principal == "test0001"
    assert states(result) == dict.fromkeys(CHECKS, "passed")
    assert result.verdict == "Valid: a login of test0001 (ptags: current)."
    issue = next(c for c in result.checks if c.name == "issue")
    assert issue.detail == "issued 3 s ago (allowed: up to 25 s ago, 5 s ahead)"


def test_without_url_and_params_those_checks_are_skipped_not_failed():
    result = explain(make_response(URL, issue=NOW), keys=DEMO_KEYS, now=NOW)
    assert result.valid
    assert states(result)["url"] == states(result)["params"] == "not checked"
    assert result.verdict.endswith("Not checked: url, params.")


@pytest.mark.parametrize("kwargs, failed", [
    ({"url": "https://app.example/other"}, ["url"]),
    ({"params": "other"}, ["params"]),
    ({"iact": False}, ["iact/aauth"]),
    ({"aauth": ["x-other"]}, ["iact/aauth"]),
    ({"now": NOW + timedelta(seconds=26)}, ["issue"]),
    ({"now": NOW - timedelta(seconds=6)}, ["issue"]),
    ({"now": NOW + timedelta(seconds=100), "max_age": 200}, []),
    ({"url": "https://app.example/other", "params": "x"}, ["url", "params"]),
])
def test_every_application_check_is_reported_separately(kwargs, failed):
    kwargs = {"url": URL, "params": "t", "now": NOW, **kwargs}
    result = explain(make_response(URL, issue=NOW, params="t"), keys=DEMO_KEYS, **kwargs)
    assert [c.name for c in result.failed] == failed
    assert result.valid == (not failed)


def test_a_version_1_response_is_compared_without_its_query():
    response = make_response(URL, status=410, ver=1, issue=NOW)
    result = explain(response, keys=DEMO_KEYS, url=URL + "?x=1", now=NOW)
    assert result.valid
    assert "version 1" in next(c.detail for c in result.checks if c.name == "url")
    assert [f.name for f in result.fields] == [
        "ver", "status", "msg", "issue", "id", "url", "principal", "auth", "sso", "life",
        "params", "kid", "sig"]


def test_an_untrusted_key_stops_the_checks_and_hints_at_the_right_ones():
    result = explain(make_response(URL, issue=NOW), keys=LIVE_KEYS, url=URL, now=NOW)
    assert not result.valid and result.response is None
    assert states(result) == {"format": "passed", "kid": "failed",
                              **dict.fromkeys(list(CHECKS)[2:], "not checked")}
    assert any("published demo key" in n for n in result.notes)
    assert result.verdict == "Not valid: failed kid."


def test_a_bad_signature_fails_after_format_and_kid():
    forged = make_response(URL, issue=NOW).replace("test0001", "test0666")
    assert states(explain(forged, keys=DEMO_KEYS, now=NOW))["signature"] == "failed"
    assert states(explain(forged, keys=DEMO_KEYS, now=NOW))["kid"] == "passed"


def test_a_malformed_response_fails_format_with_the_cores_words():
    good = make_response(URL, issue=NOW)
    result = explain(good.replace("!200!", "!999!"), keys=DEMO_KEYS, now=NOW)
    (failed,) = result.failed
    assert failed.name == "format"
    assert failed.detail == "status 999 is not a status code of the protocol"
    assert next(f for f in result.fields if f.name == "status").meaning == (
        "not a status code of the protocol")


def test_fields_of_a_damaged_response_are_still_shown():
    fields = describe_fields("3!200!a!b", NOW)
    assert [f.name for f in fields] == ["field 1", "field 2", "field 3", "field 4"]
    assert "has 14 fields, this has 4" in fields[0].meaning
    assert describe_fields("x" * 20000, NOW)[0].meaning.endswith("too long to be a response")


def test_field_meanings():
    response = make_response(URL, issue=NOW - timedelta(seconds=90), life=3725, msg="50%!",
                             sso={"pwd"}, auth=None, params="p!q")
    fields = {f.name: f for f in describe_fields(response, NOW)}
    assert fields["issue"].meaning == "2024-05-01 11:58:30 UTC, 1 min 30 s ago"
    assert fields["life"].meaning == "1 h 2 min 5 s left of the user's session with the WLS"
    assert fields["msg"].raw == "50%25%21"
    assert fields["msg"].meaning == "the WLS's message: 50%!"
    assert fields["params"].meaning == "returned unchanged from the request: p!q"
    assert fields["auth"].meaning == "how they authenticated just now: not now (no password typed)"
    assert fields["kid"].meaning == "the published demo key: test only, proves nothing"


def test_visible_escapes_what_a_terminal_or_page_would_act_on():
    assert visible("a\x1b[31mb\u202ec\n") == "a\\x1b[31mb\\u202ec\\n"
    assert visible("café") == "café"
    assert visible("x" * 300, 10) == "x" * 10 + "..."


@pytest.mark.parametrize("seconds, words", [
    (0, "0 s"), (59, "59 s"), (60, "1 min"), (3600, "1 h"), (3725, "1 h 2 min 5 s"),
    (-90, "1 min 30 s"),
])
def test_duration(seconds, words):
    assert duration(seconds) == words


def test_extract_reads_the_forms_people_copy():
    response = make_response(URL + "?a=1&b=2", issue=NOW)
    assert extract(response) == (response, None)
    assert extract(f"  {response}\n") == (response, None)
    query = urlencode({"WLS-Response": response})
    assert extract(f"{URL}?a=1&{query}&b=2") == (response, URL + "?a=1&b=2")
    assert extract(f"{URL}?{query}#top") == (response, URL)
    assert extract(query) == (response, None)
    assert extract(f"/page?{query}") == (response, None)
    for bad in (f"{URL}?WLS-Response=", f"{URL}?{query}&{query}"):
        with pytest.raises(ValueError):
            extract(bad)
