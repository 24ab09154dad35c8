"""The response inspector: arriving with a response, or pasting one."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from urllib.parse import urlencode

import pytest

from raven.response import utcnow
from raven.testing import make_response

HERE = "http://127.0.0.1:5000/inspect"


def checks(r) -> dict[str, str]:
    """check name -> state, as the page shows them."""
    table = re.search(r'<table id="checks">(.*?)</table>', r.get_data(as_text=True), re.S)
    return {
        name: state for name, state in re.findall(
            r"<th><code>([^<]+)</code></th>\s*<td[^>]*>([^<]+)</td>", table.group(1)
        )
    }


def fields(r) -> dict[str, tuple[str, str]]:
    table = re.search(r'<table id="fields"[^>]*>(.*?)</table>', r.get_data(as_text=True), re.S)
    rows = re.findall(r'<th>([^<]+)</th><td class="raw">(.*?)</td><td>(.*?)</td>',
                      table.group(1), re.S)
    return {name: (unescape(re.sub(r"<[^>]+>", "", raw)), unescape(re.sub(r"<[^>]+>", "", m)))
            for name, raw, m in rows}


def unverified_warning(r) -> str | None:
    found = re.search(r'<p class="failed" id="unverified">(.*?)</p>', r.text, re.S)
    return None if found is None else " ".join(unescape(found.group(1)).split())


def verdict(r) -> str:
    return unescape(re.search(r'<p id="verdict"[^>]*>(.*?)</p>', r.text, re.S).group(1))


def paste(visitor, response: str, **form):
    return visitor.client.post(HERE, data={"response": response, **form})


def test_the_empty_inspector_is_a_form(visitor, page):
    r = visitor.get("/inspect")
    assert r.status_code == 200
    assert 'id="verdict"' not in r.text and "<textarea" in r.text


def test_arriving_from_the_wls_checks_the_url_it_arrived_at(visitor):
    r = visitor.get("/inspect?" + urlencode(
        {"WLS-Response": make_response(HERE, life=600, params="tok")}))
    assert r.status_code == 200
    assert verdict(r).startswith("Valid: a login of test0001 (ptags: current).")
    assert checks(r) == {"format": "passed", "kid": "passed", "signature": "passed",
                         "url": "passed", "issue": "passed", "iact/aauth": "passed",
                         "params": "not checked"}
    f = fields(r)
    assert list(f) == ["ver", "status", "msg", "issue", "id", "url", "principal", "ptags",
                       "auth", "sso", "life", "params", "kid", "sig"]
    assert f["status"] == ("200", "Successful authentication")
    assert f["life"] == ("600", "10 min left of the user's session with the WLS")
    assert f["kid"][1] == "the published demo key: test only, proves nothing"
    assert "proves nothing about anyone" in r.text
    assert f'value="{HERE}"' in r.text  # the URL it checked against, for another try


def test_the_query_it_arrived_with_is_part_of_the_url(visitor):
    good = make_response(HERE + "?x=1")
    r = visitor.get("/inspect?x=1&" + urlencode({"WLS-Response": good}))
    assert checks(r)["url"] == "passed"
    r = visitor.get("/inspect?x=2&" + urlencode({"WLS-Response": good}))
    assert r.status_code == 400
    assert checks(r)["url"] == "failed"


def test_a_pasted_response_is_checked_against_what_you_give(visitor, page):
    response = make_response("http://app.example/", params="p1", sso={"pwd"})
    r = paste(visitor, response, url="http://app.example/", params="p1", iact="no",
              aauth="pwd")
    assert r.status_code == 200
    assert set(checks(r).values()) == {"passed"}
    r = paste(visitor, response, url="http://other.example/", params="p2", iact="yes")
    assert r.status_code == 400
    assert checks(r) | {} == {**checks(r), "url": "failed", "params": "failed",
                              "iact/aauth": "failed"}
    assert verdict(r) == "Not valid: failed url, params, iact/aauth."


def test_a_whole_url_can_be_pasted(visitor):
    url = "http://app.example/page?a=1&" + urlencode(
        {"WLS-Response": make_response("http://app.example/page?a=1")})
    r = paste(visitor, "  " + url + "\n")
    assert r.status_code == 200
    assert 'value="http://app.example/page?a=1"' in r.text


def test_live_trust_refuses_the_demo_key_and_says_how_to_see_more(visitor, page):
    r = paste(visitor, make_response(HERE), trust="live", url=HERE)
    assert r.status_code == 400
    assert checks(r)["kid"] == "failed"
    assert checks(r)["signature"] == "not checked"
    assert "kid 901 is the published demo key" in page.text(r)


def test_a_cancel_without_a_signature_is_valid_but_unsigned(visitor):
    r = paste(visitor, make_response(HERE, status=410, ver=1), url=HERE)
    assert r.status_code == 200
    assert verdict(r).startswith("Valid: the user cancelled the authentication request "
                                 "(status 410).")
    assert checks(r)["signature"] == "not checked"
    assert "ptags" not in fields(r)  # a version 1 response has none
    assert unverified_warning(r).startswith("The signature was not checked: nothing shows")
    assert fields(r)["status"][1].startswith("claimed: ")


def test_a_stale_response_fails_the_issue_check(visitor):
    old = utcnow() - timedelta(hours=2)
    r = paste(visitor, make_response(HERE, issue=old), url=HERE)
    assert r.status_code == 400
    assert checks(r)["issue"] == "failed"
    # 2 h and a second or so: the issue is cut to the second, and time passes
    assert re.search(r", 2 h (1 s )?ago$", fields(r)["issue"][1]), fields(r)["issue"][1]


def test_a_damaged_response_shows_its_parts_escaped(visitor):
    r = paste(visitor, '3!200!<script>alert("x")</script>!\x1b[31m')
    assert r.status_code == 400
    assert checks(r)["format"] == "failed"
    html = r.get_data(as_text=True)
    assert "<script>alert" not in html and "\x1b" not in html
    assert fields(r)["field 4"][0] == "\\x1b[31m"


def test_a_tampered_response_fails_the_signature(visitor):
    r = paste(visitor, make_response(HERE).replace("test0001", "test0002"), url=HERE)
    assert checks(r)["signature"] == "failed"
    assert fields(r)["principal"] == ("test0002", "claimed: who logged in")
    assert unverified_warning(r) == (
        "The signature did not verify: nothing shows that a WLS wrote these fields. They "
        "are only what the text claims; they say nothing about who logged in.")
    assert "<h2>Fields, unverified</h2>" in r.text


def test_a_verified_response_shows_its_fields_as_genuine(visitor):
    r = paste(visitor, make_response(HERE), url=HERE)
    assert r.status_code == 200
    assert unverified_warning(r) is None and "<h2>Fields</h2>" in r.text
    assert fields(r)["principal"] == ("test0001", "who logged in")


def test_a_verified_response_failing_a_later_check_keeps_its_fields_genuine(visitor):
    r = paste(visitor, make_response("http://elsewhere/"), url=HERE)
    assert r.status_code == 400 and checks(r)["url"] == "failed"
    assert unverified_warning(r) is None
    assert fields(r)["principal"] == ("test0001", "who logged in")


@pytest.mark.parametrize(("pasted", "error"), [
    ("", "Paste a WLS-Response to inspect."),
    ("   ", "Paste a WLS-Response to inspect."),
    ("http://h/?WLS-Response=a&WLS-Response=b",
     "The text should hold one non-empty WLS-Response, it holds 2."),
])
def test_a_form_without_a_response_comes_back_with_the_error_inline(visitor, pasted, error):
    r = paste(visitor, pasted, url="http://kept/", params="kept too")
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert re.search(r'<p class="failed" id="error" role="alert">(.*?)</p>', html).group(1) == (
        "Error: " + error)
    # The field is marked wrong and described by the message; the title says so first.
    assert re.search(r'<textarea id="response" [^>]*aria-invalid="true" aria-describedby="error"',
                     html)
    assert re.search(r"<title>Error: Response inspector", html)
    assert 'value="http://kept/"' in html and 'value="kept too"' in html
    assert unescape(re.search(r'<textarea [^>]*>(.*?)</textarea>', html, re.S).group(1)) == pasted
    assert 'id="verdict"' not in html


def test_the_page_names_no_command_line_flags(visitor):
    pasted = make_response(HERE)
    r = paste(visitor, pasted, trust="live")
    assert checks(r)["kid"] == "failed"
    notes = re.findall(r'<p class="note">(.*?)</p>', r.text, re.S)
    assert any("check the response as one from the demo server or a local test WLS to see "
               "the rest." in note for note in notes), notes
    main = r.text.split("<main>")[1].split("</main>")[0]
    # The response's own text is removed, since its signature may hold "--" by chance: the
    # signature whole and shortened first, then the other parts, longest first.
    signature = pasted.rsplit("!", 1)[1]
    parts = [signature[:n] for n in range(len(signature), 7, -1)]
    parts += sorted(re.split(r"[!&;/]", pasted), key=len, reverse=True)
    for part in parts:
        main = main.replace(part, "")
    assert "--" not in main


@pytest.mark.parametrize("form", [
    {"response": ""}, {"response": "   "}, {"response": "x", "trust": "nobody"},
    {"response": "x", "iact": "maybe"}, {"response": "http://h/?WLS-Response="},
    {"response": "http://h/?WLS-Response=a&WLS-Response=b"},
])
def test_unusable_forms_are_a_400(visitor, form):
    assert visitor.client.post(HERE, data=form).status_code == 400


def test_two_responses_in_the_address_are_a_400(visitor):
    assert visitor.get("/inspect?WLS-Response=a&WLS-Response=b").status_code == 400


def test_a_huge_paste_is_refused_before_reading(visitor):
    assert paste(visitor, "3!" * 50_000).status_code == 413


def test_a_long_but_acceptable_paste_is_explained_briefly(visitor, page):
    r = paste(visitor, "3!" + "x" * 20_000)
    assert r.status_code == 400
    assert "too long to be a response" in page.text(r)
