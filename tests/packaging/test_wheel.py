"""The distribution as users get it: build the sdist and, from it, the
wheel; install the wheel alone into a new environment; run the command.

No network: the build uses this environment's setuptools (no isolation),
and the new environment borrows this one's dependencies through a .pth
file, which does not bring our editable source tree along with them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.packaging


def run(*args: str | Path, cwd: Path | None = None) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "RAVEN_DEBUG")}
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=180)
    assert done.returncode == 0, f"{args}\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "build", "--no-isolation", "--outdir", out, ROOT)
    return out


@pytest.fixture(scope="module")
def installed(built, tmp_path_factory) -> Path:
    """The bin directory of a new environment holding only our wheel."""
    venv = tmp_path_factory.mktemp("venv")
    run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    (wheel,) = built.glob("*.whl")
    run(sys.executable, "-m", "pip", "--python", python, "install", "--quiet",
        "--no-deps", "--no-index", wheel)
    site = run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    ours = sysconfig.get_paths()["purelib"]
    (Path(site.strip()) / "borrowed-dependencies.pth").write_text(ours + "\n")
    return venv / "bin"


def test_sdist_and_wheel_carry_the_new_name_and_the_files_beside_the_code(built):
    (sdist,) = built.glob("*.tar.gz")
    (wheel,) = built.glob("*.whl")
    assert sdist.name == "ucam_raven-0.1.0.tar.gz"
    assert wheel.name == "ucam_raven-0.1.0-py3-none-any.whl"
    with tarfile.open(sdist) as tar:
        names = {Path(*Path(n).parts[1:]).as_posix() for n in tar.getnames()}
    assert {"README.md", "pyproject.toml", "src/raven/__main__.py"} <= names
    with zipfile.ZipFile(wheel) as whl:
        files = set(whl.namelist())
        metadata = whl.read("ucam_raven-0.1.0.dist-info/METADATA").decode()
        entry_points = whl.read("ucam_raven-0.1.0.dist-info/entry_points.txt").decode()
    for name in ("raven/py.typed", "raven/keys/pubkey901.pem", "raven/demo/templates/base.html",
                 "raven/templates/raven/forbidden.html", "raven/wls/templates/base.html"):
        assert name in files
    assert "Name: ucam-raven\n" in metadata
    assert "raven = raven._entry:main" in entry_points
    assert "raven = raven.pytest_plugin" in entry_points


def test_the_installed_command_runs(installed):
    out = run(installed / "raven", "demo", "--help")
    assert out.startswith("Usage: raven demo [OPTIONS]")
    assert "--wls-port" in out


def test_python_dash_m_raven_runs(installed):
    out = run(installed / "python", "-m", "raven", "--help")
    assert out.startswith("Usage: python -m raven [OPTIONS] COMMAND")
    for command in ("demo", "wls", "request", "decode"):
        assert f"\n  {command} " in out


def test_the_installed_package_is_the_wheel_and_finds_its_templates_and_keys(installed):
    check = (
        "import raven, raven.demo\n"
        "print(raven.__file__)\n"
        "client = raven.demo.create_app().test_client()\n"
        "print(client.get('http://127.0.0.1:5000/').status_code)\n"
        "print(raven.PUBKEY2 is not None)\n"
    )
    where, status, key = run(installed / "python", "-c", check).split()
    assert Path(where).is_relative_to(installed.parent)
    assert status == "200" and key == "True"
