"""Sphinx configuration of the documentation site: the guides in this
directory (Markdown, read by MyST) and an API reference generated from the
docstrings (autodoc). Build it with ``make docs``; nothing is fetched."""

from __future__ import annotations

import sys
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import Directive

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))  # the code beside these pages, installed or not

import django  # noqa: E402
from django.conf import settings  # noqa: E402

import raven  # noqa: E402
from raven.settings import DEFAULTS  # noqa: E402

# raven.django's modules import Django's auth, which needs settings: the
# least that lets them import. No database is opened.
if not settings.configured:
    settings.configure(
        INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes",
                        "django.contrib.sessions", "raven.django"],
        RAVEN_WLS="live", RAVEN_ORIGIN="https://www.example.cam.ac.uk",
    )
    django.setup()

project = "python-raven"
author = "python-raven contributors"
copyright = "python-raven contributors"  # noqa: A001
release = version = raven.__version__

extensions = ["myst_parser", "sphinx.ext.autodoc", "sphinx.ext.napoleon"]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "example", "README.md"]

# MyST: "[text](page.md#a-heading)" links between the guides are resolved,
# and one to a missing page or heading is a warning (an error under -W).
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence"]
suppress_warnings = ["myst.header"]  # guides that start at "##" below a title

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_preserve_defaults = True
napoleon_google_docstring = False
napoleon_numpy_docstring = False

html_theme = "alabaster"
html_title = f"python-raven {release}"
html_static_path: list[str] = []
html_show_sourcelink = False


def _default(value: object) -> str:
    if isinstance(value, frozenset):
        return "{" + ", ".join(repr(v) for v in sorted(value)) + "}" if value else "empty"
    return repr(value)


class RavenSettings(Directive):
    """A table of every setting and its default, read from
    :data:`raven.settings.DEFAULTS`, so that the list cannot drift."""

    def run(self) -> list[nodes.Node]:
        table = nodes.table()
        group = nodes.tgroup(cols=3)
        table += group
        for width in (30, 30, 40):
            group += nodes.colspec(colwidth=width)
        head, body = nodes.thead(), nodes.tbody()
        group += head
        group += body

        def row(*cells: str, into: nodes.Element) -> None:
            line = nodes.row()
            for text in cells:
                line += nodes.entry("", nodes.paragraph("", "", nodes.literal(text, text)))
            into += line

        head += nodes.row("", *(nodes.entry("", nodes.paragraph(text=t))
                                for t in ("In a mapping", "As an argument", "Default")))
        for name, value in DEFAULTS.items():
            row(f"RAVEN_{name.upper()}", name, _default(value), into=body)
        return [table]


def _no_type_docstring(app: object, what: str, name: str, obj: object,
                       options: object, lines: list[str]) -> None:
    """A constant without a doc comment of its own would show its type's
    docstring (``str``'s, ``dict``'s): show the page's own words instead."""
    doc = type(obj).__doc__
    if what in ("data", "attribute") and isinstance(doc, str) and doc.strip() and lines and \
            lines[0].strip() == doc.strip().splitlines()[0].strip():
        lines[:] = []


def setup(app: object) -> dict[str, object]:
    app.add_directive("raven-settings", RavenSettings)  # type: ignore[attr-defined]
    app.connect("autodoc-process-docstring", _no_type_docstring)  # type: ignore[attr-defined]
    return {"parallel_read_safe": True}
