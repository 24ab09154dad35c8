"""A new user's first hour, for each framework, from the docs alone.

For each framework's page in docs/, a fresh virtual environment holds
what the page's ``pip install`` line names (that framework's extra and the
``dev`` extra, from one wheel of this project built per session, and a
server where the page installs one), and nothing of this checkout. The
page's quick start is written out as printed, the page's shell commands
run as printed (the local test WLS with ``raven wls`` and the app under
the page's server, on free ports in place of the page's 5001 and 8000),
and a headless Chromium logs in through the WLS's form, each page it
reaches checked with axe-core.

The environments come from the package index, through uv and its cache
(warm, a few seconds for them all, built side by side). Without the
network they cannot be made: the tests skip here, and fail on CI.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.support.ui import WebDriverWait
from tests.e2e.conftest import axe_source, axe_violations, browser, submit_login
from tests.optional import missing, require

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
#: The ports the pages print: the local test WLS's default, and the app's.
WLS_PORT_IN_DOCS, SITE_PORT_IN_DOCS = 5001, 8000
#: Names the pages' servers read that a developer's shell may have set.
FOREIGN = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "DJANGO_SETTINGS_MODULE",
           "PYTEST_ADDOPTS")

pytestmark = [pytest.mark.browser, pytest.mark.packaging]

__all__ = ["axe_source", "browser"]  # fixtures, used by name


def fenced(page: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```$", (DOCS / page).read_text(), re.S | re.M)


def python_block(page: str, first_line: str) -> str:
    """The page's one Python block that begins with ``first_line``."""
    [block] = [b for b in fenced(page, "python") if b.startswith(first_line)]
    return block


def commands(page: str) -> str:
    """The page's one shell block that installs the package and runs ``raven wls``."""
    [block] = [b for b in fenced(page, "sh")
               if "pip install 'ucam-raven[" in b and "raven wls &" in b]
    return block


def install_lines(block: str) -> list[list[str]]:
    """Each ``pip install`` line of a shell block: what it installs."""
    return [shlex.split(line, comments=True)[2:] for line in block.splitlines()
            if line.startswith("pip install ")]


def on_ports(text: str, wls_port: int, site_port: int) -> str:
    """``text`` with the pages' ports moved to free ones."""
    text = re.sub(r"^raven wls\b", f"raven wls --port {WLS_PORT_IN_DOCS}", text, flags=re.M)
    text = re.sub(rf"\b{WLS_PORT_IN_DOCS}\b", str(wls_port), text)
    return re.sub(rf"\b{SITE_PORT_IN_DOCS}\b", str(site_port), text)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- the environments ------------------------------------------------------------------

#: The pages with a quick start and commands to run it; one environment each.
PAGES = ("flask.md", "wsgi.md", "asgi.md", "django.md")


def make_environment(uv: str, where: Path, wheel: Path, block: str) -> Path:
    """A new environment holding what ``block``'s pip lines name, the
    package from ``wheel``; its bin directory."""
    subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, where],
                   check=True, capture_output=True, timeout=120)
    python = where / "bin" / "python"
    for wanted in install_lines(block):
        wanted = [re.sub(r"^ucam-raven(?=\[)", str(wheel), name) for name in wanted]
        done = subprocess.run([uv, "pip", "install", "--quiet", "--python", python, *wanted],
                              capture_output=True, text=True, timeout=300)
        if done.returncode:
            raise OSError(f"uv pip install {' '.join(wanted)}:\n{done.stderr}")
    found = subprocess.run([python, "-c", "import raven; print(raven.__file__)"],
                           capture_output=True, text=True, check=True, timeout=60)
    assert Path(found.stdout.strip()).is_relative_to(where), "not the wheel: " + found.stdout
    return where / "bin"


@pytest.fixture(scope="session")
def environments(tmp_path_factory) -> dict[str, Path]:
    """Each page's environment (its bin directory), built side by side
    from one wheel of this checkout."""
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--wheel", "--outdir",
                    dist, ROOT], check=True, capture_output=True, timeout=180)
    (wheel,) = dist.glob("*.whl")
    uv = require("uv", "the test extra installs it (pip install -e '.[test]')").find_uv_bin()
    started = time.monotonic()
    with ThreadPoolExecutor(len(PAGES)) as pool:
        futures = {page: pool.submit(make_environment, uv, tmp_path_factory.mktemp("venv"),
                                     wheel, commands(page)) for page in PAGES}
        failures = {page: f.exception() for page, f in futures.items() if f.exception()}
    if failures:  # most likely no network: nothing else needs the package index
        missing("a fresh environment could not be made from the package index: "
                + "; ".join(f"{page}: {exc}" for page, exc in failures.items()))
    print(f"\nfresh environments: {time.monotonic() - started:.1f} s")
    return {page: future.result() for page, future in futures.items()}


# --- the commands, as printed -----------------------------------------------------------


class Served:
    """A page's shell commands, less its pip lines, run by bash in
    ``project``: the WLS in the background, the app's server in front."""

    def __init__(self, bin_dir: Path, project: Path, block: str,
                 ports: tuple[int, int] | None = None) -> None:
        self.wls_port, self.site_port = ports or (free_port(), free_port())
        self.wls = f"http://127.0.0.1:{self.wls_port}"
        self.site = f"http://127.0.0.1:{self.site_port}"
        script = "\n".join(line for line in block.splitlines()
                           if not line.startswith("pip install "))
        env = {k: v for k, v in os.environ.items()
               if k not in FOREIGN and not k.startswith(("RAVEN_", "FLASK_"))}
        env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"  # as after activating it
        self.log = project / "served.log"
        with self.log.open("w") as log:
            # A session of its own: the servers bash starts are stopped with it.
            self.process = subprocess.Popen(
                ["bash", "-e", "-c", on_ports(script, self.wls_port, self.site_port)],
                cwd=project, env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)

    def wait_until_up(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        waiting = [self.wls, self.site]
        while waiting:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"not served ({waiting}):\n{self.log.read_text()}")
            try:
                # a server may take connections before it can answer
                requests.get(waiting[0] + "/", allow_redirects=False, timeout=30)
                waiting.pop(0)
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.1)

    def stop(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)


# --- Django: a new project with the quick start added -------------------------------------


def partial_lists(block: str) -> set[str]:
    """Names the block prints as lists to add to: those with a ``# ...`` line."""
    return {name for name, body in re.findall(r"^(\w+) = \[\n(.*?)^\]", block, re.S | re.M)
            if re.search(r"^\s*# \.\.\.", body, re.M)}


def with_settings_added(settings: str, block: str) -> str:
    """``settings`` with ``block`` added as a reader adds it: a list printed
    with ``# ...`` keeps the project's entries, each of the block's going in
    after the entry it follows in the block; every other name as printed."""
    project: dict = {"__file__": "settings.py"}
    exec(settings, project)  # Django's own template
    printed: dict = {}
    exec(block, printed)  # our own docs
    merged = []
    for name in sorted(partial_lists(block)):
        entries = list(project[name])
        at = len(entries) - 1
        for entry in printed[name]:
            if entry in entries:
                at = entries.index(entry)
            else:
                at += 1
                entries.insert(at, entry)
        merged.append(f"{name} = {entries!r}")
    return "\n\n".join([settings, block, "\n".join(merged), ""])


def django_project(bin_dir: Path, project: Path, wls_port: int, site_port: int) -> None:
    """``django-admin startproject mysite .`` with django.md's quick start
    added where the page says, and its settings for your machine."""
    page = "django.md"
    subprocess.run([bin_dir / "django-admin", "startproject", "mysite", "."], cwd=project,
                   check=True, capture_output=True, timeout=60)
    settings = project / "mysite" / "settings.py"
    settings.write_text(with_settings_added(settings.read_text(),
                                            python_block(page, "INSTALLED_APPS")) + "\n"
                        + on_ports(python_block(page, "# on your machine"), wls_port,
                                   site_port))
    (project / "mysite" / "views.py").write_text(
        python_block(page, "from django.contrib.auth.decorators"))
    urls = project / "mysite" / "urls.py"
    urls.write_text(urls.read_text() + "\nproject_urlpatterns = urlpatterns\n\n"
                    + python_block(page, "from django.urls import include")
                    + "\nfrom . import views\n\n"  # what the page says to add, by hand
                    + 'urlpatterns = [*project_urlpatterns, *urlpatterns, '
                    'path("", views.members)]\n')


# --- the journeys ---------------------------------------------------------------------------


def shown(driver) -> str:
    return driver.execute_script("return document.body ? document.body.innerText : ''")


def reach(driver, words: str, axe: str | None = None) -> str:
    """Wait for a page showing ``words``; with ``axe`` (axe-core's source),
    check the page with it."""
    WebDriverWait(driver, 15, ignored_exceptions=(WebDriverException,)).until(
        lambda d: words in shown(d), f"{words!r} never shown")
    if axe is not None:
        assert axe_violations(driver, axe) == [], driver.current_url
    return shown(driver)


def log_in(driver, axe: str, served: Served, path: str = "/") -> str:
    """Open the site's page, log in at the WLS; the page the app then shows.
    Every page of raven's or the WLS's on the way is checked with axe-core."""
    driver.delete_all_cookies()
    driver.get(served.site + path)
    reach(driver, "Log in to the test web login service", axe)
    assert driver.current_url.startswith(served.wls + "/auth/authenticate.html?")
    submit_login(driver)
    WebDriverWait(driver, 15).until(lambda d: d.current_url.startswith(served.site))
    # The app's answer is the quick start's own one line (JSON, plain text or
    # a bare string), not a page of ours: it must name the user, not pass axe.
    return reach(driver, "test0001")


#: Each quick start: its page, the block that begins it, and what the app
#: shows the user once logged in.
QUICK_STARTS = {
    "flask": ("flask.md", "import flask\n", "You are test0001"),
    "wsgi": ("wsgi.md", "import os\nfrom raven.wsgi", "Hello, test0001"),
    "fastapi": ("asgi.md", "import os\nfrom typing import Annotated", '"hello":"test0001"'),
    "starlette": ("asgi.md", "import os\n\nfrom starlette", "Hello, test0001"),
}


@pytest.mark.parametrize("framework", sorted(QUICK_STARTS))
def test_the_quick_start_logs_in_from_a_fresh_environment(framework, environments, browser,
                                                          axe_source, tmp_path):
    page, first_line, greeting = QUICK_STARTS[framework]
    (tmp_path / "yourapp.py").write_text(python_block(page, first_line))
    served = Served(environments[page], tmp_path, commands(page))
    try:
        served.wait_until_up()
        assert greeting in log_in(browser, axe_source, served), served.log.read_text()
        assert browser.current_url == served.site + "/"
    finally:
        served.stop()


def test_the_django_quick_start_logs_in_from_a_fresh_environment(environments, browser,
                                                                 axe_source, tmp_path):
    block = commands("django.md")
    wls_port, site_port = free_port(), free_port()  # first: the settings name them
    django_project(environments["django.md"], tmp_path, wls_port, site_port)
    served = Served(environments["django.md"], tmp_path, block, ports=(wls_port, site_port))
    try:
        served.wait_until_up()
        assert "Hello, test0001" in log_in(browser, axe_source, served), served.log.read_text()
        assert browser.current_url == served.site + "/"
    finally:
        served.stop()


def test_each_page_installs_its_framework_and_the_dev_extra_only():
    wanted = {page: install_lines(commands(page)) for page in PAGES}
    assert wanted == {
        "flask.md": [["ucam-raven[flask,dev]"]],
        "wsgi.md": [["ucam-raven[wsgi,dev]", "gunicorn"]],
        "asgi.md": [["ucam-raven[fastapi,dev]"]],
        "django.md": [["ucam-raven[django,dev]"]],
    }
