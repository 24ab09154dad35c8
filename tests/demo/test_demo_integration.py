"""The integration page: Raven by hand next to the site's own login, with a
flashed message for every outcome."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest

from raven.flow import State
from raven.keys import SigningKey
from raven.response import utcnow
from raven.testing import make_response

RESPONSE_URL = "http://127.0.0.1:5000/integration/response"


def test_the_page_offers_both_methods(visitor, page):
    r = visitor.get("/integration")
    words = page.text(r)
    assert "You are not logged in to this site" in words
    assert "Log in with Raven" in words and "this site's own login" in words
    assert 'name="csrf"' in r.get_data(as_text=True)


# --- the site's own login -------------------------------------------------------------


def test_logging_in_with_a_user_name(visitor, page):
    r = visitor.post("/integration/password", {"username": "alice"})
    assert (r.status_code, r.location) == (303, "/integration")
    r = visitor.get("/integration")
    assert page.flashes(r) == [
        ("success", "Logged in as alice with a user name: this site's own login, not Raven.")
    ]
    assert "You are logged in to this site as alice (via username)" in page.text(r)
    assert page.flashes(visitor.get("/integration")) == []  # shown once
    secrets = visitor.get("/integration/secrets")
    assert secrets.status_code == 200
    assert "You are alice, logged in via username" in page.text(secrets)


@pytest.mark.parametrize("name", ["", "  ", "-alice", "a" * 33, "<script>x</script>", "é"])
def test_a_bad_user_name_is_a_400_with_a_message_at_the_field(visitor, page, name):
    r = visitor.post("/integration/password", {"username": name})
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    error = re.search(r'<p class="failed" id="username-error" role="alert">(.*?)</p>', html)
    assert unescape(error.group(1)).startswith("Error: A user name is 1 to 32 letters")
    field = re.search(r'<input type="text" id="username"[^>]*>', html).group(0)
    assert 'aria-invalid="true"' in field and 'aria-describedby="username-error"' in field
    # What was typed is kept, to be corrected rather than typed again.
    assert unescape(re.search(r'value="([^"]*)"', field).group(1)) == name
    assert re.search(r"<title>Error: Integration", html)
    assert page.flashes(r) == []  # said once, at the field
    assert "<script>x" not in html
    assert visitor.get("/integration/secrets").status_code == 401


def test_the_user_name_form_needs_its_token(visitor):
    r = visitor.post("/integration/password", {"username": "alice"}, csrf=False)
    assert r.status_code == 400
    r = visitor.post("/integration/password", {"username": "alice", "csrf": "forged"},
                     csrf=False)
    assert r.status_code == 400
    assert visitor.get("/integration/secrets").status_code == 401


def test_the_members_page_wants_a_login(visitor, page):
    r = visitor.get("/integration/secrets")
    assert r.status_code == 401
    assert "Log in first, on the integration page" in page.text(r)


# --- Raven, by hand ---------------------------------------------------------------------


def test_login_sends_a_hand_built_request_with_a_fresh_token(visitor):
    first = visitor.start("/integration/login")
    second = visitor.start("/integration/login")
    assert first["url"] == RESPONSE_URL
    assert first["desc"] == "the python-raven demo"
    assert first["params"] != second["params"]
    assert tokens(visitor) == [first["params"], second["params"]]


def test_only_the_last_five_tokens_are_kept(visitor):
    sent = [visitor.start("/integration/login")["params"] for _ in range(7)]
    assert tokens(visitor) == sent[-5:]


def test_a_raven_login_is_flashed_and_remembered(visitor, page):
    r = visitor.login("/integration/login", "test0003")
    assert r.request.path == "/integration"
    assert page.flashes(r) == [("success", "Logged in as test0003 with Raven (ptags: current).")]
    assert "logged in to this site as test0003 (via raven)" in page.text(r)
    assert "You are test0003, logged in via raven" in page.text(visitor.get("/integration/secrets"))
    assert tokens(visitor) == []  # spent


def test_someone_not_current_is_told_and_not_logged_in(visitor, page):
    r = visitor.login("/integration/login", "test0401", ptags=set())
    assert page.flashes(r) == [("error", "test0401 is not a current member of the University "
                                         "(no 'current' ptag), so this site does not log them in.")]
    assert visitor.get("/integration/secrets").status_code == 401


def test_a_login_made_through_another_wls_is_no_login_here(visitor, page):
    visitor.login("/integration/login", "test0003")
    with visitor.client.session_transaction(base_url=visitor.base) as sess:
        sess["login_wls"] = "https://demo.raven.cam.ac.uk/auth/authenticate.html"
    assert visitor.get("/integration/secrets").status_code == 401


@pytest.mark.parametrize("ver", [1, 3])
def test_a_cancel_is_flashed(visitor, page, ver):
    r = visitor.login("/integration/login", status=410, ver=ver)
    assert r.request.path == "/integration"
    assert page.flashes(r) == [("info", "You cancelled the Raven login. Nothing has changed.")]
    assert "You are not logged in to this site" in page.text(r)


@pytest.mark.parametrize("status, words", [
    (540, "Interaction would be required (status 540): the user would have to log in."),
    (570, "Authentication declined (status 570): the user would have to log in."),
    (510, "No mutually acceptable authentication types available (status 510): the user "
          "would have to log in."),
])
def test_other_refusals_are_flashed_with_the_wls_message(visitor, page, status, words):
    r = visitor.login("/integration/login", status=status, msg="the user would have to log in")
    assert page.flashes(r) == [("error", "Raven did not log you in: " + words)]


def test_a_failure_keeps_whoever_was_logged_in(visitor, page):
    visitor.post("/integration/password", {"username": "alice"})
    r = visitor.login("/integration/login", status=410)
    assert "logged in to this site as alice" in page.text(r)


def _refused(visitor, page, response_for, check: str):
    """Come back with a bad response; expect a 400 naming the check, flashed."""
    query = visitor.start("/integration/login")
    r = visitor.come_back(query["url"], response_for(query))
    assert r.status_code == 400
    (category, message), = page.flashes(r)
    assert category == "error"
    assert message.startswith(f"Raven login refused (check {check}): ")
    assert "You are not logged in to this site" in page.text(r)
    return message


def test_a_replayed_response_is_refused(visitor, page):
    query = visitor.start("/integration/login")
    response = make_response(query["url"], params=query["params"])
    assert visitor.come_back(query["url"], response).status_code == 303
    visitor.post("/logout")
    r = visitor.come_back(query["url"], response)
    assert r.status_code == 400
    assert "check params" in page.flashes(r)[-1][1]


def test_a_response_for_another_browser_is_refused(visitor, page):
    message = _refused(visitor, page, lambda q: make_response(q["url"], params="someone else"),
                       "params")
    assert "does not answer a login started by this browser" in message


def test_a_response_for_another_url_is_refused(visitor, page):
    message = _refused(
        visitor, page,
        lambda q: make_response("http://127.0.0.1:5000/elsewhere", params=q["params"]), "url")
    assert "http://127.0.0.1:5000/elsewhere" in message


def test_a_stale_response_is_refused(visitor, page):
    old = utcnow() - timedelta(minutes=5)
    _refused(visitor, page, lambda q: make_response(q["url"], params=q["params"], issue=old),
             "issue")


def test_a_forged_signature_is_refused(visitor, page):
    def forged(q):
        return make_response(q["url"], params=q["params"]).replace("test0001", "test0002")

    _refused(visitor, page, forged, "signature")


def test_a_response_signed_with_another_key_is_refused(visitor, page):
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = SigningKey(rsa.generate_private_key(public_exponent=65537, key_size=1024), "7")
    _refused(visitor, page,
             lambda q: make_response(q["url"], params=q["params"], signing_key=other), "kid")


def test_a_malformed_response_is_refused_and_not_echoed_raw(visitor, page):
    _refused(visitor, page, lambda q: "3!200!<b>x</b>!junk", "format")
    query = visitor.start("/integration/login")
    html = visitor.come_back(query["url"], "3!<b>x</b>" + "!" * 12).get_data(as_text=True)
    assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html


@pytest.mark.parametrize("query", ["", "?WLS-Response=a&WLS-Response=b"])
def test_no_or_two_responses_are_refused(visitor, page, query):
    r = visitor.get("/integration/response" + query)
    assert r.status_code == 400
    assert "check format" in page.flashes(r)[0][1]


def test_a_response_must_arrive_by_get(visitor):
    r = visitor.client.post(RESPONSE_URL, data={"WLS-Response": "x"})
    assert r.status_code == 405


def test_a_long_refusal_is_cut_short(visitor, page):
    long_url = "http://127.0.0.1:5000/" + "x" * 3000
    message = _refused(visitor, page, lambda q: make_response(long_url, params=q["params"]),
                       "url")
    assert len(message) < 400 and message.endswith("....")


def tokens(visitor) -> list[str]:
    """The params tokens the hand-written flow has outstanding."""
    return list(State.load(visitor.session().get("integration_tokens")).tokens)


@pytest.mark.parametrize("outcome, kind", [
    ({"principal": "test0003"}, "Done:"),
    ({"status": 410}, "Note:"),
    ({"principal": "test0401", "ptags": set()}, "Error:"),
])
def test_each_kind_of_message_says_its_kind_in_words_not_by_colour_alone(visitor, page,
                                                                         outcome, kind):
    principal = outcome.pop("principal", None)
    args = (principal,) if principal else ()
    r = visitor.login("/integration/login", *args, **outcome)
    (line,) = page.flash_lines(r)
    (_, message), = page.flashes(r)
    assert line == f"{kind} {message}"
    titled_error = re.search(r"<title>Error: ", r.get_data(as_text=True)) is not None
    assert titled_error == (kind == "Error:")
