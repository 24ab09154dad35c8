"""A local test web login service (WLS) that behaves like Raven's demo server.

For development and tests only: it signs with the published demo key
(kid 901) or another test key, never a live one, and its users are
``test0001`` … ``test0500`` with password ``test``. Start it with
``raven wls``, or in a test::

    from raven.wls import create_app
    from raven.wls.server import serve

    with serve(create_app()) as wls_url:
        ...  # send the browser to wls_url + "/auth/authenticate.html?..."
"""

from .app import (
    AUTHENTICATE_PATH,
    COOKIE_NAME,
    DEFAULT_SESSION_LIFETIME,
    LOGOUT_PATH,
    create_app,
    response_location,
)
from .users import TEST_PASSWORD, User, Users, builtin_user, parse_user_spec

__all__ = [
    "AUTHENTICATE_PATH", "COOKIE_NAME", "DEFAULT_SESSION_LIFETIME", "LOGOUT_PATH",
    "TEST_PASSWORD", "User", "Users", "create_app", "parse_user_spec", "response_location",
    "builtin_user",
]
