"""Parsing and verifying an authentication response (WLS → WAA)."""

from __future__ import annotations

import heapq
import os
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import ClassVar, Protocol

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from .errors import MalformedResponseError, SignatureError, UnknownKeyError
from .keys import LIVE_KEYS, Keyring, SigningKey, verify
from .protocol import (
    KNOWN_ATYPES,
    MAX_RESPONSE_LENGTH,
    SIG_TO_BASE64,
    SUCCESS_PATTERN,
    WHOLE_PATTERN,
    Status,
    atypes_acceptable,
    check_characters,
    decode_field,
    decode_sig,
    encode_response,
    escapes_ok,
    explain_bad_fields,
    field_error,
    is_type_list,
    issue_from_digits,
    list_within,
    parse_issue,
    parse_status,
    split_list,
    strict_b64decode,
)


class _KeyHolder(Protocol):
    """What ``wls=`` needs of a :class:`raven.WLS`: its keys."""

    @property
    def keys(self) -> Mapping[str, RSAPublicKey]: ...


#: Keys trusted instead of a Response class's own, in this context only:
#: set by raven.testing.demo_server_as_live() for code written against
#: raven.Response; other threads and tasks never see it.
STAND_IN_KEYS: ContextVar[Mapping[str, RSAPublicKey] | None] = ContextVar(
    "raven_stand_in_keys", default=None
)

_PATTERN_BY_VER = {str(ver): pattern for ver, pattern in WHOLE_PATTERN.items()}
_SUCCESS = Status.SUCCESS
# Real responses are a few hundred characters: longer ones go straight to
# the careful parse, so a long refusal does not pay for a match first.
_SHORT = 4096
# An unknown kid's refusal names the trusted ones: all of a few, some of many.
_KIDS_SHOWN = 10
(_VER, _STATUS, _MSG, _ISSUE, _ID, _URL, _PRINCIPAL, _PTAGS,
 _AUTH, _SSO, _LIFE, _PARAMS, _KID) = range(13)


class Response:
    """A parsed **and verified** ``WLS-Response``.

    Construction raises a :class:`raven.errors.ResponseError` (a ValueError)
    if anything is malformed, a success is unsigned, the key is not trusted
    or the signature is wrong. It does *not* know what URL, time or
    authentication types your application expects: use
    :func:`validate_response` (or the Flask glue) for those checks.
    """

    # The shape of every field is checked at construction; values that no
    # rule needs are decoded when first read, which keeps parsing close to
    # the cost of the RSA verification itself.
    __slots__ = ("ver", "status", "issue", "kid", "sig", "_fields")
    #: The protocol version the WLS answered in (1, 2 or 3).
    ver: int
    #: What happened: :data:`raven.STATUS_SUCCESS` (200) or why not.
    status: Status
    #: When the WLS made it: a naive UTC datetime.
    issue: datetime
    #: The key that signed it, None if unsigned.
    kid: str | None
    #: The signature as sent, None if unsigned.
    sig: str | None
    # fields 1-13 as sent (a version 1 or 2 response, which has no ptags, "" for them)
    _fields: tuple[str, ...]

    #: kid → public key of every key trusted: live Raven's only.
    keys: ClassVar[Keyring] = LIVE_KEYS
    #: Authentication types a response may name.
    known_atypes: ClassVar[frozenset[str]] = KNOWN_ATYPES
    #: ptags implied by a version 1 or 2 success (Raven gives those to
    #: current staff and students only).
    old_version_ptags: ClassVar[frozenset[str]] = frozenset({"current"})

    def __init__(
        self,
        string: str | bytes,
        *,
        keys: Mapping[str, RSAPublicKey] | None = None,
        wls: _KeyHolder | None = None,
    ) -> None:
        if wls is not None:
            keys = wls.keys
        elif keys is None and (stand_in := STAND_IN_KEYS.get()) is not None:
            keys = stand_in
        if isinstance(string, str):
            text = string
        elif isinstance(string, (bytes, bytearray)):
            try:
                text = string.decode("utf-8")
            except UnicodeDecodeError:
                raise MalformedResponseError("the response is not UTF-8 text") from None
        else:
            raise MalformedResponseError(
                f"a response must be str or bytes, not {type(string).__name__}"
            )
        if (length := len(text)) > MAX_RESPONSE_LENGTH:
            raise MalformedResponseError(
                f"the response is {length} characters long; "
                f"more than {MAX_RESPONSE_LENGTH} is not a real one"
            )
        if length > _SHORT or not self._parse_success(text, keys):
            self._parse(text, keys)

    def _parse_success(self, text: str, keys: Mapping[str, RSAPublicKey] | None) -> bool:
        """Accept the common case, a signed version 3 success in ASCII, quickly.

        SUCCESS_PATTERN checks every field rule at once; the rest is the few
        checks it cannot make, then the signature. False (never an error)
        leaves the string to :meth:`_parse`, which decides every other case
        and words every refusal: what is accepted, and what each refusal
        says, do not depend on this method (the test suite compares them).
        """
        match = SUCCESS_PATTERN.fullmatch(text)
        if match is None:
            return False
        fields = match.groups()
        _, _, _, issue, id_, url, principal, _, auth, sso, _, _, kid, sig = fields
        known = self.known_atypes
        if not (
            id_ and url and principal
            and (auth in known and (not sso or sso in known) if auth else sso and sso in known)
        ):
            return False  # longer sso lists, and every refusal, are _parse's
        key = (self.keys if keys is None else keys).get(kid)
        if key is None:
            return False
        signed = text[: match.start(13) - 1]
        if "%" in signed and not escapes_ok(signed):
            return False
        try:
            signature = strict_b64decode(sig.encode("ascii").translate(SIG_TO_BASE64))
            moment = issue_from_digits(issue)
        except ValueError:
            return False
        if not verify(key, signature, signed.encode()):
            return False
        self._fields = fields[:13]
        self.ver = 3
        self.status = _SUCCESS
        self.kid = kid
        self.sig = sig
        self.issue = moment
        return True

    def _parse(self, text: str, keys: Mapping[str, RSAPublicKey] | None) -> None:
        """The careful parse: every check in the protocol's order, each refusal worded."""
        pattern = _PATTERN_BY_VER.get(text[:1])
        match = pattern.match(text) if pattern else None
        if match is None or "!" in (sig := text[match.end():]):
            check_characters(text)
            raise explain_bad_fields(text)
        fields = match.groups()
        if len(fields) == 12:  # versions 1 and 2 have no ptags field
            fields = fields[:7] + ("",) + fields[7:]
        if not is_type_list(fields[_SSO]):  # the one field rule the pattern leaves
            check_characters(text)
            raise field_error("sso", fields[_SSO])  # what explain_bad_fields would say
        signed = text[: match.end() - len(fields[-1]) - 2]  # all before "!kid!sig"
        check_characters(signed)  # the sig's characters are decode_sig's to check
        self._fields = fields
        self.ver = int(fields[_VER])
        self.status = parse_status(fields[_STATUS])
        self.kid = kid = fields[_KID] or None
        self.sig = sig or None
        if sig or kid:
            if not sig or not kid:
                raise MalformedResponseError(
                    "kid and sig must both be present or both be empty", field="kid"
                )
            keys = self.keys if keys is None else keys
            key = keys.get(kid)
            if key is None:
                raise UnknownKeyError(
                    f"the response is signed with kid {kid}, a key this application "
                    f"does not trust (trusted kids: {_some_kids(keys)})",
                    field="kid",
                )
            if not verify(key, decode_sig(sig), signed.encode("utf-8")):
                raise SignatureError(
                    f"the signature does not verify with key {kid}: the response "
                    "was altered or forged",
                    field="sig",
                )
        try:
            self.issue = parse_issue(fields[_ISSUE])
            self._check_combination()
        except MalformedResponseError as exc:
            exc.signature_verified = bool(sig)  # so a report can say the key and sig passed
            raise

    def _check_combination(self) -> None:
        """The protocol's rules on which fields go with which status."""
        _, _, _, _, id_, url, principal, ptags, auth, sso, life, _, _ = self._fields
        if not id_ or not url:
            raise self._bad("id" if not id_ else "url", "must not be empty")
        known = self.known_atypes
        if auth and auth not in known or sso and sso not in known and not list_within(sso, known):
            # values cut at 40 characters, as in every other message
            raise self._bad("auth", f"or sso names an unknown authentication type "
                                    f"(auth={auth[:40]!r}, sso={sso[:40]!r}; "
                                    f"known: {sorted(known)})")
        if self.status == 200:
            if not principal:
                raise self._bad("principal", "is required for a success")
            if not (auth or sso):
                raise self._bad("auth", "or sso is required for a success")
            if not self.sig:
                raise self._bad("sig", "is required: a success must be signed")
            return
        for field, value in (
            ("principal", principal), ("ptags", ptags), ("auth", auth),
            ("sso", sso), ("life", life),
        ):
            if value:
                raise self._bad(field, "must be empty unless the status is 200")
        if self.status == Status.UNSUPPORTED_VERSION and self.ver != 1:
            raise self._bad("ver", "must be 1 for status 520")

    def _bad(self, field: str, why: str) -> MalformedResponseError:
        return MalformedResponseError(f"{field} {why} (status {self.status})", field=field)

    @property
    def msg(self) -> str | None:
        """The WLS's message for the user, if any."""
        return decode_field(self._fields[_MSG]) or None

    @property
    def id(self) -> str:
        """The response's identifier: with ``issue``, unique for the WLS."""
        return decode_field(self._fields[_ID])

    @property
    def url(self) -> str:
        """The URL the request asked the WLS to come back to."""
        return decode_field(self._fields[_URL])

    @property
    def principal(self) -> str | None:
        """Who logged in (a CRSid), for a success; None otherwise."""
        return decode_field(self._fields[_PRINCIPAL]) or None

    @property
    def ptags(self) -> frozenset[str]:
        """The principal's tags (``{"current"}`` for current staff and
        students); for version 1 and 2 successes, :attr:`old_version_ptags`."""
        if self.ver < 3:  # no ptags field
            return self.old_version_ptags if self.success else frozenset()
        return split_list(decode_field(self._fields[_PTAGS]))

    @property
    def auth(self) -> str | None:
        """The authentication type used now (``"pwd"``), if the user typed one."""
        return self._fields[_AUTH] or None

    @property
    def sso(self) -> frozenset[str]:
        """Types used earlier, if the WLS relied on its own session instead."""
        return split_list(self._fields[_SSO])

    @property
    def life(self) -> int | None:
        """Seconds left of the WLS's own session, if it says."""
        life = self._fields[_LIFE]
        return int(life) if life else None

    @property
    def params(self) -> str:
        """The request's ``params``, returned unchanged."""
        return decode_field(self._fields[_PARAMS])

    @property
    def success(self) -> bool:
        """True for status 200: the user logged in."""
        return self.status == 200

    @property
    def signed(self) -> bool:
        """True if the response carries a signature (it has verified)."""
        return self.sig is not None

    def check_iact_aauth(self, iact: bool | None, aauth: Iterable[str] | None) -> bool:
        """True if how the user authenticated satisfies iact and aauth.

        iact True: they typed a credential now, of a type in aauth.
        iact False: they did not, and an earlier type is in aauth.
        None: either. aauth None means every type we know.
        """
        return self.success and atypes_acceptable(
            self.auth, self.sso, iact, aauth, self.known_atypes
        )

    def __repr__(self) -> str:
        who = f" principal={self.principal!r}" if self.principal else ""
        return (
            f"<{type(self).__name__} ver={self.ver} status={self.status.value}"
            f"{who} issue={self.issue:%Y-%m-%dT%H:%M:%SZ} url={self.url!r}>"
        )


def _some_kids(keys: Mapping[str, RSAPublicKey]) -> str:
    """The trusted kids for a message: all of a few, the least of many."""
    if len(keys) <= _KIDS_SHOWN:
        return ", ".join(sorted(keys)) or "none"
    least = heapq.nsmallest(_KIDS_SHOWN, keys)  # sorting thousands would cost more
    return f"{', '.join(least)} and {len(keys) - _KIDS_SHOWN} more"


def utcnow() -> datetime:
    """Now, as the naive UTC datetime the protocol's issue field parses to."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def mint_response(
    signing_key: SigningKey | None,
    *,
    url: str,
    status: int = 200,
    principal: str | None = None,
    ptags: Iterable[str] | None = None,
    auth: str | None = None,
    sso: Iterable[str] | None = None,
    issue: datetime | None = None,
    id: str | None = None,
    life: int | None = None,
    params: str | None = None,
    msg: str | None = None,
    ver: int = 3,
) -> str:
    """Build an encoded, signed response: for the local WLS and for tests.

    With ``signing_key`` None the response is unsigned (a failure status
    may be). Nothing is validated here, so tests can mint bad responses.
    """
    issue = issue or utcnow()
    values = {
        "ver": ver, "status": int(status), "msg": msg, "issue": issue,
        "id": f"{issue:%Y%m%dT%H%M%S}-{_next_id()}" if id is None else id, "url": url,
        "principal": principal, "ptags": ptags, "auth": auth, "sso": sso,
        "life": life, "params": params,
    }
    body = encode_response(values, ver)
    if signing_key is None:
        return body + "!!"
    return f"{body}!{signing_key.kid}!{signing_key.sign(body.encode('utf-8'))}"


_counter = iter(range(1, 1 << 62))


def _next_id() -> str:
    return f"{os.getpid()}-{next(_counter)}"
