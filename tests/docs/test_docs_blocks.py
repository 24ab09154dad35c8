"""Every Python block in docs/ is run as printed by some test of the
suite: here, or by the test named for its page in RUN_ELSEWHERE. A block
nobody runs fails ``test_every_python_block_is_run``, so a new example
cannot go out untested."""

from __future__ import annotations

import doctest
import os
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


#: Blocks another test runs, by page: the test, and which of the page's
#: blocks (None: all; ">>>": its doctest sessions; other text: the blocks
#: holding it). That test names the page (and the text), or this one fails.
RUN_ELSEWHERE: dict[str, tuple[str, str | None]] = {
    "django.md": ("tests/django/test_django_docs.py", None),
    "wsgi.md": ("tests/wsgi/test_wsgi_docs.py", None),
    "pages.md": ("tests/docs/test_doctests.py", None),
    "guard.md": ("tests/docs/test_doctests.py", None),
    "wls-config.md": ("tests/docs/test_doctests.py", ">>>"),
    "protocol.md": ("tests/docs/test_doctests.py", "def response():"),
}
#: Pages run here, block by block (the tests below): how many blocks that is.
RUN_HERE = {"asgi.md": 3, "testing.md": 3, "entra.md": 1, "demo.md": 3, "flask.md": 6,
            "keys.md": 1, "protocol.md": 4, "wls-config.md": 2, "wls.md": 3}


def claimed_elsewhere(page: str, block: str) -> bool:
    if page not in RUN_ELSEWHERE:
        return False
    which = RUN_ELSEWHERE[page][1]
    return which is None or (block.startswith(which) if which == ">>>" else which in block)


def test_every_python_block_is_run():
    pages = {p.name: python_blocks(p.name) for p in DOCS.glob("*.md")}
    pages = {name: blocks for name, blocks in pages.items() if blocks}
    assert set(pages) == set(RUN_ELSEWHERE) | set(RUN_HERE)
    for name, blocks in pages.items():
        here = [block for block in blocks if not claimed_elsewhere(name, block)]
        assert len(here) == RUN_HERE.get(name, 0), name
        assert len(here) < len(blocks) or name not in RUN_ELSEWHERE, name


def test_the_tests_run_elsewhere_name_their_pages():
    root = DOCS.parent
    for page, (test, which) in RUN_ELSEWHERE.items():
        source = (root / test).read_text()
        assert f'"{page}"' in source, (page, test)
        if which not in (None, ">>>"):
            assert which in source, (page, test)
    doctests = (root / "tests/docs/test_doctests.py").read_text()
    sessions = {page for page, (_, which) in RUN_ELSEWHERE.items() if which == ">>>"}
    for page in sessions:  # run by doctest.testfile: the whole page
        assert re.search(rf'parametrize\("page", \[[^]]*"{re.escape(page)}"', doctests), page


# --- asgi.md ---------------------------------------------------------------------------


@pytest.fixture
def asgi_env(monkeypatch):
    monkeypatch.setenv("RAVEN_SECRET_KEY", "a test secret, long enough: not for real")
    monkeypatch.setenv("RAVEN_WLS", "demo")
    monkeypatch.setenv("RAVEN_ORIGIN", "https://www.example.cam.ac.uk")


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


# --- helpers for the pages below ----------------------------------------------------------


def run_session(block: str, globs: dict, name: str) -> dict:
    """Run a ``>>>`` block as a doctest, its printed output checked; its names."""
    test = doctest.DocTestParser().get_doctest(block, globs, name, name, 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test, clear_globs=False)
    assert runner.tries > 0 and runner.failures == 0, name
    return test.globs


def run(block: str, names: dict, page: str) -> dict:
    exec(compile(block, page, "exec"), names)  # our own docs
    return names


class _Rooted:
    """``os`` as :mod:`raven.keys` sees it, with the absolute paths a page
    prints (``/etc/raven/...``) found under a temporary directory instead."""

    def __init__(self, root: Path, prefixes: tuple[str, ...]) -> None:
        self.root, self.prefixes = root, prefixes
        rooted = self

        class _Path:
            def __getattr__(self, attr):
                return getattr(os.path, attr)

            def isdir(self, name):
                return os.path.isdir(rooted.at(name))

        self.path = _Path()

    def at(self, name):
        name = os.fspath(name)
        if isinstance(name, str) and name.startswith(self.prefixes):
            return str(self.root / name.lstrip("/"))
        return name

    def __getattr__(self, attr):
        return getattr(os, attr)

    def stat(self, name):
        return os.stat(self.at(name))

    def listdir(self, name):
        return os.listdir(self.at(name))


@pytest.fixture
def key_files(tmp_path, monkeypatch):
    """``key_files({"/etc/raven/pubkey3.pem": pem, ...})``: the key files a
    page names, where it names them, for raven.keys only."""
    import raven.keys

    def make(files: dict[str, str]) -> None:
        prefixes = tuple({"/" + path.split("/")[1] + "/" for path in files})
        rooted = _Rooted(tmp_path, prefixes)
        for path, pem in files.items():
            target = Path(rooted.at(path))
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(pem)
        monkeypatch.setattr(raven.keys, "os", rooted)
        monkeypatch.setattr(raven.keys, "open", lambda name, mode: open(rooted.at(name), mode),
                            raising=False)

    return make


def test_the_key_files_harness_reads_only_what_it_was_given(key_files):
    from raven.keys import KeyLoadError, load_keys

    key_files({"/etc/raven/keys/pubkey4.pem": TEST_KEYS[4][1]})
    assert sorted(load_keys("/etc/raven/keys")) == ["4"]
    with pytest.raises(KeyLoadError, match="/etc/raven/keys/pubkey5.pem"):
        load_keys("/etc/raven/keys/pubkey5.pem")


def _test_key(kid: int) -> tuple[object, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from raven.keys import SigningKey

    private = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    public = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return SigningKey(private, str(kid)), public.decode("ascii")


#: kid -> (a test key to sign with, its public half's PEM): made once.
TEST_KEYS = {kid: _test_key(kid) for kid in (3, 4, 7)}

SITE = "https://www.your-domain.com"


def flask_names(**config) -> dict:
    """What a Flask page's fragment assumes exists: ``app`` (configured for
    the demo server unless told, at the page's own site), ``AuthDecorator``."""
    from flask import Flask

    from raven.flask_glue import AuthDecorator

    app = Flask("docs_flask")
    app.config.update({"SECRET_KEY": "a docs test secret", "RAVEN_WLS": "demo",
                       "TRUSTED_HOSTS": ["www.your-domain.com"], **config})
    return {"__name__": "docs_flask", "app": app, "AuthDecorator": AuthDecorator}


def protected(names: dict) -> None:
    """The page the prose around a configuration fragment protects."""
    from raven.flask_glue import AuthDecorator

    app = names["app"]
    auth = names.setdefault("auth_decorator", AuthDecorator())
    app.add_url_rule("/", "home", auth(lambda: "You are " + auth.principal))
    app.add_url_rule("/logout", "logout", lambda: auth.logout(), methods=["POST"])


# --- demo.md -------------------------------------------------------------------------------


def test_demo_md_essential_lines_are_the_demos_own():
    essential = python_blocks("demo.md")[0]
    compile(essential, "demo.md", "exec")  # an excerpt, but Python
    source = (Path(__file__).resolve().parents[2] / "src/raven/demo/app.py").read_text()
    source = re.sub(r"\) -> .+:$", "):", source, flags=re.M)  # printed without types
    lines = [line.strip() for line in source.splitlines()]
    at = 0
    for line in essential.splitlines():
        code = line.split("  #", 1)[0].strip()
        if not code or code == "...":
            continue
        assert code in [s.split("  #", 1)[0].strip() for s in lines[at:]], line
        at += [s.split("  #", 1)[0].strip() for s in lines[at:]].index(code) + 1


def test_demo_md_builder_code_is_what_the_builder_shows_and_builds_that_request(capsys):
    from urllib.parse import parse_qs, urlsplit

    from raven.demo.app import python_call
    from raven.services import local_wls

    block = python_blocks("demo.md")[1]
    shown = python_call(local_wls("http://127.0.0.1:5001"), "http://127.0.0.1:5000/inspect",
                        {"desc": "My website", "iact": True, "params": "abc"}, None)
    assert block == shown + "\n"
    run(block, {}, "demo.md")
    url = urlsplit(capsys.readouterr().out.strip())
    assert url.geturl().startswith("http://127.0.0.1:5001/auth/authenticate.html?")
    assert parse_qs(url.query) == {"ver": ["3"], "url": ["http://127.0.0.1:5000/inspect"],
                                   "desc": ["My website"], "iact": ["yes"], "params": ["abc"]}


def test_demo_md_create_app_with_its_defaults():
    from raven.testing import login

    names = run(python_blocks("demo.md")[2], {}, "demo.md")
    app = names["app"]
    assert app.config["RAVEN_WLS"] == "http://127.0.0.1:5001"
    assert app.config["RAVEN_DESC"] == "the python-raven demo"
    assert list(app.config["TRUSTED_HOSTS"]) == ["127.0.0.1"]
    assert app.config["MAX_CONTENT_LENGTH"] == 64 * 1024
    page = login(app.test_client(), "http://127.0.0.1:5000/integration/login", "test0002")
    assert page.status_code == 200
    assert "Logged in as test0002 with Raven (ptags: current)." in page.text


# --- flask.md ------------------------------------------------------------------------------


def test_flask_md_first_app_logs_in_at_its_hosts_only(monkeypatch):
    from raven.testing import login

    # Under test, as testing.md says: not live Raven; from the environment,
    # as the page's own commands set it (its settings are checked at once).
    monkeypatch.setenv("FLASK_RAVEN_WLS", "demo")
    names = run(python_blocks("flask.md")[0], {"__name__": "docs_flask"}, "flask.md")
    app = names["app"]
    for host in ("your-domain.com", "www.your-domain.com"):
        page = login(app.test_client(), f"https://{host}/", "abc123")
        assert page.status_code == 200 and page.text == "You are abc123"
    first = app.test_client().get("https://www.your-domain.com/")
    assert "desc=My+website" in first.location
    assert app.test_client().get("https://evil.example.org/").status_code == 400


def test_flask_md_first_app_refuses_a_bad_setting_when_it_starts(monkeypatch):
    from raven.settings import ConfigurationError

    monkeypatch.setenv("FLASK_RAVEN_WLS", "demo")
    monkeypatch.setenv("FLASK_RAVEN_IACT", "maybe")
    with pytest.raises(ConfigurationError, match="iact"):
        run(python_blocks("flask.md")[0], {"__name__": "docs_flask"}, "flask.md")


def test_flask_md_every_request_is_protected():
    from raven.testing import login

    names = flask_names()
    app = run(python_blocks("flask.md")[1], names, "flask.md")["app"]
    app.add_url_rule("/other", "other", lambda: "other")
    client = app.test_client()
    assert client.get(SITE + "/other").status_code == 303
    page = login(client, SITE + "/", "abc123")
    assert page.text == "You are abc123"
    assert client.get(SITE + "/other").text == "other"


def test_flask_md_check_authorised_lets_in_the_staff_list_only():
    from raven.testing import login

    names = {**flask_names(), "load_staff_list": lambda: {"abc123"}}
    run(python_blocks("flask.md")[2], names, "flask.md")
    names["auth_decorator"] = names["StaffOnly"]()
    protected(names)
    app = names["app"]
    assert login(app.test_client(), SITE + "/", "abc123").text == "You are abc123"
    assert login(app.test_client(), SITE + "/", "xyz999").status_code == 403


def test_flask_md_session_new_clears_the_previous_users_session():
    from flask import session

    from raven.testing import login

    names = flask_names()
    run(python_blocks("flask.md")[3], names, "flask.md")
    names["auth_decorator"] = names["Decorator"]()
    protected(names)
    app = names["app"]
    app.add_url_rule("/basket", "basket", lambda: session.setdefault("basket", "abc123's"))
    client = app.test_client()
    assert login(client, SITE + "/", "abc123").text == "You are abc123"
    client.get(SITE + "/basket")
    with client.session_transaction(base_url=SITE) as kept:
        assert kept["basket"] == "abc123's"
    client.post(SITE + "/logout")
    assert login(client, SITE + "/", "xyz999").text == "You are xyz999"
    with client.session_transaction(base_url=SITE) as kept:
        assert "basket" not in kept


def test_flask_md_logout_is_a_post_with_a_csrf_token():
    from raven.testing import login

    names = flask_names()
    names["auth_decorator"] = names["AuthDecorator"]()
    app = names["app"]
    app.add_url_rule("/", "home", names["auth_decorator"](lambda: "home"))
    run(python_blocks("flask.md")[4], names, "flask.md")
    client = app.test_client()
    assert login(client, SITE + "/", "abc123").text == "home"
    form = client.get(SITE + "/logout")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    assert client.post(SITE + "/logout", data={"csrf": "forged"}).status_code == 400
    assert client.get(SITE + "/").text == "home"  # still logged in
    out = client.post(SITE + "/logout", data={"csrf": token})
    assert out.status_code == 303
    assert out.location.startswith("https://demo.raven.cam.ac.uk/auth/logout.html")
    assert client.get(SITE + "/").status_code == 303  # logged out here


def test_flask_md_behind_a_proxy_the_stated_origin_is_used():
    from raven.testing import login

    names = flask_names(TRUSTED_HOSTS=None)
    app = names["app"]
    protected(names)
    run(python_blocks("flask.md")[5], names, "flask.md")
    proxied = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "www.your-domain.com",
               "X-Forwarded-For": "192.0.2.1"}
    client = app.test_client()
    client.environ_base.update({"HTTP_" + k.upper().replace("-", "_"): v
                                for k, v in proxied.items()})
    plain = "http://www.your-domain.com/"  # TLS ended at the proxy
    first = client.get(plain)
    assert first.status_code == 303
    assert "url=https%3A%2F%2Fwww.your-domain.com%2F" in first.location
    assert login(client, plain, "abc123").text == "You are abc123"
    assert app.test_client().get(plain).status_code == 400  # no proxy: plain http, refused
    lying = app.test_client()
    lying.environ_base.update(HTTP_X_FORWARDED_PROTO="https",
                              HTTP_X_FORWARDED_HOST="evil.example.org")
    assert lying.get(plain).status_code == 400


# --- keys.md and protocol.md: key files ------------------------------------------------------


def test_keys_md_load_keys_every_form(key_files):
    from raven import PUBKEY2
    from raven.errors import UnknownKeyError
    from raven.testing import make_response

    signer, pem = TEST_KEYS[3]
    key_files({"/etc/raven/keys/pubkey2.crt": PUBKEY2, "/etc/raven/pubkey2.crt": PUBKEY2,
               "/etc/raven/next-key.pem": pem, "/etc/raven/pubkey3.crt": pem})
    block = python_blocks("keys.md")[0]
    string = make_response("https://www.example.cam.ac.uk/", "spqr2", signing_key=signer)
    names = run(block, {"string": string}, "keys.md")
    assert sorted(names["keys"]) == ["2", "3"]
    other = make_response("https://www.example.cam.ac.uk/", "spqr2",
                          signing_key=TEST_KEYS[4][0])
    with pytest.raises(UnknownKeyError):
        run(block, {"string": other}, "keys.md")  # kid 4: in none of them


def test_protocol_md_a_response_class_with_its_own_keys(key_files):
    from raven.errors import SignatureError
    from raven.keys import load_keys
    from raven.testing import make_response

    signer, pem = TEST_KEYS[3]
    key_files({"/etc/raven/keys/pubkey3.pem": pem})
    block = python_blocks("protocol.md")[4]
    string = make_response("https://www.example.cam.ac.uk/", "spqr2", signing_key=signer)
    names = run(block, {"string": string, "my_keyring": load_keys({"3": pem})}, "protocol.md")
    assert names["MyResponse"](string).principal == "spqr2"
    other, _ = _test_key(3)  # kid 3, but not the key trusted
    forged = make_response("https://www.example.cam.ac.uk/", "spqr2", signing_key=other)
    with pytest.raises(SignatureError):
        names["MyResponse"](forged)
    with pytest.raises(SignatureError):
        run(block, {"string": forged, "my_keyring": load_keys({"3": pem})}, "protocol.md")


# --- protocol.md ----------------------------------------------------------------------------


def test_protocol_md_request_session():
    from urllib.parse import parse_qs, urlsplit

    globs = run_session(python_blocks("protocol.md")[0], {}, "protocol.md")
    query = parse_qs(urlsplit(str(globs["r"])).query)
    assert query == {"ver": ["3"], "url": ["https://www.example.cam.ac.uk/members/"],
                     "desc": ["My website"], "aauth": ["pwd"], "iact": ["yes"],
                     "msg": ["to change your settings"], "params": ["a-random-token"]}
    # fail=False: the WLS's default, so not sent


def test_protocol_md_response_session_in_a_view():
    from flask import Flask, request

    from raven.testing import demo_server_as_live, make_response

    block = python_blocks("protocol.md")[1]
    text = make_response("https://www.example.cam.ac.uk/", "spqr2")
    with Flask("docs_protocol").test_request_context(query_string={"WLS-Response": text}):
        with demo_server_as_live():  # live Raven's key cannot be used here
            run_session(block, {"request": request}, "protocol.md")


def test_protocol_md_validate_response_options():
    from datetime import datetime, timedelta, timezone

    import raven
    from raven.errors import IssueTimeError
    from raven.testing import make_response

    block = python_blocks("protocol.md")[3]
    url = "https://www.example.cam.ac.uk/members/"
    names = {"raven": raven, "validate_response": raven.validate_response,
             "the_url_you_sent": url, "text": make_response(url, "spqr2")}
    assert run(block, names, "protocol.md")["r"].principal == "spqr2"
    now = datetime.now(timezone.utc)
    names["text"] = make_response(url, "spqr2", issue=now - timedelta(seconds=20))
    assert run(block, names, "protocol.md")["r"].principal == "spqr2"
    names["text"] = make_response(url, "spqr2", issue=now - timedelta(seconds=40))
    with pytest.raises(IssueTimeError):  # beyond 20 s + 5 s of skew
        run(block, names, "protocol.md")


# --- wls-config.md ----------------------------------------------------------------------------


def test_wls_config_md_a_local_wls_with_its_own_key(key_files):
    from raven.testing import login

    signer, pem = TEST_KEYS[7]
    key_files({"/tmp/test-wls/pubkey7.pem": pem})
    names = flask_names()
    protected(names)
    app = run(python_blocks("wls-config.md")[1], names, "wls-config.md")["app"]
    first = app.test_client().get(SITE + "/")
    assert first.location.startswith("http://127.0.0.1:5002/test/authenticate?")
    page = login(app.test_client(), SITE + "/", "abc123", signing_key=signer)
    assert page.text == "You are abc123"
    assert login(app.test_client(), SITE + "/", "abc123").status_code == 400  # demo key


def test_wls_config_md_a_societys_own_server(key_files):
    from raven.testing import login

    signer, pem = TEST_KEYS[4]
    key_files({"/etc/ucam-webauth/society-keys/pubkey4.crt": pem})
    names = flask_names()
    protected(names)
    app = run(python_blocks("wls-config.md")[2], names, "wls-config.md")["app"]
    client = app.test_client()
    first = client.get(SITE + "/")
    assert first.location.startswith("https://wls.society.example.org/webauth/authenticate?")
    assert login(client, SITE + "/", "abc123", signing_key=signer).text == "You are abc123"
    out = client.post(SITE + "/logout")
    assert out.location.startswith("https://wls.society.example.org/webauth/logout")
    assert login(app.test_client(), SITE + "/", "abc123").status_code == 400  # demo key


# --- wls.md -----------------------------------------------------------------------------------


def test_wls_md_one_setting_points_the_app_at_the_local_wls():
    from raven.testing import login

    names = flask_names()
    protected(names)
    app = run(python_blocks("wls.md")[0], names, "wls.md")["app"]
    client = app.test_client()
    assert client.get(SITE + "/").location.startswith(
        "http://127.0.0.1:5001/auth/authenticate.html?")
    assert login(client, SITE + "/", "test0001").text == "You are test0001"  # kid 901
    assert client.post(SITE + "/logout").location.startswith(
        "http://127.0.0.1:5001/auth/logout.html")
    signer, _ = TEST_KEYS[3]
    assert login(app.test_client(), SITE + "/", "x", signing_key=signer).status_code == 400


def test_wls_md_without_the_glue():
    from raven.testing import make_response

    back = "http://127.0.0.1:5000/login"
    names = run(python_blocks("wls.md")[1], {"wls_response": make_response(back, "test0003")},
                "wls.md")
    assert str(names["request"]).startswith("http://127.0.0.1:5001/auth/authenticate.html?")
    assert names["response"].principal == "test0003"


def test_wls_md_serving_the_wls_in_a_test():
    names = run(python_blocks("wls.md")[2], {}, "wls.md")
    page = names["page"]
    assert page.status_code == 200
    assert "http://127.0.0.1:5000/" in page.text and 'type="password"' in page.text
