"""Which web login service: live Raven, the hosted demo server, or a local
test WLS. The one home of the ``RAVEN_WLS`` setting ("live", "demo" or a
local WLS's base URL), used by the Flask glue, the demo and the command line.

A WLS is where requests go, where logout is, and which keys sign its
responses; each choice trusts its own keys only, so a live choice never
trusts the published demo key.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from . import demoserver
from .keys import DEMO_KEYS, Keyring, keyring_from_directory
from .protocol import RAVEN_DEMO_LOGOUT, RAVEN_LOGOUT
from .request import Request
from .response import Response

#: Paths of a WLS, the same on Raven and on the local test WLS.
AUTHENTICATE_PATH = "/auth/authenticate.html"
LOGOUT_PATH = "/auth/logout.html"
#: Where ``raven wls`` listens unless told otherwise.
DEFAULT_LOCAL_WLS = "http://127.0.0.1:5001"


@dataclass(frozen=True)
class WLS:
    """A web login service as an application sees it."""

    #: "live", "demo" or "local".
    kind: str
    logout_url: str
    #: Builds requests to this WLS.
    request_class: type[Request]
    #: Parses responses, trusting this WLS's keys only.
    response_class: type[Response]

    @property
    def auth_url(self) -> str:
        return self.request_class.wls_url

    @property
    def keys(self) -> Keyring:
        return self.response_class.keys

    @property
    def base_url(self) -> str:
        parts = urlsplit(self.auth_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def label(self) -> str:
        return {
            "live": "live Raven",
            "demo": "Raven's hosted demo server",
            "local": f"the local test WLS at {self.base_url}",
        }[self.kind]

    def request(self, url: str, **kwargs: object) -> Request:
        """A request to this WLS (raises :class:`raven.RequestError`)."""
        return self.request_class(url, **kwargs)  # type: ignore[arg-type]


LIVE = WLS("live", RAVEN_LOGOUT, Request, Response)
DEMO = WLS("demo", RAVEN_DEMO_LOGOUT, demoserver.Request, demoserver.Response)


def live_with_keys(key_dir: str | Path) -> WLS:
    """Live Raven, trusting the ``pubkeyNNN`` files of a directory
    (mod_ucam_webauth's AAKeyDir) instead of the shipped key."""
    keys = keyring_from_directory(key_dir)
    response_class = type("KeyDirResponse", (Response,), {"__slots__": (), "keys": keys})
    return WLS("live", RAVEN_LOGOUT, Request, response_class)


def local_wls(base_url: object) -> WLS:
    """A local test WLS at ``base_url`` (for example ``http://127.0.0.1:5001``),
    trusting the demo key only. A URL that already ends with the
    authentication path is taken as it is.
    """
    text = base_url.strip() if isinstance(base_url, str) else ""
    try:
        parts = urlsplit(text)
    except ValueError:
        parts = None
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.query
        or parts.fragment
        or any(c <= " " or c == "\x7f" for c in text)
    ):
        raise ValueError(
            f"{base_url!r} is not 'live', 'demo' or the http(s) base URL of a test WLS "
            f"such as {DEFAULT_LOCAL_WLS!r}"
        )
    host = parts.hostname.rstrip(".")  # urlsplit has lower-cased it
    if host == "raven.cam.ac.uk" or host.endswith(".raven.cam.ac.uk"):
        raise ValueError("for live Raven say 'live', not its URL")
    base = text.rstrip("/")
    if base.endswith(AUTHENTICATE_PATH):
        base = base[: -len(AUTHENTICATE_PATH)]
    request_class = type("LocalWLSRequest", (Request,), {"wls_url": base + AUTHENTICATE_PATH})
    response_class = type(
        "LocalWLSResponse", (Response,), {"__slots__": (), "keys": DEMO_KEYS}
    )
    return WLS("local", base + LOGOUT_PATH, request_class, response_class)


def wls_for(setting: object, key_dir: str | Path | None = None) -> WLS:
    """The WLS a ``RAVEN_WLS``-style setting names (None means live).

    ``key_dir`` replaces live Raven's keys; it applies to live Raven only.
    Raises ValueError, saying what is wrong, for anything else.
    """
    name = setting.strip().lower() if isinstance(setting, str) else setting
    if name is None or name == "live":
        return LIVE if key_dir is None else live_with_keys(key_dir)
    if key_dir is not None:
        raise ValueError("a key directory applies to live Raven only")
    if name == "demo":
        return DEMO
    return local_wls(setting)  # type: ignore[arg-type]

