"""raven.testing's arguments: the types they take, and errors that say why."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from flask import Flask

import raven.demoserver
from raven.flask_glue import AuthDecorator
from raven.testing import LoginFlowError, login, make_response

URL = "http://127.0.0.1/back"


def issue_of(response: str) -> datetime:
    return raven.demoserver.Response(response).issue


def test_issue_in_the_protocols_text_form(raven_response):
    assert issue_of(raven_response(URL, "abc123", issue="20200101T000000Z")) == datetime(2020, 1, 1)


def test_issue_as_a_naive_utc_datetime():
    assert issue_of(make_response(URL, issue=datetime(2021, 2, 3, 4, 5, 6))) == datetime(
        2021, 2, 3, 4, 5, 6)


def test_issue_as_an_aware_datetime_is_turned_into_utc():
    paris_winter = timezone(timedelta(hours=1))
    moment = datetime(2020, 1, 1, 1, 30, tzinfo=paris_winter)
    assert issue_of(make_response(URL, issue=moment)) == datetime(2020, 1, 1, 0, 30)


def test_issue_defaults_to_now():
    before = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
    assert issue_of(make_response(URL)) >= before


@pytest.mark.parametrize("text", ["2020-01-01T00:00:00Z", "20200101T000000", "20201301T000000Z"])
def test_issue_text_in_another_form_is_refused_by_name(raven_response, text):
    with pytest.raises(ValueError) as caught:
        raven_response(URL, issue=text)
    assert str(caught.value) == (
        f"issue={text!r} is not in the protocol's form YYYYMMDDTHHMMSSZ, "
        "e.g. '20200101T000000Z' (UTC)"
    )


@pytest.mark.parametrize(("value", "shown"), [
    (1577836800, "int 1577836800"), (datetime(2020, 1, 1).date(), "date datetime.date(2020, 1, 1)"),
    (b"20200101T000000Z", "bytes b'20200101T000000Z'"),
])
def test_issue_of_another_type_is_refused_by_name(value, shown):
    with pytest.raises(TypeError) as caught:
        make_response(URL, issue=value)
    assert str(caught.value) == (
        "issue must be a datetime (naive UTC, or aware) or text such as "
        f"'20200101T000000Z', not {shown}"
    )


def test_login_passes_a_text_issue_on(raven_login):
    app = Flask(__name__)
    app.config.update(SECRET_KEY="s", TRUSTED_HOSTS=["localhost"], RAVEN_WLS="demo")
    auth = AuthDecorator()

    @app.route("/")
    @auth
    def home():
        return f"issued {auth.issue}"

    moment = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(seconds=3)
    page = raven_login(app.test_client(), "/", issue=f"{moment:%Y%m%dT%H%M%SZ}")
    assert page.status_code == 200
    assert page.text == f"issued {int(moment.timestamp())}"


def test_login_quotes_the_page_when_the_first_answer_is_not_a_redirect():
    app = Flask(__name__)
    app.config.update(SECRET_KEY="s", TRUSTED_HOSTS=["127.0.0.1"], RAVEN_WLS="demo")
    auth = AuthDecorator()

    @app.route("/")
    @auth
    def home():
        return "members"

    with pytest.raises(LoginFlowError) as caught:
        login(app.test_client(), "/")  # the test client says Host: localhost
    message = str(caught.value)
    assert message.startswith("GET / answered 400, not a redirect to the WLS: ")
    assert message.endswith("The page said: \"400 Bad Request Bad Request Host 'localhost' "
                            "is not trusted.\"")


def test_login_quotes_an_unprotected_page_briefly():
    app = Flask(__name__)

    @app.route("/")
    def home():
        return ("<html><head><title>Home</title><style>p {}</style></head><body>\n"
                "<h1>Open   to all</h1>\n<p>" + "word " * 100 + "</p></body></html>")

    with pytest.raises(LoginFlowError) as caught:
        login(app.test_client(), "/")
    said = str(caught.value).split("The page said: ")[1]
    assert said.startswith("'Open to all word word ")
    assert said.endswith("\u2026'") and len(said) == 300 + 2
