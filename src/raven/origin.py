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

import ipaddress
import re
from collections.abc import Iterable
from typing import NamedTuple
from urllib.parse import quote, urlsplit

from .errors import RavenError

_DEFAULT_PORTS = {"http": 80, "https": 443}
# A host name or IPv4 address, or a bracketed IPv6 literal, then a port.
_HOST = re.compile(
    r"(?P<host>[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?"
    r"|\[[0-9a-f:.]+\])(?::(?P<port>[0-9]{1,5}))?",
    re.ASCII,
)
_ORIGIN = re.compile(r"(?P<scheme>https?)://(?P<rest>[^/?#]+)/?", re.ASCII | re.IGNORECASE)
_WITH_PATH = re.compile(r"https?://[^/?#]+(?P<path>/[^?#]*)", re.ASCII | re.IGNORECASE)
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
                f"e.g. 'https://www.example.com'{_path_hint(item)}"
            )
        try:
            origins.add(normalise_origin(match.group("scheme"), match.group("rest")))
        except HostError as exc:
            raise ValueError(f"origin {item!r}: {exc}") from None
    if not origins:
        raise ValueError("name at least one origin, e.g. 'https://www.example.com'")
    return frozenset(origins)


def _path_hint(item: object) -> str:
    """For an origin written with the path the site is mounted at: where
    that path is said instead."""
    found = _WITH_PATH.fullmatch(item) if isinstance(item, str) else None
    if found is None or found.group("path") == "/":
        return ""
    return (f"; a site under the path {found.group('path').rstrip('/')!r} still has the "
            "origin alone: the server says where the app is mounted (WSGI's SCRIPT_NAME, "
            "ASGI's root_path, a Starlette Mount, Django's FORCE_SCRIPT_NAME)")


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


# --- how the site is served, as far as start-up can know ----------------------------------


class Mismatch(NamedTuple):
    """One way the configured origins cannot match how the site is served,
    found when the application starts. ``kind`` names the rule (an adapter
    maps it to its own warning id); ``message`` and ``hint`` are said once."""

    kind: str
    message: str
    hint: str


def is_loopback(origin: str) -> bool:
    """Is ``scheme://host[:port]`` this machine (a developer's own)?"""
    match = _HOST.fullmatch(origin.split("://", 1)[-1].lower())
    if match is None:
        return False
    name = match.group("host")
    return name.endswith(".localhost") or is_loopback_host(name)


def is_loopback_url(url: str) -> bool:
    """Does ``url`` name this machine for certain (:func:`is_loopback_host`)?"""
    try:
        return is_loopback_host(urlsplit(url).hostname or "")
    except ValueError:  # not a URL urlsplit can read
        return False


def is_loopback_host(host: str) -> bool:
    """Is ``host`` (a URL's or a Host header's name, an IPv6 address in
    brackets or not) this machine for certain: ``localhost`` or a loopback
    address? Never a DNS name that merely starts like one
    (``127.0.0.1.example.org``), nor ``localhost.``, which a resolver may
    send to DNS, nor an address with a zone index, which no browser sends."""
    name = host.lower()
    if name == "localhost":
        return True
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
        if "." in name:  # brackets hold IPv6 only
            return False
    if not name.isascii() or "%" in name:
        return False
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def served_mismatches(
    origins: frozenset[str] | None,
    host_names: Iterable[str] | None = None,
    trust_any_host: bool = False,
    *,
    served: str | None = None,
    served_by: str = "the server",
    whitelist: Iterable[str] | None = None,
    whitelist_name: str = "",
    external: str | None = None,
    external_name: str = "",
) -> list[Mismatch]:
    """What can be known, when the application starts, of origins that
    cannot match how the site is served. The adapter says what its
    framework knows:

    - ``served``: the origin a development server listens at, which is
      where a browser opens the site (``http://0.0.0.0:8000`` for any
      address), and ``served_by`` the command;
    - ``whitelist``: a host whitelist the framework applies before Raven
      sees a request (Django's ``ALLOWED_HOSTS``, Flask's
      ``TRUSTED_HOSTS``), named ``whitelist_name``;
    - ``external``: the origin the framework writes its own absolute URLs
      with (Flask's ``SERVER_NAME`` and ``PREFERRED_URL_SCHEME``).

    A production server behind a proxy listens at an address no browser
    uses, so only a development server's is judged. Where the mismatch
    shows only in a request's Host header, the core says it on the first
    such request (:func:`raven.flow.decide`)."""
    found: list[Mismatch] = []
    for origin in sorted(origins or ()):
        if origin.startswith("http://") and not is_loopback(origin):
            secure = "https://" + origin.split("://", 1)[1]
            found.append(Mismatch(
                "plain http",
                f"RAVEN_ORIGIN {origin} is plain http on a host other machines reach: the "
                "login and the cookie that keeps it cross the network readable, and behind "
                f"a TLS proxy browsers come to {secure}, which this origin refuses",
                f"set RAVEN_ORIGIN = {secure!r} (and have the server pass on the scheme: "
                "Werkzeug's ProxyFix, uvicorn's --proxy-headers, Django's "
                "SECURE_PROXY_SSL_HEADER); keep http:// for 127.0.0.1 and localhost",
            ))
    if served is not None:
        found.extend(_served(served, served_by, origins, host_names, trust_any_host))
    if whitelist is not None:
        allowed = list(whitelist)
        for origin in sorted(origins or ()):
            match = _HOST.fullmatch(origin.split("://", 1)[1])
            name = match.group("host") if match else origin
            if not _whitelisted(name, allowed):
                found.append(Mismatch(
                    "whitelist",
                    f"RAVEN_ORIGIN {origin} names a host that {whitelist_name} does not allow: "
                    "every request there is refused (a 400) before Raven sees it",
                    f"add {name!r} to {whitelist_name}",
                ))
    if external is not None and origins and external not in origins:
        found.append(Mismatch(
            "external",
            f"{external_name} make this site's own absolute URLs at {external}, which is "
            f"not one of its origins (RAVEN_ORIGIN {' '.join(sorted(origins))}): a link "
            "made that way leads to a page that refuses it",
            f"set {external_name} to match RAVEN_ORIGIN, or add {external!r} to it",
        ))
    return found


def _served(served: str, served_by: str, origins: frozenset[str] | None,
            host_names: Iterable[str] | None, trust_any_host: bool) -> list[Mismatch]:
    scheme, host = served.split("://", 1)
    match = _HOST.fullmatch(host)
    if match is not None and match.group("host") in ("0.0.0.0", "[::]"):
        # Any address: a browser opens one of them, at this port.
        port = int(match.group("port") or _DEFAULT_PORTS.get(scheme, 0))
        if any(_port(o) == port for o in origins or () if o.startswith(scheme + "://")):
            return []
        served = normalise_origin(scheme, f"127.0.0.1:{port}")
        host = served.split("://", 1)[1]
    try:
        trusted_origin(scheme, host, origins=origins, host_names=host_names,
                       trust_any_host=trust_any_host)
    except HostError as exc:
        return [Mismatch(
            "served",
            f"{served_by} serves {served}, which this site's Raven settings refuse ({exc}): "
            "every login would end on a 400 page",
            f"set RAVEN_ORIGIN = {served!r} (and open the site there)",
        )]
    return []


def _port(origin: str) -> int:
    scheme, host = origin.split("://", 1)
    match = _HOST.fullmatch(host)
    return int(match.group("port") or _DEFAULT_PORTS[scheme]) if match else 0


def _whitelisted(name: str, allowed: list[str]) -> bool:
    if "*" in allowed:
        return True
    return _name_allowed(name, allowed) or _name_allowed(name.strip("[]"), allowed)


def _shown(text: str) -> str:
    """A client's text, safe for a log line and short."""
    return ascii(text[:100])
