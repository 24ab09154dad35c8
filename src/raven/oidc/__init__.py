"""Log in through an OpenID Connect provider — the University's Entra ID
tenant, or the local test provider — and get the same
:class:`raven.flow.Login` a Raven login gives.

Sans-I/O like the rest of the core: :class:`Provider` builds the
authorization request, describes the back-channel calls
(:mod:`raven.oidc.http`) and checks ID tokens with the time passed in;
:mod:`raven.oidc.step` is the flow's return step. See ``docs/entra.md``.
"""

from .errors import IDTokenError, OIDCError
from .http import HTTPRequest, HTTPResponse, urllib_fetch
from .provider import (
    CAMBRIDGE_TENANT,
    DEFAULT_PTAG_GROUPS,
    ENTRA_AUTHORITY,
    GROUPS,
    AuthorizationRequest,
    KeySet,
    Provider,
    Transaction,
)

__all__ = [
    "CAMBRIDGE_TENANT", "DEFAULT_PTAG_GROUPS", "ENTRA_AUTHORITY", "GROUPS",
    "AuthorizationRequest", "HTTPRequest", "HTTPResponse", "IDTokenError", "KeySet",
    "OIDCError", "Provider", "Transaction", "urllib_fetch",
]
