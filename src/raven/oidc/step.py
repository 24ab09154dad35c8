"""The OpenID Connect return, as the login-flow core decides it.

:func:`raven.flow.decide` hands a request here when the site's login
service is a :class:`~raven.oidc.Provider` and the request is the return
to its registered redirect path. What follows is a pure state machine
too: where a back-channel call is needed it answers
:class:`raven.flow.BackChannel` (the call, described, and what to do with
its answer); :func:`run` drives it with a synchronous fetch function.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qsl

from ..flow import (
    BackChannel,
    Decision,
    Incoming,
    LoggedIn,
    Login,
    LogLine,
    Refuse,
    State,
    _refuse,
    ended,
    shown,
    site_origin,
)
from ..origin import HostError
from ..settings import Settings
from .errors import OIDCError
from .http import Fetch, HTTPResponse, failed
from .provider import Provider, Transaction

__all__ = ["UNAVAILABLE", "call", "complete", "is_return", "run"]

#: The status of a refusal when the provider could not be reached. 502
#: would say it better; the adapters' pages know 400, 401, 403 and 405.
UNAVAILABLE = 403
_RETURN_NAMES = frozenset({"state", "code", "error", "error_description", "error_uri",
                           "session_state", "iss", "client_info", "correlation_id",
                           "trace_id", "error_codes", "timestamp"})
#: Provider error codes a user is told about in words.
PROVIDER_ERRORS = {
    "access_denied": "you cancelled, or were not allowed to log in",
    "login_required": "you would have had to log in, and this page asked for no interaction",
    "interaction_required": "the login service needed to ask you something, and this page "
                            "asked for no interaction",
    "consent_required": "the application needs consent that has not been given",
    "invalid_request": "the login service refused this site's request",
    "unauthorized_client": "the login service does not know this site's registration",
    "server_error": "the login service failed",
    "temporarily_unavailable": "the login service is temporarily unavailable",
}


def is_return(provider: Provider, incoming: Incoming) -> bool:
    """Is this the browser coming back from the provider?"""
    return incoming.path == provider.redirect_path and b"state=" in incoming.query


def run(decision: Decision | BackChannel, fetch: Fetch | None) -> Decision | BackChannel:
    """Make each back-channel call with ``fetch`` until a decision comes.
    ``fetch`` None: give the call back to the caller (an async adapter)."""
    while isinstance(decision, BackChannel) and fetch is not None:
        decision = decision.resume(call(fetch, decision.request))
    return decision


def call(fetch: Fetch, request: Any) -> HTTPResponse:
    """One back-channel call through the site's seam; whatever it does,
    an answer (a failure is an answer too), never an exception."""
    try:
        answer = fetch(request)
        if not isinstance(answer, HTTPResponse):
            raise TypeError("the fetch function did not return an HTTPResponse")
    except Exception as exc:  # the seam is the site's: nothing escapes as a 500
        answer = failed(exc)
    return answer


def complete(
    incoming: Incoming, state: State, settings: Settings, now: float,
) -> Decision | BackChannel:
    provider: Provider = settings.wls  # type: ignore[assignment]
    if incoming.method != "GET":
        refusal = _refuse(incoming, 405, "method", "bad_response",
                          f"a login return came with {shown(incoming.method)}", retry_url="/")
        return replace(refusal, headers={"Allow": "GET"})
    try:
        pairs = parse_qsl(incoming.query.decode("utf-8"), keep_blank_values=True,
                          max_num_fields=20)
    except (UnicodeDecodeError, ValueError):
        return _refuse(incoming, 400, "query", "bad_request",
                       "the login return's query is not UTF-8, or too long")
    values: dict[str, list[str]] = {}
    for name, value in pairs:
        values.setdefault(name, []).append(value)
    if any(len(v) != 1 for v in values.values()):
        return _refuse(incoming, 400, "duplicate", "bad_response",
                       "a parameter of the login return is repeated", retry_url="/")
    given = {name: v[0] for name, v in values.items() if name in _RETURN_NAMES}
    if "state" not in given:
        return _refuse(incoming, 400, "state", "bad_response", "no state", retry_url="/")
    if not incoming.state_came_back:
        return _refuse(incoming, 403, "cookies", "no_cookies",
                       "it arrived without a session cookie: the browser refuses cookies, "
                       "or the cookie is not sent back from the login service",
                       retry_url="/")
    try:
        origin = site_origin(incoming, settings)
    except HostError as exc:
        return _refuse(incoming, 400, "host", "bad_request", str(exc))
    try:
        transaction = Transaction.find(given["state"], (*state.tokens, *incoming.pending))
    except OIDCError as exc:
        current = state.login
        if current is not None and current.valid_for(settings, now) and "code" in given:
            # The back button: the provider's answer again, for a login
            # that is already complete. Nothing changes.
            return LoggedIn(origin + "/", None, current, False, LogLine(
                logging.INFO, f"a spent login return for the current login of "
                              f"{shown(current.principal)}: to the site's front page"))
        return _refuse(incoming, 400, exc.check, "bad_response", str(exc), retry_url="/")
    token = transaction.token  # works once, pass or fail
    spent = state.spent(token)
    page = origin + transaction.return_path
    retry = transaction.return_path

    def refuse(status: int, check: str, detail: str, page_name: str = "bad_response",
               ends_login: bool = False) -> Refuse:
        after = ended(state, spent) if ends_login else None if spent is state else spent
        refusal = _refuse(incoming, status, check, page_name, detail, after, page,
                          retry_url=retry)
        return replace(refusal, spent=token)

    if "error" in given:
        code = given["error"]
        code = code if code.isascii() and code.isprintable() and len(code) < 60 else "?"
        text = PROVIDER_ERRORS.get(code, "the login service did not log you in")
        description = given.get("error_description", "")[:200]
        return Refuse(
            401, "login_failed", "login_failed",
            {"check": None, "wls_status": code, "wls_status_text": text,
             "wls_msg": description or None, "retry_url": retry},
            LogLine(logging.INFO if code == "access_denied" else logging.WARNING,
                    f"{provider.name} answered {shown(code)} for {shown(page)}: "
                    f"{shown(description)}"),
            ended(state, spent), spent=token,  # as a WLS's failure: any earlier login ends
        )
    code = given.get("code", "")
    if not code or len(code) > 4096:
        return refuse(400, "format", "the login return has no authorization code")
    redirect_uri = provider.redirect_uri(page)
    max_age = 0 if settings.iact else None

    def after_token(answer: HTTPResponse) -> Decision | BackChannel:
        try:
            id_token = provider.id_token_of(answer)
            kid = provider.kid_of(id_token)
        except OIDCError as exc:
            status = UNAVAILABLE if answer.status == 0 or answer.status >= 500 else 400
            return refuse(status, exc.check, str(exc))
        key = provider.keyset.key(kid, now)
        if key is not None:
            return finish(id_token, key)
        if not provider.keyset.may_fetch(now):
            return refuse(400, "kid", f"the ID token is signed with key {shown(kid)}, which "
                          "the login service does not list (fetched again too recently)")
        provider.keyset.tried = now

        def after_jwks(jwks: HTTPResponse) -> Decision:
            if jwks.status != 200:
                return refuse(UNAVAILABLE, "jwks", "the login service's key set could not "
                              f"be fetched ({jwks.error or jwks.status})")
            try:
                provider.keyset.load(jwks.body, now)
            except OIDCError as exc:
                return refuse(UNAVAILABLE, exc.check, str(exc))
            fresh = provider.keyset.key(kid, now)
            if fresh is None:
                return refuse(400, "kid", f"the ID token is signed with key {shown(kid)}, "
                              "which the login service does not list")
            return finish(id_token, fresh)

        return BackChannel(provider.jwks_request(), after_jwks)

    def finish(id_token: str, key: Any) -> Decision:
        try:
            claims = provider.verify_id_token(id_token, key, transaction.nonce, now,
                                              settings.issue_bounds, max_age)
            principal = provider.principal_of(claims)
            ptags = provider.ptags_of(claims, settings.require_ptags is not None)
        except OIDCError as exc:
            return refuse(403 if exc.check in ("domain", "groups") else 400, exc.check,
                          str(exc))
        iat = int(claims["iat"])
        auth_time = claims.get("auth_time")
        fresh = (isinstance(auth_time, int | float) and not isinstance(auth_time, bool)
                 and iat - auth_time <= settings.issue_bounds[0])
        login = Login(principal, ptags, iat, None, int(now), "pwd" if fresh else None,
                      frozenset() if fresh else frozenset({"pwd"}), provider.issuer_of(),
                      provider.oid_of(claims))
        expired = login.expired(settings, now)
        if expired is not None:
            return refuse(403, "expired", f"the login of {shown(principal)} had expired on "
                          f"arrival ({expired}): not kept, no retry", ends_login=True)
        old = state.login
        new_identity = old is None or (old.principal, old.ptags, old.issuer) != (
            login.principal, login.ptags, login.issuer)
        line = LogLine(logging.INFO, f"{shown(principal)} logged in through {provider.name} "
                                     f"(ptags {shown(','.join(sorted(ptags)) or 'none')})")
        return LoggedIn(page, State(spent.tokens, login), login, new_identity, line, token)

    return BackChannel(provider.token_request(code, transaction, redirect_uri), after_token)

