"""The Ucam-WebAuth wire format and its rules, written once.

Pure functions and constants: no I/O, no clock, no Flask. The request
builder, the response parser, the Flask glue, the local test WLS and the
test helpers all use these, so each rule has exactly one home.
"""

from __future__ import annotations

import binascii
import enum
import re
import sys
from collections.abc import Iterable
from datetime import datetime, timezone
from urllib.parse import urlsplit, urlunsplit

from .errors import (
    AuthTypeError,
    IssueTimeError,
    MalformedResponseError,
    RequestError,
    URLMismatchError,
)

RAVEN_AUTH = "https://raven.cam.ac.uk/auth/authenticate.html"
RAVEN_LOGOUT = "https://raven.cam.ac.uk/auth/logout.html"
RAVEN_DEMO_AUTH = "https://demo.raven.cam.ac.uk/auth/authenticate.html"
RAVEN_DEMO_LOGOUT = "https://demo.raven.cam.ac.uk/auth/logout.html"

#: The versions we understand; we send the newest.
VERSIONS = (1, 2, 3)
CURRENT_VERSION = 3

ATYPE_PWD = "pwd"
#: Authentication types a response may name unless the application adds more.
KNOWN_ATYPES = frozenset({ATYPE_PWD})

#: Longest response we will look at; real ones are a few hundred bytes.
MAX_RESPONSE_LENGTH = 16384


class Status(enum.IntEnum):
    """A response status; compares equal to its three-digit code."""

    SUCCESS = 200
    CANCELLED = 410
    NOATYPES = 510
    UNSUPPORTED_VERSION = 520
    BAD_REQUEST = 530
    INTERACTION_REQUIRED = 540
    WAA_NOT_AUTHORISED = 560
    AUTHENTICATION_DECLINED = 570

    @property
    def description(self) -> str:
        return STATUS_CODES[self]

    def __str__(self) -> str:  # "410", as Python 3.11 and later say anyway
        return str(self.value)


STATUS_SUCCESS = Status.SUCCESS
STATUS_CANCELLED = Status.CANCELLED
STATUS_NOATYPES = Status.NOATYPES
STATUS_UNSUPPORTED_VERSION = Status.UNSUPPORTED_VERSION
STATUS_BAD_REQUEST = Status.BAD_REQUEST
STATUS_INTERACTION_REQUIRED = Status.INTERACTION_REQUIRED
STATUS_WAA_NOT_AUTHORISED = Status.WAA_NOT_AUTHORISED
STATUS_AUTHENTICATION_DECLINED = Status.AUTHENTICATION_DECLINED

STATUS_CODES: dict[int, str] = {
    200: "Successful authentication",
    410: "The user cancelled the authentication request",
    510: "No mutually acceptable authentication types available",
    520: "Unsupported protocol version",
    530: "General request parameter error",
    540: "Interaction would be required",
    560: "Web application agent not authorised",
    570: "Authentication declined",
}
_STATUS_BY_TEXT = {str(s.value): s for s in Status}


# --- field values: only "!" and "%" are escaped ------------------------------

def encode_field(value: str) -> str:
    """Escape a response field value: ``%`` → ``%25``, ``!`` → ``%21``."""
    return value.replace("%", "%25").replace("!", "%21")


def decode_field(value: str) -> str:
    """Undo :func:`encode_field`; the parser has already refused other ``%``."""
    if "%" not in value:
        return value
    return value.replace("%21", "!").replace("%25", "%")


# --- dates -------------------------------------------------------------------

def format_issue(moment: datetime) -> str:
    """``YYYYMMDDTHHMMSSZ`` for a naive-UTC (or aware) datetime."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment.strftime("%Y%m%dT%H%M%SZ")


def _issue_from_digits(text: str) -> datetime:
    return datetime(
        int(text[0:4]), int(text[4:6]), int(text[6:8]),
        int(text[9:11]), int(text[11:13]), int(text[13:15]),
    )


if sys.version_info >= (3, 11):  # fromisoformat reads the basic format in C
    def _issue_from_digits(text: str) -> datetime:  # noqa: F811
        return datetime.fromisoformat(text[:15])


def parse_issue(text: str) -> datetime:
    """Parse ``YYYYMMDDTHHMMSSZ``, and nothing else, into naive UTC."""
    try:
        if not _PATTERNS["issue"].fullmatch(text):  # fromisoformat takes more shapes
            raise ValueError
        return _issue_from_digits(text)
    except ValueError:
        raise MalformedResponseError(
            f"issue {text!r} is not a real date and time", field="issue"
        ) from None


# --- the protocol's base64 variant: + / = become - . _ ----------------------

_TO_UCAM = bytes.maketrans(b"+/=", b"-._")
# The standard alphabet's own + / = become "*", which strict decoding refuses.
_FROM_UCAM = bytes.maketrans(b"-._+/=", b"+/=***")


def encode_sig(raw: bytes) -> str:
    return binascii.b2a_base64(raw, newline=False).translate(_TO_UCAM).decode("ascii")


if sys.version_info >= (3, 11):
    def _strict_b64decode(data: bytes) -> bytes:
        return binascii.a2b_base64(data, strict_mode=True)
else:  # strict_mode is new in 3.11: check the shape ourselves
    _B64 = re.compile(rb"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")

    def _strict_b64decode(data: bytes) -> bytes:
        if not _B64.fullmatch(data):
            raise ValueError("not strict base64")
        return binascii.a2b_base64(data)


_UCAM_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-."
_SEXTET = {c: i for i, c in enumerate(_UCAM_ALPHABET)}


def decode_sig(text: str) -> bytes:
    """Decode the sig field, refusing anything but its one canonical spelling.

    Strict decoding refuses stray characters (the standard alphabet's
    ``+ / =`` among them) and bad padding; by hand we refuse unused bits set
    before the padding, so no signature has two spellings.
    """
    try:
        raw = _strict_b64decode(text.encode("ascii").translate(_FROM_UCAM))
        padding = len(text) - len(text.rstrip("_"))
        if padding and _SEXTET[text[-padding - 1]] & (0b1111 if padding == 2 else 0b11):
            raise ValueError
        return raw
    except (ValueError, KeyError, binascii.Error):  # UnicodeEncodeError is a ValueError
        raise MalformedResponseError(
            "sig is not base64 in the protocol's variant (A-Z a-z 0-9 - . _, "
            "correctly padded)",
            field="sig",
        ) from None


# --- authentication types ----------------------------------------------------

def split_list(text: str) -> frozenset[str]:
    """A comma-separated field as a set; the empty string is the empty set."""
    return frozenset(text.split(",")) if text else frozenset()


def atypes_acceptable(
    auth: str | None,
    sso: Iterable[str],
    iact: bool | None,
    aauth: Iterable[str] | None,
    known: frozenset[str] = KNOWN_ATYPES,
) -> bool:
    """Does the way the user authenticated satisfy our iact and aauth?

    iact True: they must have typed a credential now (``auth``) of an
    allowed type. iact False: they must not have, and an earlier (``sso``)
    type must be allowed. None: either will do. aauth None allows every
    type we know. We check this ourselves because an attacker can send
    their own request to the WLS: what we asked for proves nothing.
    """
    allowed = known if aauth is None else frozenset(aauth)
    sso_ok = not allowed.isdisjoint(sso)
    if iact is True:
        return auth is not None and auth in allowed
    if iact is False:
        return auth is None and sso_ok
    return (auth is not None and auth in allowed) or sso_ok


# --- the response string -------------------------------------------------------

# Text fields may hold anything but "!"; check_characters() refuses control
# characters and stray "%" across the whole string first, far faster than a
# character class per field.
_TEXT = r"[^!]*"
_BAD_PERCENT = re.compile(r"%(?!2[15])")


_CONTROL = bytes(range(0x20)) + b"\x7f"


def check_characters(text: str) -> None:
    """No unprintable characters; ``%`` only as ``%21`` or ``%25``."""
    if (
        len(text.encode("ascii").translate(None, _CONTROL)) != len(text)
        if text.isascii()  # the usual case, and a fast one
        else not text.isprintable()
    ):
        bad = next(c for c in text if not c.isprintable())
        raise MalformedResponseError(
            f"the response contains the unprintable character {bad!r}"
        )
    if "%" in text and (found := _BAD_PERCENT.search(text)):
        raise MalformedResponseError(
            f"the response has a '%' at character {found.start()} that does not "
            "begin %21 or %25, the only escapes the protocol allows"
        )


_ATYPE = r"[a-z][a-z0-9-]*"
# (name, pattern, what a webmaster is told when the value breaks it)
RESPONSE_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("ver", r"[123]", "must be 1, 2 or 3"),
    ("status", r"[0-9]{3}", "must be three digits"),
    ("msg", _TEXT, "is not text"),
    ("issue", r"[0-9]{8}T[0-9]{6}Z", "must look like YYYYMMDDTHHMMSSZ"),
    ("id", _TEXT, "is not text"),
    ("url", _TEXT, "is not text"),
    ("principal", _TEXT, "is not text"),
    ("ptags", _TEXT, "is not text"),
    ("auth", f"(?:{_ATYPE})?", "is not an authentication type"),
    ("sso", f"(?:{_ATYPE}(?:,{_ATYPE})*)?", "is not a comma-separated list of types"),
    ("life", r"(?:[1-9][0-9]{0,9}|0)?", "must be a number of seconds"),
    ("params", _TEXT, "is not text"),
    ("kid", r"(?:[1-9][0-9]{0,7})?", "must be a key number with no leading zeros"),
    ("sig", r".*", "is checked by decode_sig"),
)
V3_FIELDS = tuple(name for name, _, _ in RESPONSE_FIELDS)
V1_FIELDS = tuple(name for name in V3_FIELDS if name != "ptags")
_PATTERNS = {name: re.compile(pattern, re.ASCII) for name, pattern, _ in RESPONSE_FIELDS}
_WHY = {name: why for name, _, why in RESPONSE_FIELDS}


def _whole(names: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(
        "".join(f"({_PATTERNS[name].pattern})!" for name in names[:-1]), re.ASCII
    )


#: One compiled pattern per field layout: a single C-speed match checks the
#: shape of every field but sig (the rest of the string, which decode_sig
#: checks faster) at once; :func:`explain_bad_fields` says which failed.
WHOLE_PATTERN = {3: _whole(V3_FIELDS), 1: _whole(V1_FIELDS), 2: _whole(V1_FIELDS)}


def field_names(ver: int) -> tuple[str, ...]:
    return V3_FIELDS if ver == 3 else V1_FIELDS


def explain_bad_fields(text: str) -> MalformedResponseError:
    """Say precisely what is wrong with a response that failed the pattern."""
    ver_text = text.split("!", 1)[0]
    if ver_text not in ("1", "2", "3"):
        return MalformedResponseError(
            f"ver {ver_text[:10]!r} {_WHY['ver']}", field="ver"
        )
    names = field_names(int(ver_text))
    values = text.split("!")
    if len(values) != len(names):
        return MalformedResponseError(
            f"a version {ver_text} response has {len(names)} fields separated "
            f"by '!', this one has {len(values)}"
        )
    for name, value in zip(names, values, strict=True):
        if not _PATTERNS[name].fullmatch(value):
            return MalformedResponseError(
                f"{name} {value[:40]!r} {_WHY[name]}", field=name
            )
    return MalformedResponseError("the response is malformed")  # pragma: no cover


def parse_status(text: str) -> Status:
    try:
        return _STATUS_BY_TEXT[text]
    except KeyError:
        raise MalformedResponseError(
            f"status {text} is not a status code of the protocol", field="status"
        ) from None


def encode_response(values: dict[str, object], ver: int) -> str:
    """Join field values into the signed part of a response (fields 1-12).

    Missing or None values are empty; sets become comma-joined, datetimes
    the issue format. The WLS and the test helpers build responses here.
    """
    out = []
    for name in field_names(ver)[:-2]:
        value = values.get(name)
        if value is None:
            text = ""
        elif isinstance(value, datetime):
            text = format_issue(value)
        elif isinstance(value, (set, frozenset, list, tuple)):
            text = ",".join(sorted(value))
        else:
            text = str(value)
        out.append(text if name in ("ver", "status", "issue") else encode_field(text))
    return "!".join(out)


# --- request strings (desc, msg) ------------------------------------------------

_PRINTABLE = re.compile(r"[\x20-\x7e]*")


def encode_request_text(name: str, value: str, encode_strings: bool) -> str:
    """desc and msg must be printable ASCII; optionally make them so.

    With encode_strings, ``&`` becomes ``&amp;`` and other characters beyond
    ASCII numeric character references, which the WLS shows as intended.
    """
    if not isinstance(value, str):
        raise RequestError(f"{name} must be a string", field=name)
    if encode_strings:
        value = "".join(
            "&amp;" if c == "&" else f"&#{ord(c)};" if c > "\x7f" else c
            for c in value
        )
    if not _PRINTABLE.fullmatch(value):
        raise RequestError(
            f"{name} may only contain printable ASCII characters (0x20-0x7E)",
            field=name,
        )
    return value


# --- the checks only the application can make: issue time, URL, iact/aauth ---

def strip_query(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def check_url(response_url: str, expected_url: str, ver: int) -> None:
    """The response must be for the URL being accessed.

    Version 1 responses lose the query string on the way back (and Raven
    answers a cancel in version 1 whatever was asked), so for them only the
    part before ``?`` can be compared.
    """
    try:
        if ver == 1:
            if strip_query(response_url) == strip_query(expected_url):
                return
        elif response_url == expected_url:
            return
    except ValueError:  # urlsplit refuses some hosts, such as a broken IPv6 literal
        pass
    raise URLMismatchError(
        f"the response was made for {response_url!r}, "
        f"but this is {expected_url!r}",
        field="url",
    )


def check_issue(issue: datetime, now: datetime, max_age: float, max_future: float) -> None:
    """issue must lie within [now - max_age, now + max_future] (seconds)."""
    age = (now - issue).total_seconds()
    if age > max_age:
        raise IssueTimeError(
            f"the response was issued {age:.0f} s ago, more than the {max_age:g} s "
            "allowed: it is stale (or a clock is wrong)",
            field="issue",
        )
    if -age > max_future:
        raise IssueTimeError(
            f"the response was issued {-age:.0f} s in the future, more than the "
            f"{max_future:g} s of clock skew allowed",
            field="issue",
        )


def check_atypes(
    auth: str | None,
    sso: Iterable[str],
    iact: bool | None,
    aauth: Iterable[str] | None,
    known: frozenset[str] = KNOWN_ATYPES,
) -> None:
    if not atypes_acceptable(auth, sso, iact, aauth, known):
        raise AuthTypeError(
            f"the user authenticated with auth={auth or ''!r} "
            f"sso={','.join(sorted(sso))!r}, which does not satisfy "
            f"iact={iact!r} aauth={None if aauth is None else sorted(aauth)!r}",
            field="auth",
        )
