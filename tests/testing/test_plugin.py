"""The pytest plugin is registered by installation and its fixtures work."""

import re

import requests

import raven.demoserver
from raven.testing import make_response

pytest_plugins = ["pytester"]


def test_fixtures_arrive_through_the_entry_point(pytester):
    pytester.makepyfile(
        """
        def test_uses_them(raven_login, raven_response, raven_wls):
            assert callable(raven_login) and callable(raven_response)
            assert raven_wls.startswith("http://127.0.0.1:")
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_raven_wls_is_a_live_server_that_signs_with_the_demo_key(raven_wls):
    http = requests.Session()
    url = "http://127.0.0.1:9/back"
    page = http.get(raven_wls + "/auth/authenticate.html", params={"ver": "3", "url": url})
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    form = {"ver": "3", "url": url, "userid": "test0002", "pwd": "test", "csrf_token": token}
    answer = http.post(raven_wls + "/auth/authenticate.html", data=form, allow_redirects=False)
    assert answer.status_code == 303
    wls_response = requests.utils.unquote(answer.headers["Location"].split("WLS-Response=")[1])
    r = raven.validate_response(wls_response, url, response_class=raven.demoserver.Response)
    assert r.principal == "test0002" and r.ptags == {"current"}


def test_raven_response_fixture_mints_verifiable_responses(raven_response):
    assert raven.demoserver.Response(raven_response("http://h/", "abc123")).principal == "abc123"
    assert raven_response is make_response
