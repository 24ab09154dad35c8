"""Which WLS to talk to: live Raven, the hosted demo server, or a local one.

The demo's hand-written login flow, its request builder, its response
inspector and the ``raven request`` / ``raven decode`` commands all need the
same three facts about a WLS: where requests go, where logout is, and which
keys sign its responses. The setting is spelt as the Flask glue's
``RAVEN_WLS``: ``"live"``, ``"demo"`` or a local WLS's base URL.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from .. import demoserver
from ..keys import DEMO_KEYS, LIVE_KEYS, Keyring
from ..protocol import RAVEN_AUTH, RAVEN_DEMO_AUTH, RAVEN_DEMO_LOGOUT, RAVEN_LOGOUT
from ..request import Request
from ..response import Response
from ..wls import AUTHENTICATE_PATH, LOGOUT_PATH

#: Where ``raven wls`` listens unless told otherwise.
DEFAULT_LOCAL_WLS = "http://127.0.0.1:5001"


@dataclass(frozen=True)
class WLS:
    """A web login service as an application sees it."""

    #: "live", "demo" or "local".
    kind: str
    auth_url: str
    logout_url: str
    #: Builds requests; ``wls_url=auth_url`` is passed for a local WLS.
    request_class: type[Request]
    #: Parses responses, trusting this WLS's keys only.
    response_class: type[Response]

    @property
    def keys(self) -> Keyring:
        return self.response_class.keys

    @property
    def label(self) -> str:
        return {
            "live": "live Raven",
            "demo": "Raven's hosted demo server",
            "local": f"the local test WLS at {self.base_url}",
        }[self.kind]

    @property
    def base_url(self) -> str:
        parts = urlsplit(self.auth_url)
        return f"{parts.scheme}://{parts.netloc}"

    def request(self, url: str, **kwargs: object) -> Request:
        """A request to this WLS (raises :class:`raven.RequestError`)."""
        if self.kind == "local":
            kwargs["wls_url"] = self.auth_url
        return self.request_class(url, **kwargs)  # type: ignore[arg-type]


LIVE = WLS("live", RAVEN_AUTH, RAVEN_LOGOUT, Request, Response)
DEMO = WLS("demo", RAVEN_DEMO_AUTH, RAVEN_DEMO_LOGOUT, demoserver.Request, demoserver.Response)


def local_wls(base_url: str) -> WLS:
    """A local test WLS at ``base_url`` (for example ``http://127.0.0.1:5001``).

    As with the Flask glue's ``RAVEN_WLS``, requests go to
    ``<base_url>/auth/authenticate.html``; a URL that already ends with that
    path is taken as it is.
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
        raise ValueError(f"{base_url!r} is not the http or https URL of a WLS")
    if parts.hostname == "raven.cam.ac.uk":
        raise ValueError("for live Raven say 'live', not its URL")
    base = text.rstrip("/")
    if base.endswith(AUTHENTICATE_PATH):
        base = base[: -len(AUTHENTICATE_PATH)]
    return WLS("local", base + AUTHENTICATE_PATH, base + LOGOUT_PATH,
               demoserver.Request, demoserver.Response)


def wls_for(setting: object) -> WLS:
    """The WLS named by a ``RAVEN_WLS``-style setting (None means live)."""
    if setting is None:
        return LIVE
    if not isinstance(setting, str):
        raise ValueError(f"a WLS is 'live', 'demo' or a URL, not {setting!r}")
    name = setting.strip().lower()
    if name == "live":
        return LIVE
    if name == "demo":
        return DEMO
    return local_wls(setting)


def is_demo_key(kid: str | None) -> bool:
    return kid is not None and kid in DEMO_KEYS


def is_live_key(kid: str | None) -> bool:
    return kid is not None and kid in LIVE_KEYS
