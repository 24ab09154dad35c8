"""The ``raven`` command's entry point (and ``python -m raven``'s): it
checks that ``raven`` is this package before loading the command."""

from __future__ import annotations

import sys

from ._guard import WrongRavenError, ensure_ours


def main() -> None:
    """Check, then run :mod:`raven.cli`: a wrong ``raven`` is one line,
    not a traceback."""
    try:
        ensure_ours()
    except WrongRavenError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        sys.exit(1)
    from .cli import main as cli_main

    cli_main()
