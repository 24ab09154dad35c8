"""What each extra installs, and what the tools say when a part is missing.

A framework's extra holds what its adapter imports at run time, nothing
else; the development tools come with the ``dev`` extra. The tools are run
here in a real environment that holds this package and only the parts a
test gives it (linked in from this environment, no network), as a site
with one framework's extra would have.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from packaging.version import Version

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
EXTRAS = PYPROJECT["project"]["optional-dependencies"]
HERE = Path(sysconfig.get_paths()["purelib"])
DEV = "pip install 'ucam-raven[dev]'"


def names(requirements: list[str]) -> set[str]:
    return {re.match(r"[A-Za-z0-9_.-]+(\[[a-z,]+\])?", r).group(0).lower()
            for r in requirements}


# --- what each extra brings ---------------------------------------------------------


@pytest.mark.parametrize("extra, expected", [
    ("flask", {"flask", "werkzeug"}),
    ("wsgi", {"jinja2"}),
    ("asgi", {"starlette", "jinja2"}),
    ("fastapi", {"ucam-raven[asgi]", "fastapi"}),
    ("django", {"django"}),
])
def test_a_framework_extra_holds_run_time_needs_only(extra, expected):
    """No server, no test client, no FastAPI for a Starlette site."""
    assert names(EXTRAS[extra]) == expected


def test_django_has_no_upper_bound():
    (django,) = EXTRAS["django"]
    assert "<" not in django and "!=" not in django
    classifiers = PYPROJECT["project"]["classifiers"]
    for version in ("4.2", "5.2", "6.0", "6.1"):
        assert f"Framework :: Django :: {version}" in classifiers


def test_the_dev_extra_holds_every_tool_a_site_of_any_framework_needs():
    """The raven command and local test WLS (click, Flask), the fixtures
    (pytest), Starlette's test clients, and a server for ASGI apps."""
    assert names(EXTRAS["dev"]) == {
        "flask", "werkzeug", "click", "pytest", "httpx", "httpx2", "uvicorn"}


def test_the_oldest_versions_file_pins_every_minimum():
    """tests/oldest.txt (the environment `make test` builds second) pins
    exactly the minimum of every run-time dependency pyproject.toml admits."""
    minimums = {}
    runtime = list(PYPROJECT["project"]["dependencies"])
    for extra in ("flask", "wsgi", "asgi", "fastapi", "django"):
        runtime += EXTRAS[extra]
    for requirement in runtime:
        if requirement.startswith("ucam-raven"):
            continue
        name, minimum = re.fullmatch(r"([a-z0-9-]+)>=([0-9.]+)", requirement).groups()
        assert minimums.setdefault(name, minimum) == minimum, f"two minimums for {name}"
    lines = (ROOT / "tests" / "oldest.txt").read_text().splitlines()
    pinned = dict(line.split("==") for line in lines if line and not line.startswith("#"))
    assert {name: Version(version) for name, version in pinned.items()} == {
        name: Version(version) for name, version in minimums.items()}


# --- the tools in an environment with only some parts -------------------------------


def environment(tmp_path: Path, *parts: str) -> Path:
    """A new virtual environment holding this package's source and ``parts``
    (top-level modules of this environment) only; its python."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    borrowed = tmp_path / "borrowed"
    borrowed.mkdir()
    for part in ("cryptography", "cffi", "_cffi_backend", "pycparser", *parts):
        for path in HERE.glob(f"{part}*"):
            if path.name == part or path.name.startswith(f"{part}.") or (
                    part.startswith("_") and path.suffix == ".so"):
                (borrowed / path.name).symlink_to(path)
    python = venv / "bin" / "python"
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()"
                           "['purelib'])"], capture_output=True, text=True, check=True)
    Path(site.stdout.strip(), "parts.pth").write_text(f"{ROOT / 'src'}\n{borrowed}\n")
    return python


def run(python: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "RAVEN_DEBUG", "PYTEST_ADDOPTS")}
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # the plugin is named with -p instead
    return subprocess.run([str(python), *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=120)


def test_without_click_version_works_and_the_rest_says_what_to_install(tmp_path):
    """As after `pip install 'ucam-raven[django]'` alone."""
    python = environment(tmp_path)
    assert run(python, "-c", "import click").returncode == 1  # really missing
    version = run(python, "-m", "raven", "--version")
    assert (version.returncode, version.stdout, version.stderr) == (
        0, "raven, version 0.1.0\n", "")
    for args in (["wls"], ["--help"], ["keys", "--live"], []):
        done = run(python, "-m", "raven", *args)
        assert done.returncode == 1
        assert done.stderr == ("Error: the raven command needs click, which is not installed "
                               f"here: {DEV}\n")


def test_without_flask_the_wls_and_demo_say_what_to_install(tmp_path):
    """As with an extra that brings click but not Flask."""
    python = environment(tmp_path, "click")
    assert run(python, "-c", "import flask").returncode == 1
    for command in ("wls", "demo"):
        done = run(python, "-m", "raven", command, "--port", "0")
        assert (done.returncode, done.stdout) == (1, "")
        assert done.stderr == (f"Error: 'raven {command}' needs Flask, which is not installed "
                               f"here: {DEV}\n")
    keys = run(python, "-m", "raven", "keys", "--live")  # needs no Flask
    assert keys.returncode == 0 and keys.stdout.splitlines()[1].startswith("2    1024")


def test_the_raven_wls_fixture_without_flask_says_what_to_install(tmp_path):
    python = environment(tmp_path, "pytest", "_pytest", "pluggy", "iniconfig", "packaging",
                         "pygments", "py")
    (tmp_path / "test_site.py").write_text("def test_it(raven_wls):\n    pass\n")
    done = run(python, "-m", "pytest", "-q", "-p", "raven.pytest_plugin", "-p",
               "no:cacheprovider", "test_site.py", cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert ("the raven_wls fixture (the local test WLS) needs Flask, which is not installed "
            f"here: {DEV}") in done.stdout
    assert "Traceback" not in done.stdout
