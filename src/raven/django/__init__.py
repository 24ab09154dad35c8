"""Django app: log people in to a Django site with Raven.

Add ``"raven.django"`` to ``INSTALLED_APPS``,
``"raven.django.backends.RavenBackend"`` to ``AUTHENTICATION_BACKENDS``,
``"raven.django.middleware.RavenMiddleware"`` to ``MIDDLEWARE`` (after
``AuthenticationMiddleware``), and ``include("raven.django.urls")`` to the
site's URLs; point ``LOGIN_URL`` at ``"raven:login"``. See
``docs/django.md``.

Like the Flask glue, this package only translates: Django's request,
session and auth into the flow core's terms (:mod:`raven.flow`), and its
decisions into Django answers. The names below are imported lazily, so that
``INSTALLED_APPS`` can name this package before the app registry is ready.
"""

from __future__ import annotations

from typing import Any

__all__ = ["SESSION_KEY", "RavenLoginRequiredMixin", "get_login", "raven_login_required"]

#: The key of ``request.session`` that holds the Raven login state.
SESSION_KEY = "_raven"
#: The key that records which Django user that login made: a later
#: request is that login's only if Django's own user id is the same.
USER_KEY = "_raven_user"

_LAZY = {
    "raven_login_required": "raven.django.decorators",
    "RavenLoginRequiredMixin": "raven.django.decorators",
    "get_login": "raven.django.glue",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
