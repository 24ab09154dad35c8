"""Helpers for testing Raven-protected applications offline.

Everything here signs with the published demo key (kid 901) unless told
otherwise. Responses it makes are only accepted by configurations that
trust that key (``raven.demoserver`` or a local test WLS), never by live
``raven.Response``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from .keys import SigningKey
from .response import mint_response

__all__ = ["make_response"]

_DEFAULT = object()


def make_response(
    url: str,
    principal: str | None | object = _DEFAULT,
    *,
    status: int = 200,
    ptags: Iterable[str] | None | object = _DEFAULT,
    auth: str | None | object = _DEFAULT,
    sso: Iterable[str] | None = None,
    issue: datetime | None = None,
    life: int | None = None,
    params: str | None = None,
    msg: str | None = None,
    ver: int = 3,
    id: str | None = None,
    signing_key: SigningKey | None | object = _DEFAULT,
) -> str:
    """A genuinely signed ``WLS-Response`` string for ``url``.

    Defaults make a fresh v3 success for ``test0001`` with ptag ``current``
    and ``auth=pwd``; with a failure ``status`` the defaults are empty, as
    the protocol wants. Pass ``signing_key=None`` for an unsigned response,
    or your own :class:`raven.keys.SigningKey`. No rule is enforced here, so
    tests can also make the bad responses an attacker would.
    """
    success = status == 200
    if principal is _DEFAULT:
        principal = "test0001" if success else None
    if ptags is _DEFAULT:
        ptags = {"current"} if success and ver == 3 else None
    if auth is _DEFAULT:
        auth = "pwd" if success and not sso else None
    if signing_key is _DEFAULT:
        signing_key = SigningKey.demo() if success else None
    return mint_response(
        signing_key,  # type: ignore[arg-type]
        url=url, status=status, principal=principal, ptags=ptags,  # type: ignore[arg-type]
        auth=auth, sso=sso, issue=issue, life=life, params=params,  # type: ignore[arg-type]
        msg=msg, ver=ver, id=id,
    )
