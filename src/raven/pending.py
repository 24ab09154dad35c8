"""Logins under way in a browser: one cookie each.

A login binds the WLS's response to the browser that asked for it with a
fresh random token. The browser keeps that token in a cookie of its own,
named after it, not in the session: two tabs of a fresh browser that
start logins at the same moment each get an answer that writes the whole
session, the last one written wins, and the other tab's token would be
lost. Cookies of different names do not overwrite each other, so each
tab's response finds its token whichever answer arrived last.

The token itself never leaves the browser and the site: what goes to the
WLS as ``params`` (and so into every URL, history and log the response
passes through) is :func:`params_for` the token, a one-way digest of it.
Whoever sees a response cannot name the cookie that would accept it.
The cookie is ``HttpOnly``, and on a site whose origins are all https it
has the ``__Host-`` prefix, so no other site can set it.

Its value is the time the login started: the browser forgets it after
:data:`WAIT` seconds and so does the site, whatever the browser keeps.
The answer to the response spends it, pass or fail, so it works once: its
value becomes ``spent`` for a few minutes, so that the same response again
is told it was used, not that the browser refuses cookies. A login that
starts deletes the cookies beyond the newest :data:`MAX_PENDING`, and a
logout all of them, so that none piles up.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from .flow import Decision
    from .settings import Settings

__all__ = ["WAIT", "Pending", "PendingCookie", "changes", "forget", "params_for", "read",
           "secure_for"]

#: Seconds a browser may spend at the WLS before its login is forgotten.
WAIT = 3600
#: Seconds a spent token's cookie says so (longer than any response is fresh).
SPENT_FOR = 300
#: Logins under way that one browser may have (the newest are kept).
MAX_PENDING = 8
_PREFIX = "raven-login-"
_HOST_PREFIX = "__Host-" + _PREFIX
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")  # guard.new_token's alphabet
_TIME = re.compile(r"[0-9]{1,12}")  # ASCII digits only: int() takes others too
_FUTURE_SLACK = 60  # seconds another worker's clock may be ahead of ours
_SPENT = "spent"
#: Cookies one answer deletes at most: whatever a request brings, the
#: answer's headers stay small.
_MOST_DELETED = 16


def params_for(token: str) -> str:
    """What goes to the WLS (or into an OpenID ``state``) for ``token``:
    its digest, from which the token cannot be worked back."""
    digest = hmac.new(token.encode("ascii"), b"raven.pending params", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode("ascii")


class Pending(NamedTuple):
    """What a request's cookies say of the logins under way."""

    #: Their tokens: the newest :data:`MAX_PENDING`, oldest first.
    tokens: tuple[str, ...] = ()
    #: Did any such cookie come back, spent or stale too? (Then the
    #: browser keeps cookies.)
    came_back: bool = False
    #: The names of those no longer worth keeping: beyond the newest
    #: :data:`MAX_PENDING`, too old, or not of our making.
    surplus: tuple[str, ...] = ()


#: A request with no cookie of ours.
NOTHING = Pending()


class PendingCookie(NamedTuple):
    """One ``Set-Cookie`` for a login under way (``max_age`` 0: delete it)."""

    name: str
    value: str
    max_age: int
    secure: bool

    def header(self) -> str:
        flags = "; Path=/; HttpOnly; SameSite=Lax" + ("; Secure" if self.secure else "")
        return f"{self.name}={self.value}{flags}; Max-Age={self.max_age}"


def secure_for(settings: Settings, scheme: str) -> bool:
    """``__Host-`` and ``Secure`` on a site whose origins are all https;
    elsewhere ``Secure`` as the request came."""
    origins = settings.origins or ()
    return (bool(origins) and all(o.startswith("https://") for o in origins)) or (
        scheme == "https")


def _name(token: str, secure: bool) -> str:
    return (_HOST_PREFIX if secure else _PREFIX) + token


def read(header: str | None, secure: bool, now: float) -> Pending:
    """This browser's logins under way, from a request's ``Cookie`` header:
    those started within :data:`WAIT` seconds. Only the name this site sets
    counts: a plain-named one on a ``__Host-`` site could be another site's."""
    if not header or _PREFIX not in header:
        return NOTHING
    prefix = _HOST_PREFIX if secure else _PREFIX
    found: list[tuple[int, str]] = []
    came_back = False
    surplus: list[str] = []
    spent: set[str] = set()
    for part in header.split(";"):
        name, sep, value = part.strip().partition("=")
        if not sep or not name.startswith(prefix):
            continue
        came_back = True
        token = name[len(prefix):]
        value = value.strip()
        if not _TOKEN.fullmatch(token):
            continue  # not a name of ours, nor one to put in a Set-Cookie
        if value == _SPENT:
            spent.add(token)  # a second cookie of the name cannot bring it back
        elif not _TIME.fullmatch(value):
            surplus.append(name)
        elif now - WAIT <= int(value) <= now + _FUTURE_SLACK:
            found.append((int(value), token))
        else:
            surplus.append(name)
    found = [pair for pair in found if pair[1] not in spent]
    found.sort(key=lambda pair: pair[0])  # as the browser sent them within a second
    surplus += [prefix + token for _, token in found[:-MAX_PENDING]]
    kept = dict.fromkeys(token for _, token in found[-MAX_PENDING:])
    # A name that came twice, once worth keeping, is kept.
    surplus = [name for name in dict.fromkeys(surplus) if name[len(prefix):] not in kept]
    return Pending(tuple(kept), came_back, tuple(surplus[:_MOST_DELETED]))


def changes(decision: Decision, now: float, secure: bool,
            seen: Pending = NOTHING) -> list[PendingCookie]:
    """What ``decision`` does to the browser's logins under way: a login
    that starts sets its cookie (and deletes the surplus ``seen`` in the
    request, so that none piles up); an answer to a response spends the
    token's."""
    started = getattr(decision, "started", None)
    if started is not None:
        if not _TOKEN.fullmatch(started):
            raise ValueError("a params token must be 16 to 64 URL-safe characters")
        return [*(PendingCookie(name, "", 0, secure) for name in seen.surplus),
                PendingCookie(_name(started, secure), str(int(now)), WAIT, secure)]
    spent = getattr(decision, "spent", None)
    if spent is not None and _TOKEN.fullmatch(spent):
        return [PendingCookie(_name(spent, secure), _SPENT, SPENT_FOR, secure)]
    return []


def forget(header: str | None, secure: bool) -> list[PendingCookie]:
    """A logout: delete the cookie of every login under way, so that a tab
    left at the WLS does not log the browser in again."""
    if not header or _PREFIX not in header:
        return []
    prefix = _HOST_PREFIX if secure else _PREFIX
    names = (part.strip().partition("=")[0] for part in header.split(";"))
    ours = dict.fromkeys(n for n in names if n.startswith(prefix)
                         and _TOKEN.fullmatch(n[len(prefix):]))
    return [PendingCookie(name, "", 0, secure) for name in list(ours)[:_MOST_DELETED]]
