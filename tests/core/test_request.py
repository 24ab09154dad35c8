from urllib.parse import parse_qs, urlsplit

import pytest

import raven
import raven.demoserver
from raven.errors import RequestError


def query(request):
    parts = urlsplit(str(request))
    return f"{parts.scheme}://{parts.netloc}{parts.path}", parse_qs(
        parts.query, keep_blank_values=True
    )


def test_seed_example_builds_the_live_url():
    r = raven.Request(url="http://host/response/path", desc="My website")
    base, q = query(r)
    assert base == raven.RAVEN_AUTH
    assert q == {"ver": ["3"], "url": ["http://host/response/path"], "desc": ["My website"]}


def test_every_parameter_is_sent():
    r = raven.Request(
        url="https://example.org/a?b=c", desc="d", aauth={"pwd", "x-card"}, iact=True,
        msg="m", params="token!%", fail=True,
    )
    _, q = query(r)
    assert q == {
        "ver": ["3"], "url": ["https://example.org/a?b=c"], "desc": ["d"],
        "aauth": ["pwd,x-card"], "iact": ["yes"], "msg": ["m"], "params": ["token!%"],
        "fail": ["yes"],
    }


def test_iact_false_is_no_and_none_is_omitted():
    assert query(raven.Request(url="http://h/", iact=False))[1]["iact"] == ["no"]
    assert "iact" not in query(raven.Request(url="http://h/"))[1]
    assert "fail" not in query(raven.Request(url="http://h/", fail=False))[1]


def test_aauth_as_comma_separated_string():
    assert query(raven.Request(url="http://h/", aauth="pwd"))[1]["aauth"] == ["pwd"]


@pytest.mark.parametrize("kwargs", [
    {"url": "ftp://host/"},
    {"url": "/relative"},
    {"url": "http:///nohost"},
    {"url": "http://host/with space"},
    {"url": 42},
    {"url": "http://h/", "aauth": set()},
    {"url": "http://h/", "aauth": ["PWD!"]},
    {"url": "http://h/", "iact": "yes"},
    {"url": "http://h/", "iact": 1},
    {"url": "http://h/", "fail": "yes"},
    {"url": "http://h/", "params": 5},
    {"url": "http://h/", "params": "new\nline"},
    {"url": "http://h/", "desc": "tab\there"},
    {"url": "http://h/", "msg": "\x7f"},
    {"url": "http://h/", "desc": "café", "encode_strings": False},
    {"url": "http://h/", "ver": 4},
    {"url": "http://h/", "ver": True},
    {"url": "http://h/", "ver": 3.0},
    {"url": "http://h/", "aauth": 5},
    {"url": "http://h/", "aauth": [["pwd"]]},
    {"url": "http://h/\ud800"},
    {"url": "http://h/\u2028"},
    {"url": "http://[::1]:99999/"},
    {"url": "http://a..\u00e9/"},
    {"url": "http://[::1/"},
    {"url": "http://h/", "wls_url": "javascript:alert(1)"},
])
def test_bad_arguments_are_value_errors(kwargs):
    with pytest.raises(RequestError) as info:
        raven.Request(**kwargs)
    assert isinstance(info.value, ValueError)


def test_encode_strings_makes_desc_printable_ascii():
    r = raven.Request(url="http://h/", desc="Caf\u00e9 & bar \u2603", msg="a&b")
    assert r.desc == "Caf&#233; &amp; bar &#9731;"
    assert r.msg == "a&amp;b"


def test_without_encode_strings_ascii_passes_unchanged():
    r = raven.Request(url="http://h/", desc="A & B <i>", encode_strings=False)
    assert r.desc == "A & B <i>"


def test_demoserver_and_custom_wls_url():
    assert str(raven.demoserver.Request(url="http://h/")).startswith(raven.demoserver.RAVEN_DEMO_AUTH)
    local = raven.Request(url="http://h/", wls_url="http://127.0.0.1:5001/auth/authenticate.html")
    assert str(local).startswith("http://127.0.0.1:5001/auth/authenticate.html?ver=3&")
