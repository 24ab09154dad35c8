"""The ``raven`` command's entry point (and ``python -m raven``'s): it
checks that ``raven`` is this package before loading the command, and
that the command's own parts are installed.

``raven --version`` needs nothing but this package. Every other use needs
click, and some commands Flask (the ``dev`` extra brings both); a missing
one is named in one line with the ``pip install`` that adds it, never a
traceback.
"""

from __future__ import annotations

import sys

from ._guard import WrongRavenError, ensure_ours


def main() -> None:
    """Check, then run :mod:`raven.cli`: a wrong ``raven`` or a missing
    part is one line, not a traceback."""
    try:
        ensure_ours()
    except WrongRavenError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        sys.exit(1)
    if sys.argv[1:] == ["--version"]:  # as click's version option prints it
        from . import __version__

        print(f"raven, version {__version__}")
        sys.exit(0)
    try:
        from .cli import main as cli_main
    except ImportError as exc:
        from ._needs import missing_part, needs

        part = missing_part(exc)
        if part is None:
            raise
        print(f"Error: {needs('the raven command', part)}", file=sys.stderr)
        sys.exit(1)
    cli_main()
