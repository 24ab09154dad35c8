"""The one exception family of python-raven.

Every error is a ``ValueError`` (so code written for the older library keeps
working) and carries ``check``: a short, stable name of the rule that
failed, fit for a log line or a metrics label.
"""

from __future__ import annotations


class RavenError(ValueError):
    """Base class of every error this package raises about bad input."""

    check = "raven"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class RequestError(RavenError):
    """An authentication request could not be built from these arguments."""

    check = "request"


class ResponseError(RavenError):
    """A ``WLS-Response`` was refused; the subclass says which check failed."""

    check = "response"


class MalformedResponseError(ResponseError):
    """The response string breaks the wire format or the field rules."""

    check = "format"
    #: True when the rule broken is one checked after the signature verified.
    signature_verified = False


class UnknownKeyError(ResponseError):
    """The response names a key (kid) that this application does not trust."""

    check = "kid"


class SignatureError(ResponseError):
    """The signature does not verify: the response was altered or forged."""

    check = "signature"


class URLMismatchError(ResponseError):
    """The response was made for another URL than the one being accessed."""

    check = "url"


class IssueTimeError(ResponseError):
    """The response's issue time is too old or in the future."""

    check = "issue"


class AuthTypeError(ResponseError):
    """The way the user authenticated does not satisfy our iact / aauth."""

    check = "iact/aauth"


class ParamsMismatchError(ResponseError):
    """The response does not answer a request this browser session made."""

    check = "params"


class KeyLoadError(RavenError):
    """A public key could not be loaded, or is one we refuse to trust.

    Raised at configuration time. ``source`` names the file (or says which
    value) it came from; the message names it too.
    """

    check = "keys"

    def __init__(self, message: str, *, source: str | None = None) -> None:
        super().__init__(message)
        self.source = source
