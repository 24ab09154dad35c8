"""The documentation site (``make docs``) builds strictly: any warning,
a docstring that is not valid reStructuredText or a link between pages to
a missing page or heading, fails the build, and so this test.

Each build runs in its own process: the site's configuration sets up
Django, which must not leak into the rest of the suite."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("sphinx")
pytest.importorskip("myst_parser")

pytestmark = pytest.mark.docs

DOCS = Path(__file__).resolve().parents[2] / "docs"


def build(source: Path, out: Path) -> subprocess.CompletedProcess[str]:
    """The build ``make docs`` runs (no network: no link is fetched)."""
    return subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going", "-q",
         str(source), str(out)],
        capture_output=True, text=True, timeout=600,
    )


def test_the_site_builds_with_no_warning_and_holds_the_guides_and_reference(tmp_path):
    result = build(DOCS, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    guides = {page.stem for page in DOCS.glob("*.md") if page.name != "index.md"}
    built = {page.stem for page in tmp_path.glob("*.html")}
    assert guides <= built  # every guide is in the site
    reference = (tmp_path / "reference" / "raven.html").read_text()
    for name in ("raven.Response", "raven.validate_response", "raven.Request", "raven.WLS"):
        assert f'id="{name}"' in reference
    # a link between guides, to a heading, became a link within the site
    assert 'href="flask.html#configuration"' in (tmp_path / "wsgi.html").read_text()
    settings = (tmp_path / "reference" / "settings.html").read_text()
    assert "RAVEN_REQUIRE_PTAGS" in settings and "RAVEN_CACHE_CONTROL" in settings


def small_site(tmp_path: Path, page: str) -> Path:
    """The site's own configuration with two pages: ``page`` and another."""
    source = tmp_path / "src"
    source.mkdir()
    shutil.copy(DOCS / "conf.py", source)
    (source / "index.md").write_text("# Index\n\n```{toctree}\npage\nother\n```\n")
    (source / "other.md").write_text("# Other\n\n## The session\n\nText.\n")
    (source / "page.md").write_text(f"# A page\n\n{page}\n")
    return source


@pytest.mark.parametrize("link", [
    "[the session](other.md#the-session)",
    "[the other page](other.md)",
])
def test_a_good_link_between_pages_builds(tmp_path, link):
    result = build(small_site(tmp_path, link), tmp_path / "out")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("link", [
    "[gone](nowhere.md)",
    "[no such heading](other.md#no-such-heading)",
    "```{eval-rst}\n.. autofunction:: raven.no_such_function\n```",  # an API gone
])
def test_a_broken_link_or_markup_fails_the_build(tmp_path, link):
    result = build(small_site(tmp_path, link), tmp_path / "out")
    assert result.returncode != 0
    assert "WARNING" in result.stderr or "ERROR" in result.stderr
