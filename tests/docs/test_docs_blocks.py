"""Every Python block in docs/ is run as printed by some test of the
suite: here, or by the test named for its page in RUN_ELSEWHERE. A block
nobody runs fails ``test_every_python_block_is_run``, so a new example
cannot go out untested."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

DOCS = Path(__file__).resolve().parents[2] / "docs"


def python_blocks(page: str) -> list[str]:
    """The page's Python blocks, less the logging block (run by its own test)."""
    found = re.findall(r"^```python\n(.*?)^```$", (DOCS / page).read_text(), re.S | re.M)
    return [block for block in found if not block.startswith("import logging")]


def logging_blocks() -> dict[str, str]:
    found = {}
    for page in DOCS.glob("*.md"):
        for block in re.findall(r"^```python\n(.*?)^```$", page.read_text(), re.S | re.M):
            if block.startswith("import logging"):
                found[page.name] = block
    return found


#: Pages whose every Python block another test runs (and checks it runs all).
RUN_ELSEWHERE = {
    "django.md": "tests/django/test_django_docs.py",
    "wsgi.md": "tests/wsgi/test_wsgi_docs.py",
    "pages.md": "tests/docs/test_doctests.py",
    "guard.md": "tests/docs/test_doctests.py",
}
#: Pages run here, block by block (the tests below).
RUN_HERE = {"asgi.md": 3, "testing.md": 3, "entra.md": 1}
#: Blocks not yet run as printed, by page: the number of them. Shrink it.
NOT_YET = {
    "demo.md": 3, "flask.md": 6, "keys.md": 1, "protocol.md": 5, "wls-config.md": 4,
    "wls.md": 3,
}


def test_every_python_block_is_run():
    pages = {p.name: len(python_blocks(p.name)) for p in DOCS.glob("*.md")}
    pages = {name: count for name, count in pages.items() if count}
    claimed = {**dict.fromkeys(RUN_ELSEWHERE, None), **RUN_HERE, **NOT_YET}
    assert set(pages) == set(claimed)
    for name, count in {**RUN_HERE, **NOT_YET}.items():
        assert pages[name] == count, name


# --- asgi.md ---------------------------------------------------------------------------


@pytest.fixture
def asgi_env(monkeypatch):
    monkeypatch.setenv("RAVEN_SECRET_KEY", "a test secret, long enough: not for real")
    monkeypatch.setenv("RAVEN_WLS", "demo")


def test_asgi_starlette_app_logs_in(asgi_env):
    from starlette.testclient import TestClient

    from raven.testing import login

    first = python_blocks("asgi.md")[0]
    names: dict = {}
    exec(compile(first, "asgi.md", "exec"), names)
    client = TestClient(names["app"], base_url="https://www.example.cam.ac.uk")
    page = login(client, "https://www.example.cam.ac.uk/", "abc123")
    assert page.status_code == 200 and page.text == "Hello, abc123"


def test_asgi_fastapi_app_and_its_test(asgi_env):
    fastapi_app, test = python_blocks("asgi.md")[1:]
    names: dict = {}
    exec(compile(fastapi_app, "asgi.md", "exec"), names)
    exec(compile(test, "asgi.md", "exec"), names)  # its own assert: the staff page, a 200
    assert names["page"].json() is None  # the staff view's body: `...`


# --- testing.md ------------------------------------------------------------------------


def test_testing_md_app_and_its_tests_pass(pytester):
    app, tests, django = python_blocks("testing.md")
    pytester.makepyfile(example_app=app, test_example=tests)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "test_example.py")
    result.assert_outcomes(passed=3)
    # the third is the Django example of django.md, run by its test there
    assert django.split("\n", 1)[1] in "".join(python_blocks("django.md"))


# --- the logging block of flask.md, wsgi.md and asgi.md -----------------------------------

SHOW = """\
from flask import Flask
from raven.flask_glue import AuthDecorator
from raven.testing import login

app = Flask(__name__)
app.config.update(SECRET_KEY="s", TRUSTED_HOSTS=["localhost"], RAVEN_WLS="demo")
auth = AuthDecorator()
app.add_url_rule("/", "home", auth(lambda: "home"))
assert login(app.test_client(), "/", "abc123").status_code == 200
"""


def test_the_logging_block_shows_raven_info_lines():
    blocks = logging_blocks()
    assert sorted(blocks) == ["asgi.md", "flask.md", "wsgi.md"]
    assert len(set(blocks.values())) == 1  # one block, printed three times
    program = blocks["asgi.md"] + "\n" + textwrap.dedent(SHOW)
    run = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                         timeout=120, check=True)
    assert "INFO raven: 'abc123' logged in (ptags " in run.stderr
    without = subprocess.run([sys.executable, "-c", SHOW], capture_output=True, text=True,
                             timeout=120, check=True)
    assert "logged in" not in without.stderr  # what the block is for


# --- entra.md ---------------------------------------------------------------------------


def test_entra_flask_app_goes_to_the_universitys_tenant(monkeypatch):
    monkeypatch.setenv("FLASK_SECRET_KEY", "a docs test secret")
    monkeypatch.setenv("RAVEN_OIDC_CLIENT_ID", "00000000-0000-4000-8000-000000000001")
    monkeypatch.setenv("RAVEN_OIDC_CLIENT_SECRET", "a docs test client secret")
    (block,) = python_blocks("entra.md")
    names: dict[str, object] = {"__name__": "entra_docs"}
    exec(compile(block, "entra.md", "exec"), names)
    r = names["app"].test_client().get("https://your.site.cam.ac.uk/")  # type: ignore[attr-defined]
    assert r.status_code == 303
    assert r.location.startswith("https://login.microsoftonline.com/"
                                 "49a50445-bdfa-4b79-ade3-547b4f3986e9/oauth2/v2.0/authorize?")
