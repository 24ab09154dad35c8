"""The same API as :mod:`raven`, for Raven's hosted demo server (kid 901).

The demo server's private key is public: a response it signs proves
nothing, so never use this module in a live application.
"""

from . import response as _response
from .keys import DEMO_KEYS, PUBKEY901
from .protocol import RAVEN_DEMO_AUTH, RAVEN_DEMO_LOGOUT
from .request import Request as _Request

__all__ = ["RAVEN_DEMO_AUTH", "RAVEN_DEMO_LOGOUT", "PUBKEY901", "Request", "Response"]


class Request(_Request):
    wls_url = RAVEN_DEMO_AUTH


class Response(_response.Response):
    __slots__ = ()
    keys = DEMO_KEYS
