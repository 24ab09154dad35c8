"""The seed's two decorator snippets, run as written (with the lines lost
from the web page restored: the route and decorator lines, app.run())."""

from __future__ import annotations

import types
from urllib.parse import parse_qs, urlsplit

import pytest

from raven.protocol import RAVEN_AUTH
from raven.testing import make_response

USING_THE_DECORATOR = '''
import flask
from flask import Flask
from raven.flask_glue import AuthDecorator

# Werkzeug deduces the hostname from the 'Host' or
# 'X-Forwarded-Host' headers, so we need a whitelist
class R(flask.Request):
    trusted_hosts = {'your-domain.com', 'www.your-domain.com'}

app = Flask(__name__)
app.request_class = R
app.secret_key = "a secret key"
auth_decorator = AuthDecorator(desc="My website")

@app.route("/")
@auth_decorator
def my_view():
    return "You are " + auth_decorator.principal

if __name__ == '__main__':
    app.run()
'''

ALL_REQUESTS = '''
import flask
from flask import Flask
from raven.flask_glue import AuthDecorator

# Werkzeug deduces the hostname from the 'Host' or
# 'X-Forwarded-Host' headers, so we need a whitelist
class R(flask.Request):
    trusted_hosts = {'your-domain.com', 'www.your-domain.com'}

app = Flask(__name__)
app.request_class = R
app.secret_key = "a secret key"
auth_decorator = AuthDecorator()
app.before_request(auth_decorator.before_request)

@app.route("/")
def home():
    return "You are " + auth_decorator.principal

if __name__ == '__main__':
    app.run()
'''

SNIPPETS = [pytest.param(USING_THE_DECORATOR, id="decorator"),
            pytest.param(ALL_REQUESTS, id="before_request")]


def run(snippet: str) -> types.ModuleType:
    module = types.ModuleType("seed_snippet")  # not __main__: app.run() stays put
    exec(compile(snippet, "<seed>", "exec"), module.__dict__)
    return module


@pytest.mark.parametrize("snippet", SNIPPETS)
def test_snippet_as_written_sends_people_to_live_raven(snippet):
    app = run(snippet).app
    client = app.test_client()
    r = client.get("/", base_url="http://www.your-domain.com")
    assert r.status_code == 303
    parts = urlsplit(r.location)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == RAVEN_AUTH
    query = parse_qs(parts.query)
    assert query["url"] == ["http://www.your-domain.com/"]
    if snippet is USING_THE_DECORATOR:
        assert query["desc"] == ["My website"]
    # the whitelist in the snippet is what makes the Host header safe
    assert client.get("/", base_url="http://evil.example.com").status_code == 400
    # and, being live, a response signed with the published demo key is worthless
    url = query["url"][0]
    response = make_response(url, params=query["params"][0])
    r = client.get(url, query_string={"WLS-Response": response},
                   base_url="http://www.your-domain.com")
    assert r.status_code == 400
    assert client.get("/", base_url="http://www.your-domain.com").status_code == 303


@pytest.mark.parametrize("snippet", SNIPPETS)
def test_snippet_logs_in_against_a_test_wls(snippet):
    """Deployed with RAVEN_WLS pointing at a local test WLS, unchanged code
    completes a login with a genuinely signed response."""
    app = run(snippet).app
    app.config["RAVEN_WLS"] = "http://127.0.0.1:5001"
    client = app.test_client()
    r = client.get("/", base_url="http://your-domain.com")
    query = parse_qs(urlsplit(r.location).query)
    url, params = query["url"][0], query["params"][0]
    r = client.get(url, query_string={"WLS-Response": make_response(url, params=params)},
                   base_url="http://your-domain.com")
    assert (r.status_code, r.location) == (303, "http://your-domain.com/")
    r = client.get("/", base_url="http://your-domain.com")
    assert (r.status_code, r.data) == (200, b"You are test0001")
