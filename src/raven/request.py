"""Building an authentication request (WAA → WLS)."""

from __future__ import annotations

from collections.abc import Iterable
from contextvars import ContextVar
from urllib.parse import urlencode, urlsplit

from .errors import RequestError
from .protocol import RAVEN_AUTH, VERSIONS, encode_request_text

#: Where requests for live Raven go instead, in this context only: set by
#: raven.testing.demo_server_as_live(); other threads and tasks never see it.
STAND_IN_WLS_URL: ContextVar[str | None] = ContextVar("raven_stand_in_wls_url", default=None)

_ATYPE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")


class Request:
    """An authentication request; ``str(request)`` is the URL to redirect to.

    Bad arguments raise :class:`raven.errors.RequestError` (a ValueError).
    """

    #: Where requests go; ``raven.demoserver.Request`` points at the demo server.
    wls_url = RAVEN_AUTH

    def __init__(
        self,
        url: str,
        desc: str | None = None,
        aauth: Iterable[str] | str | None = None,
        iact: bool | None = None,
        msg: str | None = None,
        params: str | None = None,
        fail: bool | None = None,
        encode_strings: bool = True,
        *,
        ver: int = 3,
        wls_url: str | None = None,
    ) -> None:
        if wls_url is not None:
            self.wls_url = _check_http_url("wls_url", wls_url)
        elif (stand_in := STAND_IN_WLS_URL.get()) is not None and self.wls_url == RAVEN_AUTH:
            self.wls_url = stand_in
        if type(ver) is not int or ver not in VERSIONS:
            raise RequestError(f"ver must be one of {VERSIONS}", field="ver")
        self.ver = ver
        self.url = _check_http_url("url", url)
        self.desc = None if desc is None else encode_request_text("desc", desc, encode_strings)
        self.msg = None if msg is None else encode_request_text("msg", msg, encode_strings)
        self.aauth = None if aauth is None else _check_aauth(aauth)
        if iact is not None and not isinstance(iact, bool):
            raise RequestError("iact must be True, False or None", field="iact")
        self.iact = iact
        if params is not None and not (isinstance(params, str) and params.isprintable()):
            raise RequestError("params must be a string of printable characters", field="params")
        self.params = params
        if fail is not None and not isinstance(fail, bool):
            raise RequestError("fail must be True, False or None", field="fail")
        self.fail = bool(fail)

    def query(self) -> dict[str, str]:
        """The request's parameters, as they will be sent."""
        q = {"ver": str(self.ver), "url": self.url}
        if self.desc is not None:
            q["desc"] = self.desc
        if self.aauth is not None:
            q["aauth"] = ",".join(sorted(self.aauth))
        if self.iact is not None:
            q["iact"] = "yes" if self.iact else "no"
        if self.msg is not None:
            q["msg"] = self.msg
        if self.params is not None:
            q["params"] = self.params
        if self.fail:
            q["fail"] = "yes"
        return q

    def __str__(self) -> str:
        return f"{self.wls_url}?{urlencode(self.query())}"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self}>"


def _check_http_url(name: str, url: object) -> str:
    if not isinstance(url, str):
        raise RequestError(f"{name} must be a string", field=name)
    try:
        parts = urlsplit(url)
        if parts.hostname:
            parts.port  # noqa: B018 -- reading it checks the range
            parts.hostname.encode("idna")  # refuses empty or over-long labels
    except (ValueError, UnicodeError) as exc:
        raise RequestError(f"{name} {url!r} is not a URL: {exc}", field=name) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RequestError(
            f"{name} must be a fully qualified http or https URL, not {url!r}", field=name
        )
    if not url.isprintable() or " " in url:
        raise RequestError(f"{name} must not contain spaces or unprintable characters",
                           field=name)
    return url


def _check_aauth(aauth: Iterable[str] | str) -> frozenset[str]:
    try:
        types = frozenset(aauth.split(",") if isinstance(aauth, str) else aauth)
    except TypeError:  # not iterable, or holding unhashable things
        raise RequestError("aauth must be a set of authentication types", field="aauth") from None
    if not types:
        raise RequestError("aauth must name at least one authentication type", field="aauth")
    for t in types:
        if not isinstance(t, str) or not t or not set(t) <= _ATYPE_CHARS:
            raise RequestError(f"aauth type {t!r} is not a valid type name", field="aauth")
    return types
