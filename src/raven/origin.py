"""This site's own URL for a request, from what the operator allowed.

A response is only good for the URL it was made for, so the URL we expect
must never be chosen by the client. A client chooses the ``Host`` header
(and, through a proxy, ``X-Forwarded-*``), so the request's origin (scheme,
host *and* port) must be one the operator stated:

- ``origins``: exact origins such as ``https://www.example.com`` or
  ``http://127.0.0.1:5000`` (the ``RAVEN_ORIGIN`` setting); or
- ``host_names``: a host-name whitelist (Flask's ``TRUSTED_HOSTS``,
  Django's ``ALLOWED_HOSTS``), which allows those names on the scheme's
  default port only, since another port of the same name may be another
  service; or
- ``trust_any_host``: the web server in front already refuses every host
  but ours (``can_trust_request_host``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import quote

from .errors import RavenError

_DEFAULT_PORTS = {"http": 80, "https": 443}
# A host name or IPv4 address, or a bracketed IPv6 literal, then a port.
_HOST = re.compile(
    r"(?P<host>[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?"
    r"|\[[0-9a-f:.]+\])(?::(?P<port>[0-9]{1,5}))?",
    re.ASCII,
)
_ORIGIN = re.compile(r"(?P<scheme>https?)://(?P<rest>[^/?#]+)/?", re.ASCII | re.IGNORECASE)
# Query bytes that may stand in a URL as they are; anything else is escaped.
_QUERY_SAFE = re.compile(rb"[!$&'()*+,\-./0-9:;=?@A-Z_a-z~%]*")


class HostError(RavenError):
    """The request's host, port or scheme is not one this site answers to."""

    check = "host"


def normalise_origin(scheme: str, host: str) -> str:
    """``scheme://host[:port]`` with the default port dropped and the host
    lower-cased; raises HostError for anything that is not a plain host
    (userinfo, paths, spaces, bad ports, non-ASCII)."""
    scheme = scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise HostError(f"the scheme {scheme[:20]!r} is not http or https")
    match = _HOST.fullmatch(host.lower()) if len(host) <= 300 else None
    if match is None:
        raise HostError(f"the host {_shown(host)} is not a plain host name and port")
    name, port = match.group("host").rstrip("."), match.group("port")
    if port is not None:
        number = int(port)
        if not 0 < number < 65536:
            raise HostError(f"the port in the host {_shown(host)} is out of range")
        if number != _DEFAULT_PORTS[scheme]:
            return f"{scheme}://{name}:{number}"
    return f"{scheme}://{name}"


def parse_origins(value: str | Iterable[str]) -> frozenset[str]:
    """The ``RAVEN_ORIGIN`` setting: one origin, a list, or a string of
    origins separated by commas or spaces. Raises ValueError."""
    items = re.split(r"[,\s]+", value) if isinstance(value, str) else list(value)
    origins = set()
    for item in items:
        if not item:
            continue
        match = _ORIGIN.fullmatch(item) if isinstance(item, str) else None
        if match is None:
            raise ValueError(
                f"origin {item!r} must be scheme://host[:port] with nothing after it, "
                "e.g. 'https://www.example.com'"
            )
        try:
            origins.add(normalise_origin(match.group("scheme"), match.group("rest")))
        except HostError as exc:
            raise ValueError(f"origin {item!r}: {exc}") from None
    if not origins:
        raise ValueError("name at least one origin, e.g. 'https://www.example.com'")
    return frozenset(origins)


def trusted_origin(
    scheme: str,
    host: str,
    *,
    origins: frozenset[str] | None,
    host_names: Iterable[str] | None,
    trust_any_host: bool,
) -> str:
    """The request's origin if the operator allowed it; else HostError."""
    origin = normalise_origin(scheme, host)
    if origins:
        if origin in origins:
            return origin
        raise HostError(f"{_shown(origin)} is not one of this site's origins (RAVEN_ORIGIN)")
    if host_names:
        name = origin.split("://", 1)[1]
        if ":" in name and not name.endswith("]"):
            raise HostError(
                f"{_shown(origin)} has a port: a host-name whitelist allows default "
                "ports only; list the origin in RAVEN_ORIGIN to allow it"
            )
        if _name_allowed(name.strip("[]"), host_names):
            return origin
        raise HostError(f"the host {_shown(name)} is not trusted")
    if trust_any_host:
        return origin
    raise HostError("no origin or host whitelist is configured")


def _name_allowed(name: str, allowed: Iterable[str]) -> bool:
    for entry in allowed:
        entry = entry.lower().rstrip(".")
        if entry.startswith("."):  # Werkzeug's and Django's subdomain form
            if name == entry[1:] or name.endswith(entry):
                return True
        elif name == entry:
            return True
    return False


def site_url(origin: str, path: str, query: bytes) -> str:
    """The URL a response for this request must carry: ``origin`` (already
    trusted), the path (decoded text, escaped here), and the raw query."""
    escaped_path = quote(path.encode("utf-8"), safe="/:@!$&'()*+,;=~")
    if not escaped_path.startswith("/"):
        escaped_path = "/" + escaped_path
    if query and not _QUERY_SAFE.fullmatch(query):
        query = quote(query, safe="!$&'()*+,-./:;=?@_~%").encode("ascii")
    return origin + escaped_path + ("?" + query.decode("ascii") if query else "")


def _shown(text: str) -> str:
    """A client's text, safe for a log line and short."""
    return ascii(text[:100])
