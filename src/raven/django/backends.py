"""The authentication backend, in the style of Django's RemoteUserBackend:
the Raven principal is the username."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.hashers import make_password
from django.http import HttpRequest

from ..flow import Login
from . import conf

__all__ = ["RavenBackend"]


class RavenBackend(ModelBackend):
    """Authenticates a verified Raven login, never a password.

    ``authenticate(request, raven_login=login)`` is called by the app's own
    views with a :class:`raven.flow.Login` the flow core made from a
    verified response; nothing a client sends reaches it directly. Unknown
    principals become users with an unusable password, unless
    ``RAVEN_CREATE_USER = False``. Permissions are ModelBackend's.

    Subclass to change how a principal becomes a username
    (``clean_username``) or to fill in a user (``configure_user``), and name
    the subclass in ``AUTHENTICATION_BACKENDS``.
    """

    def authenticate(  # type: ignore[override]
        self, request: HttpRequest | None, raven_login: Login | None = None
    ) -> Any:
        if not isinstance(raven_login, Login):
            return None
        model = get_user_model()
        username = self.clean_username(raven_login.principal)
        if conf.site().create_user:
            user, created = model._default_manager.get_or_create(
                **{model.USERNAME_FIELD: username}, defaults={"password": make_password(None)}
            )
            user = self.configure_user(request, user, created=created)
        else:
            try:
                user = model._default_manager.get_by_natural_key(username)
            except model.DoesNotExist:
                return None
        return user if self.user_can_authenticate(user) else None

    def clean_username(self, principal: str) -> str:
        """The username for a Raven principal (a CRSid such as ``spqr1``): itself."""
        return principal

    def configure_user(self, request: HttpRequest | None, user: Any, created: bool = True) -> Any:
        """Called on every Raven login (``created`` for a new user); return the user."""
        return user
