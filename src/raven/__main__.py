"""``python -m raven``: the ``raven`` command, for when another ``raven``
command comes first on PATH."""

from ._entry import main

main()
