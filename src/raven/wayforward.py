"""Ways forward from a dead end, for every adapter: the page refusing a
request at the wrong host or port links to the same path at the site's
configured origin, and names the cause in debug mode.

A request at ``http://localhost:8000/x`` for a site whose origin is
``http://127.0.0.1:8000`` cannot be sent to the WLS (the response would be
made for an address the site does not answer to), but the user can be
offered ``http://127.0.0.1:8000/x``: a plain link, to an origin the
operator stated, never a redirect chosen by the ``Host`` header.
"""

from __future__ import annotations

from typing import Any

from .origin import HostError, site_url, trusted_origin
from .settings import Settings

__all__ = ["preferred_origin", "wrong_host"]


def preferred_origin(settings: Settings) -> str | None:
    """The configured origin to offer (https first), or None when the
    site names none (a host whitelist alone says no port, so no link)."""
    if not settings.origins:
        return None
    return sorted(settings.origins, key=lambda o: (not o.startswith("https:"), o))[0]


def wrong_host(
    settings: Settings | None, scheme: str, host: str, path: str, query: bytes,
    *, debug: bool, cause: str | None = None,
) -> dict[str, Any]:
    """What the wrong-host page shows: ``origin_url``, the same path and
    query at the configured origin (without any ``WLS-Response``, which
    was made for another address); in debug mode, ``cause``, why this
    address was refused. ``cause`` may be given (a framework's own
    refusal); else it is worked out from the settings."""
    context: dict[str, Any] = {}
    origin = preferred_origin(settings) if settings is not None else None
    if origin is not None:
        from .flow import split_response  # the query less any response

        try:
            _, rest = split_response(query)
        except ValueError:
            rest = b""
        context["origin_url"] = site_url(origin, path, rest)
    if debug:
        if cause is None and settings is not None:
            try:
                trusted_origin(scheme, host, origins=settings.origins,
                               host_names=settings.host_names,
                               trust_any_host=settings.trust_any_host)
            except HostError as exc:
                cause = str(exc)
        context["cause"] = cause
    return context
