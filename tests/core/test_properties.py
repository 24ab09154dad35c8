"""Property tests: round trips, tamper evidence, and no undocumented errors."""

from datetime import datetime

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import raven.demoserver as demo
from raven.errors import ResponseError
from raven.testing import make_response

# Printable text, "!" and "%" included: the encoder must escape them.
text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x2FFF,
                             blacklist_categories=("Cc", "Cs", "Z", "Cf", "Co", "Cn"),
                             whitelist_characters=" !%"),
               max_size=40)
tag = st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True)
issues = st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(9999, 12, 31))
fast = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])


@fast
@given(
    ver=st.sampled_from([1, 2, 3]),
    principal=text.filter(bool),
    ptags=st.frozensets(tag, max_size=4),
    interactive=st.booleans(),
    issue=issues,
    ident=text.filter(bool),
    path=text,
    life=st.none() | st.integers(0, 10**9),
    params=text,
    msg=text,
)
def test_success_round_trips(ver, principal, ptags, interactive, issue, ident, path, life,
                             params, msg):
    url = "https://example.org/" + path
    string = make_response(
        url, principal, ver=ver, ptags=ptags, auth="pwd" if interactive else None,
        sso=None if interactive else {"pwd"}, issue=issue, id=ident, life=life,
        params=params, msg=msg,
    )
    r = demo.Response(string)
    assert (r.ver, r.principal, r.id, r.url, r.life, r.params) == (
        ver, principal, ident, url, life, params)
    assert r.msg == (msg or None)
    assert r.issue == issue.replace(microsecond=0)
    assert r.ptags == (ptags if ver == 3 else {"current"})
    assert (r.auth, r.sso) == (("pwd", frozenset()) if interactive else (None, {"pwd"}))


@fast
@given(status=st.sampled_from([410, 510, 530, 540, 560, 570]), ver=st.sampled_from([1, 2, 3]),
       msg=text, params=text, issue=issues)
def test_failures_round_trip(status, ver, msg, params, issue):
    r = demo.Response(make_response("http://h/", status=status, ver=ver, msg=msg,
                                    params=params, issue=issue))
    assert (r.status, r.success, r.params, r.principal) == (status, False, params, None)


SIGNED = make_response("https://example.org/p?q=1", "abc123", params="x!y%z", life=3600,
                       msg="hello")


@settings(max_examples=1500, deadline=None)
@given(position=st.integers(0, len(SIGNED.encode()) - 1), value=st.integers(0, 255))
def test_any_single_byte_change_is_rejected(position, value):
    data = bytearray(SIGNED.encode())
    assume(data[position] != value)
    data[position] = value
    try:
        demo.Response(bytes(data))
    except ResponseError:
        return
    raise AssertionError(f"accepted a response changed at byte {position}")


@settings(max_examples=1500, deadline=None)
@given(st.text(max_size=400) | st.binary(max_size=400))
def test_arbitrary_input_raises_only_documented_errors(value):
    try:
        demo.Response(value)
    except ResponseError:
        pass


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.sampled_from(SIGNED.split("!")) | text, min_size=10, max_size=16))
def test_response_shaped_input_raises_only_documented_errors(fields):
    try:
        demo.Response("!".join(fields))
    except ResponseError:
        pass
