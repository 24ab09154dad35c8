"""python-raven: log people in with Raven, the University of Cambridge
web login service, over the Ucam-WebAuth protocol.

This module talks to live Raven; ``raven.demoserver`` offers the same names
for the hosted demo server.
"""

from .checks import validate_response
from .errors import (
    AuthTypeError,
    IssueTimeError,
    MalformedResponseError,
    ParamsMismatchError,
    RavenError,
    RequestError,
    ResponseError,
    SignatureError,
    UnknownKeyError,
    URLMismatchError,
)
from .keys import PUBKEY2
from .protocol import (
    ATYPE_PWD,
    RAVEN_AUTH,
    RAVEN_LOGOUT,
    STATUS_AUTHENTICATION_DECLINED,
    STATUS_BAD_REQUEST,
    STATUS_CANCELLED,
    STATUS_CODES,
    STATUS_INTERACTION_REQUIRED,
    STATUS_NOATYPES,
    STATUS_SUCCESS,
    STATUS_UNSUPPORTED_VERSION,
    STATUS_WAA_NOT_AUTHORISED,
    Status,
)
from .request import Request
from .response import Response
from .services import DEMO as DEMO_WLS
from .services import LIVE as LIVE_WLS
from .services import WLS

__version__ = "0.1.0"
#: Tells this package from Sentry's client of the same name (see raven._guard).
__ucam_raven__ = True

__all__ = [
    "ATYPE_PWD", "PUBKEY2", "RAVEN_AUTH", "RAVEN_LOGOUT",
    "STATUS_AUTHENTICATION_DECLINED", "STATUS_BAD_REQUEST", "STATUS_CANCELLED",
    "STATUS_CODES", "STATUS_INTERACTION_REQUIRED", "STATUS_NOATYPES",
    "STATUS_SUCCESS", "STATUS_UNSUPPORTED_VERSION", "STATUS_WAA_NOT_AUTHORISED",
    "AuthTypeError", "IssueTimeError", "MalformedResponseError",
    "ParamsMismatchError", "RavenError", "Request", "RequestError", "Response",
    "ResponseError", "SignatureError", "Status", "URLMismatchError",
    "UnknownKeyError", "validate_response", "WLS", "LIVE_WLS", "DEMO_WLS",
]
