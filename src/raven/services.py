"""A web login service (WLS) as a plain value: where requests go, where
logout is, and which keys sign its responses.

Presets for live Raven and the hosted demo server; any other Ucam-WebAuth
server (a staging server, a society's own, the local test WLS) from
settings alone, through :func:`wls_from_settings`. Every adapter, the demo
and the command line choose their WLS here, so each rule about it (the
published demo key is never trusted for live Raven's address, say) has one
home.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .keys import DEMO_KEYS, LIVE_KEYS, Keyring, fingerprint, load_keys
from .origin import is_loopback_url
from .protocol import RAVEN_AUTH, RAVEN_DEMO_AUTH, RAVEN_DEMO_LOGOUT, RAVEN_LOGOUT
from .request import Request
from .response import Response

__all__ = [
    "DEFAULT_LOCAL_WLS", "DEMO", "LIVE", "WLS", "key_fingerprint", "local_wls",
    "wls_for", "wls_from_settings",
]

#: Paths of a WLS, the same on Raven and on the local test WLS.
AUTHENTICATE_PATH = "/auth/authenticate.html"
LOGOUT_PATH = "/auth/logout.html"
#: Where ``raven wls`` listens unless told otherwise.
DEFAULT_LOCAL_WLS = "http://127.0.0.1:5001"


#: SHA-256 of a key's SubjectPublicKeyInfo: names a key whatever kid or
#: file it came with.
key_fingerprint = fingerprint


_DEMO_FINGERPRINT = key_fingerprint(DEMO_KEYS["901"])


@dataclass(frozen=True, eq=False)
class WLS:
    """A web login service as an application sees it.

    ``kind`` is ``"live"``, ``"demo"``, ``"local"`` (a test WLS on this
    machine) or ``"other"``. Build one directly, or from settings with
    :func:`wls_from_settings`.
    """

    auth_url: str
    logout_url: str | None
    keys: Keyring
    kind: str = "other"
    name: str = ""
    #: The class that parses this WLS's responses: a subclass of
    #: :class:`raven.Response` may add ``known_atypes`` or set
    #: ``old_version_ptags`` (:func:`wls_from_classes` keeps the seed's).
    response_class: type[Response] = field(default=Response, repr=False)
    fingerprints: frozenset[str] = field(init=False)
    _issuers: frozenset[str] = field(init=False, repr=False)
    #: Which protocol: ``raven.oidc.Provider`` says ``"oidc"``.
    protocol = "ucam-webauth"

    def __post_init__(self) -> None:
        _check_wls_url("authentication URL", self.auth_url)
        if self.logout_url is not None:
            _check_wls_url("logout URL", self.logout_url)
        if not self.keys:
            raise ValueError(f"no keys are trusted for the WLS at {self.auth_url}")
        prints = frozenset(key_fingerprint(key) for key in self.keys.values())
        if _is_live_raven(self.auth_url) and (
            "901" in self.keys or _DEMO_FINGERPRINT in prints
        ):
            raise ValueError(
                f"the published demo key (kid 901) can never be trusted for {self.auth_url}: "
                "anyone could forge a login"
            )
        object.__setattr__(self, "fingerprints", prints)
        object.__setattr__(self, "_issuers",
                           frozenset(_issuer(self.auth_url, fp) for fp in prints))
        if not self.name:
            object.__setattr__(self, "name", _default_name(self))

    @property
    def label(self) -> str:
        return self.name

    @property
    def base_url(self) -> str:
        parts = urlsplit(self.auth_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def trusts_demo_key(self) -> bool:
        return _DEMO_FINGERPRINT in self.fingerprints

    def request(self, url: str, **kwargs: Any) -> Request:
        """A request to this WLS (raises :class:`raven.RequestError`)."""
        return Request(url, wls_url=self.auth_url, **kwargs)

    def parse(self, text: str | bytes) -> Response:
        """Parse and verify a response, trusting this WLS's keys only."""
        return self.response_class(text, wls=self)

    def made(self, issuer: object) -> bool:
        """Was a login recorded with ``issuer`` made by this WLS, with a key
        it still trusts?"""
        return issuer in self._issuers

    def issuer_of(self, kid: str) -> str:
        """What a login made with key ``kid`` records: short, and naming
        both this WLS (its URL) and the key (its fingerprint)."""
        return _issuer(self.auth_url, key_fingerprint(self.keys[kid]))

    def same_as(self, other: WLS) -> bool:
        """The same service with the same keys (kids aside)."""
        return (self.auth_url, self.logout_url, self.fingerprints) == (
            other.auth_url, other.logout_url, other.fingerprints
        )

    def fingerprint_of(self, kid: str) -> str:
        return key_fingerprint(self.keys[kid])

    def with_keys(self, keys: Keyring) -> WLS:
        return WLS(self.auth_url, self.logout_url, keys, self.kind,
                   response_class=self.response_class)

    def __repr__(self) -> str:
        return f"<WLS {self.name}: {self.auth_url} kids {','.join(sorted(self.keys))}>"


def _issuer(auth_url: str, fingerprint: str) -> str:
    digest = hashlib.sha256(f"{auth_url} {fingerprint}".encode()).digest()
    return base64.urlsafe_b64encode(digest[:16]).decode("ascii").rstrip("=")


def _default_name(wls: WLS) -> str:
    if wls.kind == "live":
        return "live Raven"
    if wls.kind == "demo":
        return "Raven's hosted demo server"
    if wls.kind == "local":
        return f"the local test WLS at {wls.base_url}"
    return f"the WLS at {wls.base_url}"


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").rstrip(".")


def _is_live_raven(url: str) -> bool:
    """raven.cam.ac.uk or any host under it but the demo server."""
    host = _host(url)
    return host == "raven.cam.ac.uk" or (
        host.endswith(".raven.cam.ac.uk") and host != "demo.raven.cam.ac.uk"
    )


def _check_wls_url(what: str, url: object) -> None:
    text = url if isinstance(url, str) else ""
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 -- reading it checks the range
    except ValueError:
        parts = None
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.fragment
        or parts.username is not None
        or any(c <= " " or c == "\x7f" for c in text)
    ):
        raise ValueError(f"the WLS's {what} {url!r} is not an http(s) URL")
    if parts.scheme == "http" and not is_loopback_url(text):
        raise ValueError(
            f"the WLS's {what} {url!r} must use https (plain http only for a test WLS "
            "on this machine)"
        )


LIVE = WLS(RAVEN_AUTH, RAVEN_LOGOUT, LIVE_KEYS, "live")
DEMO = WLS(RAVEN_DEMO_AUTH, RAVEN_DEMO_LOGOUT, DEMO_KEYS, "demo")


def local_wls(base_url: object, keys: Keyring | None = None) -> WLS:
    """A test WLS on this machine at ``base_url`` (for example
    ``http://127.0.0.1:5001``, or its full authentication URL), trusting the
    demo key unless ``keys`` says otherwise."""
    wls = _wls_at(base_url, None, keys if keys is not None else DEMO_KEYS)
    if wls.kind != "local":
        raise ValueError(f"{base_url!r} is not a test WLS on this machine")
    return wls


def auth_url_for(url: object) -> str:
    """A WLS's authentication URL from itself or from the WLS's root (to
    which Raven's own layout, ``/auth/authenticate.html``, is added)."""
    text = url.strip() if isinstance(url, str) else url
    _check_wls_url("URL", text)
    assert isinstance(text, str)
    parts = urlsplit(text)
    if parts.query:
        raise ValueError(f"the WLS URL {url!r} must not have a query")
    if parts.path in ("", "/"):
        return text.rstrip("/") + AUTHENTICATE_PATH
    return text


def _wls_at(url: object, logout_url: object, keys: Keyring | None) -> WLS:
    """The WLS whose authentication URL (or root) is ``url``."""
    auth_url = auth_url_for(url)
    if logout_url is None and auth_url.endswith("/authenticate.html"):
        logout_url = auth_url[: -len("authenticate.html")] + "logout.html"
    if auth_url == RAVEN_AUTH and keys is None:
        return LIVE
    if auth_url == RAVEN_DEMO_AUTH and keys is None:
        return DEMO
    kind = (
        "live" if auth_url == RAVEN_AUTH else "demo" if auth_url == RAVEN_DEMO_AUTH
        else "local" if is_loopback_url(auth_url) else "other"
    )
    if keys is None:
        if kind != "local":
            raise ValueError(
                f"say which keys the WLS at {auth_url} signs with (RAVEN_KEYS or "
                "RAVEN_KEY_DIR): its operator publishes them"
            )
        keys = DEMO_KEYS  # what the local test WLS signs with
    return WLS(auth_url, logout_url, keys, kind)  # type: ignore[arg-type]


def wls_for(setting: object, key_dir: str | Path | None = None) -> WLS:
    """The WLS a ``RAVEN_WLS``-style setting names: ``"live"`` (or None),
    ``"demo"``, or the URL of any Ucam-WebAuth server. ``key_dir`` replaces
    the keys trusted. Raises ValueError, saying what is wrong."""
    return wls_from_settings({"RAVEN_WLS": setting, "RAVEN_KEY_DIR": key_dir})


def wls_from_settings(settings: Mapping[str, Any], prefix: str = "RAVEN_") -> WLS:
    """The WLS chosen by ``RAVEN_WLS``, ``RAVEN_WLS_LOGOUT``, ``RAVEN_KEYS``
    and ``RAVEN_KEY_DIR`` in any mapping (Flask's config, Django's settings,
    environment variables). Raises ValueError, naming the setting."""
    setting = settings.get(prefix + "WLS")
    logout = settings.get(prefix + "WLS_LOGOUT")
    key_dir = settings.get(prefix + "KEY_DIR")
    key_map = settings.get(prefix + "KEYS")
    if key_dir is not None and key_map is not None:
        raise ValueError(f"{prefix}KEYS and {prefix}KEY_DIR are alternatives: give one")
    keys: Keyring | None = None
    spec = key_dir if key_dir is not None else key_map
    try:
        if spec is not None:
            keys = load_keys(spec)
    except (OSError, ValueError) as exc:
        raise ValueError(f"{prefix}KEYS / {prefix}KEY_DIR: {exc}") from None
    name = setting.strip().lower() if isinstance(setting, str) else setting
    if isinstance(setting, WLS):
        base = setting
    elif name is None or name == "live":
        base = LIVE
    elif name == "demo":
        base = DEMO
    else:
        return _wls_at(setting, logout, keys)
    if logout is not None or keys is not None:
        return WLS(base.auth_url, logout or base.logout_url, keys or base.keys, base.kind)
    return base


def wls_from_classes(
    request_class: type[Request], response_class: type[Response], logout_url: str | None
) -> WLS:
    """The WLS that the seed's class attributes (``request_class``,
    ``response_class``, ``logout_url``) describe."""
    for preset in (LIVE, DEMO):
        if (request_class.wls_url, response_class.keys, logout_url) == (
            preset.auth_url, preset.keys, preset.logout_url
        ):
            break
    else:
        preset = _wls_at(request_class.wls_url, logout_url, response_class.keys)
    if response_class is Response:
        return preset
    return replace(preset, response_class=response_class)


__all__ += ["AUTHENTICATE_PATH", "LOGOUT_PATH", "auth_url_for", "wls_from_classes"]
