"""python-ucam-webauth's extension points on AuthDecorator's classes: each
one the login flow uses, or init_app refuses it, saying what replaces it."""

from __future__ import annotations

import pytest

from raven import demoserver
from raven.flask_glue import AuthDecorator, ConfigurationError
from raven.protocol import RAVEN_DEMO_AUTH
from raven.testing import make_response


class DemoDecorator(AuthDecorator):
    request_class = demoserver.Request
    response_class = demoserver.Response
    logout_url = demoserver.RAVEN_DEMO_LOGOUT


class WithX509(demoserver.Response):
    __slots__ = ()
    known_atypes = frozenset({"pwd", "x509"})


class X509Decorator(DemoDecorator):
    response_class = WithX509


class OldPtags(demoserver.Response):
    __slots__ = ()
    old_version_ptags = frozenset({"current", "staff"})


class OldPtagsDecorator(DemoDecorator):
    response_class = OldPtags


def come_back_with(browser, path="/", **fields):
    url, params, _ = browser.start(path)
    return url, browser.come_back(url, make_response(url, params=params, **fields))


@pytest.mark.parametrize(("decorator", "code"), [(DemoDecorator, 400), (X509Decorator, 303)])
def test_known_atypes_of_response_class(make_app, browser_for, drop, decorator, code):
    app, _ = make_app(decorator(), RAVEN_WLS=drop)
    browser = browser_for(app)
    url, r = come_back_with(browser, auth="x509")
    assert r.status_code == code
    if code == 303:
        assert browser.get("/").get_data(as_text=True) == "You are test0001"
        assert browser.state["auth"] == "x509"


def test_known_atypes_when_a_page_asks_for_a_type(make_app, browser_for, drop):
    """A stored login is re-checked, on a page that sets iact, with the
    same known types as the response was."""
    app, _ = make_app(X509Decorator(iact=True), RAVEN_WLS=drop)
    browser = browser_for(app)
    _, r = come_back_with(browser, auth="x509")
    assert r.status_code == 303
    assert browser.get("/").status_code == 200
    other = browser_for(app)
    _, refused = come_back_with(other, auth=None, sso=["x509"])  # not typed now
    assert refused.status_code == 400


@pytest.mark.parametrize(("decorator", "code"), [(DemoDecorator, 403), (OldPtagsDecorator, 200)])
def test_old_version_ptags_of_response_class(make_app, browser_for, drop, decorator, code):
    app, _ = make_app(decorator(require_ptags={"staff"}), RAVEN_WLS=drop)
    browser = browser_for(app)
    _, r = come_back_with(browser, ver=2)
    assert r.status_code == 303
    assert browser.get("/").status_code == code


def test_keys_and_wls_url_of_the_classes(make_app, browser_for, drop):
    app, _ = make_app(X509Decorator(), RAVEN_WLS=drop)
    browser = browser_for(app)
    assert browser.get("/").location.startswith(RAVEN_DEMO_AUTH + "?")
    assert browser.login("/").status_code == 200


class OwnCheck(demoserver.Response):
    __slots__ = ()

    def check_iact_aauth(self, iact, aauth):
        return self.principal != "test0002"


class OwnURL(demoserver.Request):
    def __str__(self):
        return "https://wls.example.org/auth?" + "&".join(self.query())


class OldStyleResponse:  # python-ucam-webauth's Response is no raven.Response
    keys: dict = {}


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        ({"response_class": OwnCheck},
         r"OwnCheck\) overrides check_iact_aauth, .*RAVEN_AAUTH, RAVEN_IACT.*check_authorised"),
        ({"request_class": OwnURL}, r"OwnURL\) overrides __str__, .*wls_url"),
        ({"response_class": type("Parsing", (demoserver.Response,), {"_parse": None})},
         r"overrides _parse, .*uses only keys, known_atypes, old_version_ptags"),
        ({"response_class": OldStyleResponse}, "must be raven.Response or a subclass"),
    ],
)
def test_ignored_overrides_refused_at_start_up(make_app, drop, attributes, message):
    decorator = type("Custom", (DemoDecorator,), attributes)()
    app, _ = make_app(decorator, RAVEN_WLS=drop)
    with pytest.raises(ConfigurationError, match=message):
        decorator.init_app(app)
