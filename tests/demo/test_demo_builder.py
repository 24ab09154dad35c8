"""The request builder: form, URL, equivalent Python, and bad input."""

from __future__ import annotations

import contextlib
import io
import re
from html import unescape
from urllib.parse import urlencode

import pytest

import raven
import raven.demoserver


def build(visitor, **fields):
    return visitor.get("/builder?" + urlencode(fields))


def shown(r, element_id: str) -> str:
    html = r.get_data(as_text=True)
    return unescape(re.search(rf'<pre id="{element_id}">(.*?)</pre>', html, re.S).group(1))


def go_link(r) -> str:
    return unescape(re.search(r'<a class="button" id="go" href="([^"]+)"', r.text).group(1))


def run_python(code: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(code, {})
    return out.getvalue().strip()


def test_the_empty_form_defaults_to_the_local_wls_and_the_inspector(visitor, page):
    r = visitor.get("/builder")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert 'value="http://127.0.0.1:5000/inspect"' in html
    assert '<option value="local" selected>' in html
    assert 'id="request-url"' not in html


@pytest.mark.parametrize("wls, start", [
    ("local", "http://127.0.0.1:5001/auth/authenticate.html?"),
    ("demo", raven.demoserver.RAVEN_DEMO_AUTH + "?"),
    ("live", raven.RAVEN_AUTH + "?"),
])
def test_every_field_reaches_the_url_and_the_python_builds_the_same(visitor, wls, start):
    fields = dict(wls=wls, url="http://127.0.0.1:5000/inspect", desc="Café & co",
                  msg="to see the demo", params="abc 123", aauth="pwd", iact="yes",
                  fail="yes")
    r = build(visitor, **fields)
    assert r.status_code == 200
    url = shown(r, "request-url")
    assert url.startswith(start)
    assert go_link(r) == url
    expected = raven.Request(
        "http://127.0.0.1:5000/inspect", desc="Café & co", msg="to see the demo",
        params="abc 123", aauth={"pwd"}, iact=True, fail=True,
        wls_url=start[:-1],
    )
    assert url == str(expected)
    python = shown(r, "python")
    assert run_python(python).split("  #")[0] == url
    module = "raven" if wls == "live" else "raven.demoserver"
    assert f"request = {module}.Request(" in python
    assert ("wls_url=" in python) == (wls == "local")


def test_empty_fields_are_not_sent(visitor):
    r = build(visitor, wls="local", url="http://127.0.0.1:5000/x", desc="", iact="")
    assert shown(r, "request-url") == (
        "http://127.0.0.1:5001/auth/authenticate.html?ver=3&url=http%3A%2F%2F127.0.0.1%3A5000%2Fx"
    )
    assert "desc=" not in shown(r, "python")


def test_iact_no_is_sent_as_no(visitor):
    assert "iact=no" in shown(build(visitor, url="http://h/", iact="no"), "request-url")


@pytest.mark.parametrize("fields, words", [
    ({"url": "ftp://example.org/"}, "url must be a fully qualified http or https URL"),
    ({"url": "not a url"}, "url must be a fully qualified"),
    ({"url": "http://h/", "desc": "bell\x07"}, "desc may only contain printable ASCII"),
    ({"url": "http://h/", "aauth": "PWD!"}, "aauth type 'PWD!' is not a valid type name"),
    ({"url": "http://h/", "params": "tab\there"}, "params must be a string of printable"),
])
def test_arguments_the_core_refuses_are_a_400_saying_why(visitor, page, fields, words):
    r = build(visitor, **fields)
    assert r.status_code == 400
    assert words in page.text(r)
    html = r.get_data(as_text=True)
    assert 'id="go"' not in html
    # Said above the form, where it is seen, and tied to the field it is about.
    assert html.index('id="error"') < html.index("<form")
    assert re.search(r"<title>Error: Request builder", html)
    wrong = list(fields)[-1]  # the field the core refuses
    for name in ("url", "desc", "msg", "params", "aauth"):
        tag = re.search(rf'<input type="text" id="{name}"[^>]*>', html).group(0)
        tied = 'aria-invalid="true" aria-describedby="error"' in tag
        assert tied == (name == wrong), name


@pytest.mark.parametrize("fields", [{"wls": "elsewhere"}, {"iact": "maybe"}, {"fail": "no"}])
def test_impossible_choices_are_a_400(visitor, fields):
    assert build(visitor, url="http://h/", **fields).status_code == 400


def test_what_you_type_is_escaped_everywhere(visitor):
    r = build(visitor, url="http://h/", desc='"><script>alert(1)</script>',
              params="</pre><b>x")
    html = r.get_data(as_text=True)
    assert "<script>alert" not in html and "<b>x" not in html
    assert r.status_code == 200
