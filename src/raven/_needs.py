"""What to say when an optional part is not installed.

The framework extras (``flask``, ``django``, ``asgi``, ``wsgi``) hold only
what each adapter needs at run time. The development tools (the ``raven``
command, the local test WLS, the pytest fixtures' test clients) come with
the ``dev`` extra, whichever framework a site uses. A tool that finds a
part missing says so in one line naming the ``pip install`` that adds it.
"""

from __future__ import annotations

#: The ``pip install`` line that adds every development tool.
DEV_INSTALL = "pip install 'ucam-raven[dev]'"

#: Top-level modules the tools import, and the distributions they come from.
_DISTRIBUTIONS = {
    "click": "click",
    "flask": "Flask",
    "werkzeug": "Werkzeug",
    "jinja2": "Jinja2",
    "markupsafe": "MarkupSafe",
    "httpx": "httpx",
    "httpx2": "httpx2",
}


def missing_part(exc: ImportError) -> str | None:
    """For an ImportError of a module the ``dev`` extra installs, the
    distribution's name; None for anything else (a bug, not a missing part)."""
    if not isinstance(exc, ModuleNotFoundError) or not exc.name:
        return None
    return _DISTRIBUTIONS.get(exc.name.partition(".")[0])


def needs(what: str, distribution: str) -> str:
    """One line: ``what`` needs ``distribution``, and how to install it."""
    return f"{what} needs {distribution}, which is not installed here: {DEV_INSTALL}"
