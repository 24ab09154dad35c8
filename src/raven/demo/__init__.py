"""The python-raven demo application: ``raven demo`` runs it next to the
local test WLS. See ``docs/demo.md``."""

from .app import auth_decorator, create_app

__all__ = ["auth_decorator", "create_app"]
