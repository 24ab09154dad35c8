"""Errors of the OpenID Connect side, as data: each names its check, as
:mod:`raven.errors` does for Ucam-WebAuth."""

from __future__ import annotations

from ..errors import ResponseError

__all__ = ["IDTokenError", "OIDCError"]


class OIDCError(ResponseError):
    """A login through an OpenID provider was refused. ``check`` names the
    rule that failed (``state``, ``token endpoint``, ``iss``, ``domain``...)."""

    check = "oidc"

    def __init__(self, message: str, *, check: str | None = None) -> None:
        super().__init__(message)
        if check is not None:
            self.check = check


class IDTokenError(OIDCError):
    """The ID token is malformed, wrongly signed, or its claims fail a check."""

    check = "id_token"
