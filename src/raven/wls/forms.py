"""Anti-forgery tokens for the forms of the local test servers: the test
WLS's login and logout forms, and the local OpenID provider's.

Each form's token has a cookie of its own, named after it, rather than one
token in the session cookie: two tabs of a fresh browser that load a form at
once each get their own cookie, where one shared cookie would keep only the
last answer's token. The cookie's value is signed with the application's
SECRET_KEY (so every worker sharing the key accepts it, and nobody without
the key can plant one), is sent back only to the form's own page and never
from another site (SameSite=Strict), and lasts FORM_LIFETIME.
"""

from __future__ import annotations

import base64
import hmac
import re
import secrets
from dataclasses import dataclass

from flask import abort, after_this_request, current_app, request
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response as WerkzeugResponse

__all__ = ["CSRF_FIELD", "FORM_LIFETIME", "MAX_WAITING_FORMS", "FormTokens"]

#: The name of the hidden field that carries the form's anti-forgery token.
CSRF_FIELD = "csrf_token"
#: Seconds a form may wait to be sent.
FORM_LIFETIME = 3600
#: Forms one browser may have waiting per page; older ones are dropped, so
#: that forms loaded and never sent cannot swell its Cookie header.
MAX_WAITING_FORMS = 20
#: Cookies one answer deletes at most: a request carrying planted form
#: cookies by the thousand must not be answered with as many headers.
_MOST_DROPPED = 16
_TOKEN_TEXT = re.compile(r"[A-Za-z0-9_-]{43}")
_ISSUED_TEXT = re.compile(r"[0-9]{1,15}")


@dataclass(frozen=True)
class FormTokens:
    """The form tokens of one server. ``prefix`` begins their cookies' names
    (and what their signatures cover, so one server's cookie is no good at
    another sharing its key); ``server`` names it on its refusal pages."""

    prefix: str
    server: str

    def _mac(self, token: str, path: str, issued: int) -> str:
        key = current_app.secret_key
        key = key.encode() if isinstance(key, str) else key
        if not key:  # an empty key would sign for anyone
            raise RuntimeError(f"the {self.server} has no SECRET_KEY to sign its forms with")
        mac = hmac.digest(key, f"{self.prefix}|{path}|{token}|{issued}".encode(), "sha256")
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")

    def _issued(self, token: str, value: str, path: str) -> int | None:
        """When (epoch milliseconds) the cookie of form ``token`` was issued
        for ``path``, if this server signed it."""
        issued, _, mac = value.partition(".")
        if not _ISSUED_TEXT.fullmatch(issued):  # ASCII digits only: int() takes others
            return None
        if not hmac.compare_digest(mac.encode(), self._mac(token, path, int(issued)).encode()):
            return None
        return int(issued)

    def _waiting(self) -> dict[str, str]:
        """The form cookies this request carries: token to value."""
        return {name[len(self.prefix):]: value for name, value in request.cookies.items()
                if name.startswith(self.prefix)}

    def new(self, now: float) -> str:
        """A new anti-forgery token for a form on this page (``now`` in epoch
        seconds), and its cookie, set on this request's answer."""
        # In milliseconds, so that the oldest of forms loaded in one second goes first.
        token, path, issued = secrets.token_urlsafe(32), request.path, int(now * 1000)
        value = f"{issued}.{self._mac(token, path, issued)}"
        waiting = sorted(
            ((self._issued(t, v, path) or 0), t) for t, v in self._waiting().items()
        )
        surplus = max(0, len(waiting) - MAX_WAITING_FORMS + 1)
        dropped = [t for _, t in waiting[:min(surplus, _MOST_DROPPED)]]
        prefix = self.prefix

        @after_this_request
        def set_cookies(resp: WerkzeugResponse) -> WerkzeugResponse:
            for old in dropped:
                resp.delete_cookie(prefix + old, path=path, secure=request.is_secure,
                                   httponly=True, samesite="Strict")
            resp.set_cookie(prefix + token, value, max_age=FORM_LIFETIME, path=path,
                            secure=request.is_secure, httponly=True, samesite="Strict")
            return resp

        return token

    def check(self, form: MultiDict[str, str], now: float) -> None:
        """Refuse (400) a form that was not served by this server to this
        browser, and spend its token: the browser forgets its cookie."""
        waiting = self._waiting()
        if not waiting:  # a form from another site, or cookies refused, or old
            abort(400, f"The {self.server}'s cookie is missing (each form has one of its "
                       "own), so it cannot tell this form came from one of its own pages. "
                       "Allow cookies for this server, go back, reload the page and try "
                       f"again (a form lasts {FORM_LIFETIME // 60} minutes, and is sent "
                       "once).")
        given = form.get(CSRF_FIELD, "")
        value = waiting.get(given) if _TOKEN_TEXT.fullmatch(given) else None
        issued = None if value is None else self._issued(given, value, request.path)
        if issued is None:
            abort(400, f"This form did not come from one of the {self.server}'s own pages "
                       "(its security token is missing or wrong), so nothing was done. "
                       "Go back, reload the page and try again.")
        if not issued <= now * 1000 < issued + FORM_LIFETIME * 1000:
            abort(400, f"This form is more than {FORM_LIFETIME // 60} minutes old (its "
                       "security token has expired), so nothing was done. Go back, reload "
                       "the page and try again.")
        name, path = self.prefix + given, request.path

        @after_this_request
        def spend(resp: WerkzeugResponse) -> WerkzeugResponse:
            resp.delete_cookie(name, path=path, secure=request.is_secure,
                               httponly=True, samesite="Strict")
            return resp
