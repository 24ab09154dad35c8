"""The login-flow core on its own: every decision, with an injected clock
and tokens, real signatures, and no framework at all."""

from __future__ import annotations

import calendar
import logging
from datetime import datetime, timedelta
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from raven import flow, guard, pending
from raven.flow import Allow, Incoming, LoggedIn, Refuse, State, ToWLS, decide
from raven.keys import SigningKey, keyring
from raven.services import DEMO, WLS
from raven.settings import ConfigurationError, Settings
from raven.testing import make_response

ORIGIN = "https://www.example.cam.ac.uk"
NOW_DT = datetime(2026, 11, 25, 12, 0, 0)
NOW = calendar.timegm(NOW_DT.timetuple())


def settings(**given) -> Settings:
    given.setdefault("wls", DEMO)
    given.setdefault("origin", ORIGIN)
    return Settings.from_config({}, given)


def get(path="/page", query=b"", host="www.example.cam.ac.uk", method="GET", came_back=True,
        scheme="https", pending=()):
    """A request; ``pending``: the tokens of the logins under way that the
    browser's cookies hold (raven.pending)."""
    return Incoming(method, scheme, host, path, query, "192.0.2.1", state_came_back=came_back,
                    pending=pending)


def with_response(text, path="/page", query=b"", **kw):
    sep = b"&" if query else b""
    return get(path, query + sep + b"WLS-Response=" + quote(text, safe="").encode(), **kw)


def start(s, path="/page", query=b"", stored=None, token="tok-1"):
    d = decide(get(path, query), stored, s, NOW, token)
    assert isinstance(d, ToWLS), d
    sent = {k: v[0] for k, v in parse_qs(urlsplit(d.location).query).items()}
    return d, sent


def log_in(s, principal="test0001", **fields):
    d, sent = start(s)
    fields.setdefault("issue", NOW_DT)
    text = make_response(sent["url"], principal, params=sent["params"], **fields)
    done = decide(with_response(text, pending=(d.started,)), None, s, NOW + 1, "unused")
    assert isinstance(done, LoggedIn), done
    return done


# --- going to the WLS -------------------------------------------------------------


def test_no_login_goes_to_the_wls_with_a_fresh_token_and_our_own_url():
    d, sent = start(settings(desc="Test"), "/page", b"a=1")
    assert d.location.startswith(DEMO.auth_url + "?")
    assert sent == {"ver": "3", "url": ORIGIN + "/page?a=1", "desc": "Test",
                    "params": pending.params_for("tok-1")}
    # The token goes into a cookie of its own, not the session; only its
    # digest travels in URLs, so no one who sees the response can name it.
    assert d.started == "tok-1" and d.state is None and sent["params"] != "tok-1"


def test_a_response_that_names_the_token_itself_is_refused():
    """Whoever saw a response URL knows its params: a cookie named after
    them must not accept it."""
    s = settings()
    d, sent = start(s)
    text = make_response(sent["url"], params=sent["params"], issue=NOW_DT)
    r = decide(with_response(text, pending=(sent["params"],)), None, s, NOW + 1, "t")
    assert isinstance(r, Refuse) and r.check == "params" and r.spent is None


def test_a_token_kept_in_the_session_by_an_earlier_release_still_works():
    s = settings()
    d, sent = start(s)
    text = make_response(sent["url"], params="tok-1", issue=NOW_DT)  # the token, as it was
    stored = State(("tok-1",)).dump()
    done = decide(with_response(text), stored, s, NOW + 1, "unused")
    assert isinstance(done, LoggedIn) and done.state.tokens == () and done.spent == "tok-1"


def test_a_post_going_to_the_wls_is_logged_as_losing_its_data():
    d = decide(get(method="POST"), None, settings(), NOW, "t")
    assert isinstance(d, ToWLS) and d.log.level == logging.WARNING and "lost" in d.log.message


@pytest.mark.parametrize("host", [
    "www.example.cam.ac.uk:8443", "evil.example.com", "www.example.cam.ac.uk:@evil.example",
    "user@www.example.cam.ac.uk", "www.example.cam.ac.uk/x", "", "www.example.cam.ac.uk:0",
    "www.example.cam.ac.uk\r\nX: y", "ẃww.example.cam.ac.uk",
])
def test_a_host_the_operator_did_not_allow_is_refused_before_anything(host):
    d = decide(get(host=host), None, settings(), NOW, "t")
    assert isinstance(d, Refuse) and (d.status, d.check) == (400, "host")
    assert "\n" not in d.log.message and "\r" not in d.log.message


def test_the_scheme_is_part_of_the_origin():
    d = decide(get(scheme="http"), None, settings(), NOW, "t")
    assert isinstance(d, Refuse) and d.check == "host"


def test_a_default_port_spelt_out_is_the_same_origin():
    _, sent = start(settings(), "/p")
    d = decide(get("/p", host="www.example.cam.ac.uk:443"), None, settings(), NOW, "t")
    assert isinstance(d, ToWLS) and parse_qs(urlsplit(d.location).query)["url"] == [sent["url"]]


def test_a_host_name_whitelist_allows_default_ports_only():
    s = Settings.from_config({}, {"wls": DEMO}, host_names=["www.example.cam.ac.uk"])
    assert isinstance(decide(get(), None, s, NOW, "t"), ToWLS)
    refused = decide(get(host="www.example.cam.ac.uk:8443"), None, s, NOW, "t")
    assert isinstance(refused, Refuse) and refused.check == "host"


def test_no_way_to_know_our_own_url_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="RAVEN_ORIGIN"):
        Settings.from_config({}, {"wls": DEMO})


# --- coming back ----------------------------------------------------------------


def test_a_good_response_logs_in_and_spends_the_token():
    done = log_in(settings())
    assert done.location == ORIGIN + "/page"
    assert done.new_identity
    assert (done.login.principal, done.login.ptags) == ("test0001", frozenset({"current"}))
    assert done.login.issuer == DEMO.issuer_of("901") and DEMO.made(done.login.issuer)
    assert done.state.tokens == ()
    allowed = decide(get(), done.state.dump(), settings(), NOW + 2, "t")
    assert isinstance(allowed, Allow) and allowed.login == done.login and allowed.state is None


def test_a_second_login_as_the_same_user_is_not_a_new_identity():
    s = settings()
    first = log_in(s)
    d = decide(get(), first.state.dump(), s, NOW + 7201, "tok-2")  # max_life over
    assert isinstance(d, ToWLS)
    sent = {k: v[0] for k, v in parse_qs(urlsplit(d.location).query).items()}
    text = make_response(sent["url"], params=sent["params"],
                         issue=NOW_DT + timedelta(seconds=7201))
    again = decide(with_response(text, pending=(d.started,)), first.state.dump(), s,
                   NOW + 7202, "x")
    assert isinstance(again, LoggedIn) and not again.new_identity


@pytest.mark.parametrize(("method", "status", "check"), [("POST", 405, "method"),
                                                         ("PUT", 405, "method")])
def test_a_response_arrives_by_get_only(method, status, check):
    d, sent = start(settings())
    text = make_response(sent["url"], params=sent["params"], issue=NOW_DT)
    r = decide(with_response(text, method=method, pending=(d.started,)), None, settings(), NOW, "t")
    assert isinstance(r, Refuse) and (r.status, r.check) == (status, check)
    assert r.headers == {"Allow": "GET"}


def test_two_responses_are_refused():
    d, sent = start(settings())
    text = quote(make_response(sent["url"], params=sent["params"], issue=NOW_DT), safe="")
    query = f"WLS-Response={text}&WLS%2DResponse={text}".encode()
    r = decide(get(query=query, pending=(d.started,)), None, settings(), NOW, "t")
    assert isinstance(r, Refuse) and r.check == "duplicate"


def test_a_response_without_our_cookie_is_told_not_looped():
    _, sent = start(settings())
    text = make_response(sent["url"], params=sent["params"], issue=NOW_DT)
    r = decide(with_response(text, came_back=False), None, settings(), NOW, "t")
    assert isinstance(r, Refuse) and (r.status, r.check, r.page) == (403, "cookies", "no_cookies")


@pytest.mark.parametrize(("edit", "check"), [
    (dict(url=ORIGIN + "/other"), "url"),
    (dict(url="https://evil.example.com/page"), "url"),
    (dict(params="not-ours"), "params"),
    (dict(issue=NOW_DT - timedelta(seconds=60)), "issue"),
    (dict(issue=NOW_DT + timedelta(seconds=60)), "issue"),
])
def test_each_application_check_refuses(edit, check):
    s = settings()
    d, sent = start(s)
    fields = {"url": sent["url"], "params": sent["params"], "issue": NOW_DT, **edit}
    text = make_response(fields.pop("url"), **fields)
    r = decide(with_response(text, pending=(d.started,)), None, s, NOW, "t")
    assert isinstance(r, Refuse) and (r.status, r.check) == (400, check)
    assert r.log.level == logging.WARNING and f"check {check}" in r.log.message
    assert text not in r.log.message  # nothing replayable in the log


def test_a_token_is_spent_even_when_a_later_check_fails():
    s = settings()
    d, sent = start(s)
    stale = make_response(sent["url"], params=sent["params"], issue=NOW_DT - timedelta(minutes=5))
    r = decide(with_response(stale, pending=(d.started,)), None, s, NOW, "t")
    assert r.check == "issue" and r.spent == d.started


def test_a_stranger_key_and_an_unknown_kid():
    s = settings()
    d, sent = start(s)
    stranger = SigningKey(rsa.generate_private_key(public_exponent=65537, key_size=1024), "901")
    forged = make_response(sent["url"], params=sent["params"], issue=NOW_DT, signing_key=stranger)
    r = decide(with_response(forged, pending=(d.started,)), None, s, NOW, "t")
    assert r.check == "signature"
    other_kid = SigningKey(stranger.private_key, "77")
    text = make_response(sent["url"], params=sent["params"], issue=NOW_DT, signing_key=other_kid)
    assert decide(with_response(text, pending=(d.started,)), None, s, NOW, "t").check == "kid"


def test_iact_is_checked_on_the_response_not_the_request():
    s = settings(iact=True)
    d, sent = start(s)
    sso_only = make_response(sent["url"], params=sent["params"], issue=NOW_DT, sso={"pwd"},
                             auth=None)
    r = decide(with_response(sso_only, pending=(d.started,)), None, s, NOW, "t")
    assert r.check == "iact/aauth"


def test_a_failure_status_is_shown_once_and_ends_the_login():
    s = settings()
    first = log_in(s)
    d = decide(get(), first.state.dump(), s, NOW + 7201, "tok-9")
    cancel = make_response(ORIGIN + "/page", status=410, params=pending.params_for("tok-9"), ver=1,
                           issue=NOW_DT + timedelta(seconds=7201))
    r = decide(with_response(cancel, pending=(d.started,)), first.state.dump(), s, NOW + 7202,
               "t")
    assert isinstance(r, Refuse) and (r.status, r.page) == (401, "login_failed")
    assert r.context["wls_status"] == 410 and r.state.login is None


def test_a_cancel_makes_no_session_for_a_visitor_who_had_none():
    s = settings()
    d, sent = start(s)
    cancel = make_response(sent["url"], status=410, params=sent["params"], issue=NOW_DT)
    r = decide(with_response(cancel, pending=(d.started,)), None, s, NOW, "t")
    assert (r.status, r.page, r.state, r.spent) == (401, "login_failed", None, d.started)


def test_a_version_1_success_goes_where_the_browser_is_not_to_another_query():
    s = settings()
    d, sent = start(s, "/page", b"a=1")
    # the WLS answers in version 1: the query is dropped on the way back
    text = make_response(ORIGIN + "/page?evil=1", params=sent["params"], issue=NOW_DT, ver=1)
    done = decide(with_response(text, "/page", pending=(d.started,)), None, s, NOW, "t")
    assert isinstance(done, LoggedIn) and done.location == ORIGIN + "/page"


def test_a_login_already_expired_on_arrival_is_explained_not_stored():
    s = settings(max_life=10, issue_bounds=(30, 5))
    d, sent = start(s)
    text = make_response(sent["url"], params=sent["params"], issue=NOW_DT - timedelta(seconds=20))
    r = decide(with_response(text, pending=(d.started,)), None, s, NOW, "t")
    assert isinstance(r, Refuse) and (r.status, r.check) == (403, "expired")
    assert r.state is None and "expired" in r.reason  # nothing stored: no session made
    assert r.spent == d.started


def test_a_wls_life_shorter_than_the_skew_is_no_loop_either():
    s = settings(use_wls_life=True)
    d, sent = start(s)
    text = make_response(sent["url"], params=sent["params"], life=2,
                         issue=NOW_DT - timedelta(seconds=5))
    r = decide(with_response(text, pending=(d.started,)), None, s, NOW, "t")
    assert isinstance(r, Refuse) and r.check == "expired"


def test_the_back_button_leads_a_logged_in_user_to_the_page():
    s = settings()
    done = log_in(s)
    # Back: the WLS signs again for the spent token
    again = make_response(ORIGIN + "/page", params="tok-1", issue=NOW_DT)
    r = decide(with_response(again), done.state.dump(), s, NOW + 3, "t")
    assert isinstance(r, LoggedIn) and r.state is None and r.login == done.login


def test_a_spent_token_for_someone_else_stays_refused():
    s = settings()
    done = log_in(s)
    other = make_response(ORIGIN + "/page", "test0002", params="tok-1", issue=NOW_DT)
    r = decide(with_response(other), done.state.dump(), s, NOW + 3, "t")
    assert isinstance(r, Refuse) and r.check == "params"


# --- a stored login ---------------------------------------------------------------


def test_a_login_from_another_wls_is_no_login():
    other_key = SigningKey(rsa.generate_private_key(public_exponent=65537, key_size=1024), "5")
    other = WLS("https://wls.example.org/auth", None, keyring({"5": other_key.public_key}))
    done = log_in(settings())  # through the demo server
    d = decide(get(), done.state.dump(), settings(wls=other), NOW + 2, "t")
    assert isinstance(d, ToWLS) and d.location.startswith(other.auth_url)


def test_a_login_with_a_key_no_longer_trusted_is_no_login():
    done = log_in(settings())
    rolled = DEMO.with_keys(keyring({"902": rsa.generate_private_key(
        public_exponent=65537, key_size=1024).public_key()}))
    assert isinstance(decide(get(), done.state.dump(), settings(wls=rolled), NOW, "t"), ToWLS)


@pytest.mark.parametrize("stored", [
    {"principal": "test0001", "ptags": ["current"], "issue": NOW, "life": None, "last": NOW},
    {"v": 1, "t": [], "l": ["test0001", "current", NOW, None, NOW, "pwd", "", "x"]},
    {"v": 2, "t": "abc"},
    "junk", 42, [],
])
def test_a_state_this_code_did_not_write_is_no_login(stored):
    assert isinstance(decide(get(), stored, settings(), NOW, "t"), ToWLS)


def test_an_edited_login_of_the_wrong_types_is_no_login():
    value = log_in(settings()).state.dump()
    value["l"][2] = str(value["l"][2])
    assert isinstance(decide(get(), value, settings(), NOW, "t"), ToWLS)


@pytest.mark.parametrize(("given", "after", "reason"), [
    ({}, 7200, "config max life"),
    ({"inactive_timeout": 600}, 600, "inactive"),
])
def test_expiry_sends_back_with_the_timeout_message(given, after, reason):
    s = settings(**given)
    done = log_in(s)
    assert isinstance(decide(get(), done.state.dump(), s, NOW + after - 1, "t"), Allow)
    d = decide(get(), done.state.dump(), s, NOW + after + 1, "t")
    assert isinstance(d, ToWLS) and reason in d.log.message
    assert "msg=your+session+on+the+site+has+expired" in d.location


def test_activity_is_recorded_for_the_inactive_timeout():
    s = settings(inactive_timeout=600)
    done = log_in(s)
    d = decide(get(), done.state.dump(), s, NOW + 300, "t")
    assert isinstance(d, Allow) and d.state.login.last == NOW + 300


def test_a_stricter_page_sends_a_laxer_login_back_to_the_wls():
    lax = settings()
    d, sent = start(lax)
    text = make_response(sent["url"], params=sent["params"], issue=NOW_DT, sso={"pwd"}, auth=None)
    done = decide(with_response(text, pending=(d.started,)), None, lax, NOW, "t")
    assert isinstance(decide(get(), done.state.dump(), settings(iact=True), NOW, "t"), ToWLS)


def test_authorisation_by_ptags_principal_or_the_callers_rule():
    done = log_in(settings(), "test0401", ptags=set())
    d = decide(get(), done.state.dump(), settings(), NOW, "t")
    assert isinstance(d, Refuse) and (d.status, d.page) == (403, "forbidden")
    staff = settings(require_principal={"abc123"}, require_ptags=None)
    assert isinstance(decide(get(), done.state.dump(), staff, NOW, "t"), Refuse)
    allowed = decide(get(), done.state.dump(), settings(), NOW, "t",
                     authorise=lambda principal, ptags: principal == "test0401")
    assert isinstance(allowed, Allow)


def _stored_cases():
    """(name, settings, stored, now, query) for a spread of requests: every
    way a stored login holds or fails, and queries with and without a
    response."""
    s, timed = settings(), settings(inactive_timeout=600)
    done, done_timed = log_in(s).state.dump(), log_in(timed).state.dump()
    other = settings(wls=DEMO.with_keys(keyring({"902": rsa.generate_private_key(
        public_exponent=65537, key_size=1024).public_key()})))
    staff = settings(require_principal={"abc123"})
    pending = State.load(done).with_token("tok-2").dump()
    by_sso = log_in(s, sso={"pwd"}, auth=None).state.dump()
    edited = log_in(s).state.dump()
    edited["l"][4] = float(edited["l"][4])
    return [
        ("no state", s, None, NOW, b""),
        ("logged in", s, done, NOW + 5, b""),
        ("logged in, a query", s, done, NOW + 5, b"a=1&b=%20x"),
        ("logged in, a login pending", s, pending, NOW + 5, b""),
        ("logged in, a response arrives", s, done, NOW + 5, b"WLS-Response=x"),
        ("logged in, a response spelt otherwise", s, done, NOW + 5, b"WLS%2DResponse=x"),
        ("logged in, a query not UTF-8", s, done, NOW + 5, b"a=\xff"),
        ("expired", s, done, NOW + 7201, b""),
        ("another key", other, done, NOW + 5, b""),
        ("a stricter page", settings(iact=True), by_sso, NOW + 5, b""),
        ("not authorised", staff, done, NOW + 5, b""),
        ("activity to record", timed, done_timed, NOW + 300, b""),
        ("activity recorded lately", timed, done_timed, NOW, b""),
        ("inactive", timed, done_timed, NOW + 601, b""),
        ("edited types", s, edited, NOW + 5, b""),
        ("another layout", s, {"v": 2, "t": "abc", "l": done["l"]}, NOW + 5, b""),
    ]


@pytest.mark.parametrize("case", _stored_cases(), ids=lambda case: case[0])
def test_current_is_decide_on_the_requests_it_lets_through(case):
    _, s, stored, now, query = case
    full = decide(get(query=query), stored, s, now, "t")
    quick = flow.current(query, stored, s, now)
    # current answers whatever decide would without a WLS trip: a login that
    # holds (Allow) or one the rules refuse (403), so authorise runs once.
    settled = isinstance(full, Allow) or (isinstance(full, Refuse) and full.check == "forbidden")
    assert quick == (full if settled else None)


def test_current_lets_through_exactly_the_requests_decide_allows():
    allowed = {case[0] for case in _stored_cases()
               if isinstance(decide(get(query=case[4]), case[2], case[1], case[3], "t"), Allow)}
    assert allowed == {"logged in", "logged in, a query", "logged in, a login pending",
                       "activity to record", "activity recorded lately"}


def test_log_lines_escape_what_a_client_sent():
    d = decide(get(path="/a\r\nFAKE: line", method="POST"), None, settings(), NOW, "t")
    assert "\n" not in d.log.message and "\\r\\n" in d.log.message


def test_raw_query_bytes_that_are_not_utf8_are_refused():
    r = decide(get(query=b"a=\xff"), None, settings(), NOW, "t")
    assert isinstance(r, Refuse) and (r.status, r.check) == (400, "query")


def test_split_response_finds_every_spelling_of_the_name():
    values, rest = flow.split_response(b"a=1&WLS%2DResponse=x&wls-response=y&WLS-Response=z")
    assert values == ["x", "z"] and rest == b"a=1&wls-response=y"


def test_cache_control_keeps_a_stricter_choice():
    assert guard.private(None, "private") == "private"
    assert guard.private("no-store", "private") is None
    assert guard.private("public, max-age=60", "private") == "private, max-age=60"
    assert guard.private("public", None) is None  # cache_control=None: the site said so


def test_the_stored_state_is_small():
    import json

    value = log_in(settings()).state.dump()
    assert len(json.dumps(value)) < 120, value
    assert State.load(json.loads(json.dumps(value))) == log_in(settings()).state


@pytest.mark.parametrize(("desc", "realm"), [("Our site", "Our site"), (None, ORIGIN)])
def test_a_script_is_told_where_to_log_in_and_what_the_site_is(desc, realm):
    s = settings(desc=desc) if desc else settings()
    script = Incoming("GET", "https", "www.example.cam.ac.uk", "/api", b"", "192.0.2.1",
                      navigation=False)
    r = decide(script, None, s, NOW, "tok")
    assert isinstance(r, Refuse) and r.status == 401 and r.json is not None
    assert r.headers["WWW-Authenticate"] == (
        f'Raven realm="{realm}", login_url="{ORIGIN}/api"')
    assert r.json == {"error": "login_required", "login_url": f"{ORIGIN}/api"}
