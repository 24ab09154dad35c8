"""Whatever a client sends, the demo answers with a page, never a 500."""

from __future__ import annotations

from urllib.parse import urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from raven.demo import create_app

BASE = "http://127.0.0.1:5000"
APP = create_app({"RAVEN_WLS": "http://127.0.0.1:5001"})

GET_PATHS = ["/", "/protected", "/integration", "/integration/login", "/integration/response",
             "/integration/secrets", "/builder", "/inspect", "/logout"]
POST_PATHS = ["/logout", "/integration/password", "/inspect"]
NAMES = ["WLS-Response", "url", "wls", "desc", "msg", "params", "aauth", "iact", "fail",
         "trust", "response", "username", "csrf"]
values = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=60) | \
    st.sampled_from(["3!200!", "yes", "no", "local", "demo", "live", "http://h/", "!" * 13])
pairs = st.lists(st.tuples(st.sampled_from(NAMES), values), max_size=6)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(GET_PATHS), query=pairs)
def test_get_with_any_query_is_never_a_500(path, query):
    client = APP.test_client()
    r = client.get(BASE + path + "?" + urlencode(query))
    assert r.status_code < 500, (path, query, r.status_code)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(POST_PATHS), form=pairs)
def test_post_with_any_form_is_never_a_500(path, form):
    client = APP.test_client()
    r = client.post(BASE + path, data=MultiDict(form))
    assert r.status_code < 500, (path, form, r.status_code)


@settings(max_examples=50, deadline=None)
@given(raw=st.binary(max_size=80))
def test_any_raw_query_string_is_never_a_500(raw):
    client = APP.test_client()
    for path in ("/inspect", "/integration/response", "/builder"):
        r = client.get(BASE + path, environ_overrides={"QUERY_STRING": raw.decode("latin-1")})
        assert r.status_code < 500, (path, raw)
