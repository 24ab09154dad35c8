"""Imported first by the modules people start from: fails with an
explanation if ``import raven`` gives another package (see raven._guard)."""

from ._guard import ensure_ours

ensure_ours()
