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
from collections.abc import Iterable, Mapping
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
    """A response status; compares equal to its three-digit code.

    As in python-ucam-webauth, ``status.code`` is that code,
    ``status.name`` a short lower-case name (``"cancelled"``) and
    ``status.description`` a sentence. ``Status.CANCELLED``,
    ``Status["CANCELLED"]`` and ``Status["cancelled"]`` are the same member.
    ``str(status)`` is the code (``"410"``), where python-ucam-webauth gave
    the name: use ``status.name`` for that.
    """

    SUCCESS = 200
    CANCELLED = 410
    NOATYPES = 510
    UNSUPPORTED_VERSION = 520
    BAD_REQUEST = 530
    INTERACTION_REQUIRED = 540
    WAA_NOT_AUTHORISED = 560
    AUTHENTICATION_DECLINED = 570
    # python-ucam-webauth's names, so that Status[status.name] is status
    success = 200
    cancelled = 410
    noatypes = 510
    unsupported_version = 520
    bad_request = 530
    interaction_required = 540
    waa_not_authorised = 560
    authentication_declined = 570

    @property
    def code(self) -> int:
        """The three-digit code, as python-ucam-webauth's ``Status.code``."""
        return int(self._value_)

    @property
    def name(self) -> str:
        """The short name python-ucam-webauth gave: ``"cancelled"``."""
        return str(self._name_).lower()

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


def issue_from_digits(text: str) -> datetime:
    return datetime(
        int(text[0:4]), int(text[4:6]), int(text[6:8]),
        int(text[9:11]), int(text[11:13]), int(text[13:15]),
    )


if sys.version_info >= (3, 11):  # fromisoformat reads the basic format in C
    def issue_from_digits(text: str) -> datetime:  # noqa: F811
        return datetime.fromisoformat(text[:15])


def parse_issue(text: str) -> datetime:
    """Parse ``YYYYMMDDTHHMMSSZ``, and nothing else, into naive UTC."""
    try:
        if not _PATTERNS["issue"].fullmatch(text):  # fromisoformat takes more shapes
            raise ValueError
        return issue_from_digits(text)
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


#: sig's characters as standard base64 (which strict decoding then refuses
#: if they are not the protocol's alphabet).
SIG_TO_BASE64 = _FROM_UCAM

if sys.version_info >= (3, 11):
    def strict_b64decode(data: bytes) -> bytes:  # a def: a partial costs more per call
        return binascii.a2b_base64(data, strict_mode=True)
else:  # strict_mode is new in 3.11: check the shape ourselves
    _B64 = re.compile(rb"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")

    def strict_b64decode(data: bytes) -> bytes:
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
        raw = strict_b64decode(text.encode("ascii").translate(_FROM_UCAM))
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


_CONTROL = bytes(range(0x20)) + b"\x7f"
_ZERO_IF_CONTROL = bytes(int(byte not in _CONTROL) for byte in range(256))


def check_characters(text: str) -> None:
    """No unprintable characters; ``%`` only as ``%21`` or ``%25``."""
    if (
        len(text.encode("ascii").translate(None, _CONTROL)) != len(text)
        if text.isascii()  # the usual case, and a fast one
        else not text.isprintable()
    ):
        raise MalformedResponseError(
            f"the response contains the unprintable character {_first_unprintable(text)!r}"
        )
    if "%" in text and (position := _first_bad_escape(text)) < len(text):
        raise MalformedResponseError(
            f"the response has a '%' at character {position} that does not "
            "begin %21 or %25, the only escapes the protocol allows"
        )


def escapes_ok(text: str) -> bool:
    """Does every ``%`` begin ``%21`` or ``%25``? Counts, however many there are."""
    return "%" not in text or text.count("%") == text.count("%21") + text.count("%25")


# Each character as a byte whose bit 2 says "%", bit 1 "2", bit 0 "1" or "5".
_ESCAPE_BITS = bytes(
    4 if c == ord("%") else 2 if c == ord("2") else 1 if c in b"15" else 0 for c in range(256)
)


def _bytes_of(value: int, count: int) -> int:
    """``count`` bytes each ``value``, as a big-endian integer."""
    if count <= MAX_RESPONSE_LENGTH:
        return _BYTES_OF[value] >> 8 * (MAX_RESPONSE_LENGTH - count)
    return int.from_bytes(bytes([value]) * count, "big")


_BYTES_OF = {value: int.from_bytes(bytes([value]) * MAX_RESPONSE_LENGTH, "big")
             for value in (1, 2, 4)}


def _first_bad_escape(text: str) -> int:
    """Where the first ``%`` that begins neither escape is; len(text) if none.

    A search that stops at every ``%`` costs far more when there are
    thousands; instead the text becomes one integer (a byte a character,
    see _ESCAPE_BITS), and shifts line up each ``%`` with the two
    characters after it, for every ``%`` at once.
    """
    data = text.encode("ascii", "replace")  # one byte a character, whatever it is
    count = len(data)
    bits = int.from_bytes(data.translate(_ESCAPE_BITS), "big")
    # bit 0 of byte i: a "%" at i; then "2" at i + 1; then "1" or "5" at i + 2
    percent = (bits & _bytes_of(4, count)) >> 2
    escape = percent & (bits & _bytes_of(2, count)) << 7 & (bits & _bytes_of(1, count)) << 16
    bad = percent ^ escape  # escape is within percent
    return count - 1 - (bad.bit_length() - 1) // 8


def _first_unprintable(text: str) -> str:
    """The first character of ``text`` that is not printable; there is one.

    In C-speed passes over the text, never a Python step per character:
    for ASCII, a translation that makes each control character a zero byte,
    and a search for the first; else halving the span that holds it (two
    passes over the text in all).
    """
    if text.isascii():
        return text[text.encode("ascii").translate(_ZERO_IF_CONTROL).find(0)]
    start, end = 0, len(text)  # text[:start] is printable; the first one is before end
    while end - start > 1:
        middle = (start + end) // 2
        if text[start:middle].isprintable():
            start = middle
        else:
            end = middle
    return text[start]


if sys.version_info >= (3, 11):
    def _atomic(pattern: str, group: int) -> str:
        """``pattern`` as capturing group ``group``, never re-entered once matched."""
        return f"((?>{pattern}))"
else:  # no atomic groups before 3.11; a lookahead is atomic, and \N takes its text
    def _atomic(pattern: str, group: int) -> str:
        return f"(?=({pattern}))\\{group}"

# A field never holds "!", so once its pattern has matched up to the next "!"
# no shorter match of it can help: each field is atomic, so a refusal costs
# one pass over the text, never a retry of every shorter match of a long field.

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
_SOURCE = {name: pattern for name, pattern, _ in RESPONSE_FIELDS}
# A regex step per item of a long sso list, or a character class, would
# make refusing it slow: is_type_list() checks it instead.
_SOURCE["sso"] = _TEXT
_PATTERNS = {name: re.compile(_atomic(pattern, 1), re.ASCII) for name, pattern in _SOURCE.items()}
_WHY = {name: why for name, _, why in RESPONSE_FIELDS}


# Each letter becomes "a", digit or hyphen "0", comma stays, anything else "x".
_LIST_SHAPE = bytes(
    b"a"[0] if chr(c).islower() and chr(c).isascii() else
    b"0"[0] if chr(c) in "0123456789-" else c if chr(c) == "," else b"x"[0]
    for c in range(256)
)


def is_type_list(text: str) -> bool:
    """Does an sso value follow its rule: authentication types joined by commas?

    The value's shape (see _LIST_SHAPE) must begin with a letter, hold no
    other character, and have a letter after every comma: a translation,
    a search and two counts, where a regex takes a step per type.
    """
    if not text:
        return True
    if not text.isascii():
        return False
    shape = text.encode("ascii").translate(_LIST_SHAPE)
    return shape[0] == 97 and b"x" not in shape and shape.count(b",") == shape.count(b",a")


def _whole(names: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(
        "".join(f"{_atomic(_SOURCE[name], i)}!" for i, name in enumerate(names[:-1], 1)),
        re.ASCII,
    )


#: One compiled pattern per field layout: a single C-speed match checks the
#: shape of every field but sig (the rest of the string, which decode_sig
#: checks faster) at once; :func:`explain_bad_fields` says which failed.
WHOLE_PATTERN = {3: _whole(V3_FIELDS), 1: _whole(V1_FIELDS), 2: _whole(V1_FIELDS)}

# Printable ASCII but "!" (the caller checks the escapes: escapes_ok()).
_PLAIN = r'[ "-~]*'
# The sig's last three characters, as decode_sig wants them: no padding, or
# the bits that padding leaves unused all zero.
_SIG_END = r"(?<=..[A-Za-z0-9.-]|.[AEIMQUYcgkosw048]_|[AQgw]__)"

#: The common case in one pattern: a signed version 3 success in ASCII,
#: every field as the rules want it for status 200 (the caller checks
#: that id, url and principal are not empty, that the types are known,
#: :func:`escapes_ok` and that the sig decodes: :func:`strict_b64decode`
#: of it after :data:`SIG_TO_BASE64`). A string it passes passes every check of the
#: careful parse up to the signature, and is read the same; anything else
#: is for the careful parse to decide and word.
SUCCESS_PATTERN = re.compile(
    "".join(
        f"{group}!" for group in (
            "(3)", "(200)", _atomic(_PLAIN, 3), r"([0-9]{8}T[0-9]{6}Z)",
            *(_atomic(_PLAIN, i) for i in range(5, 9)),
            _atomic(_SOURCE["auth"], 9), _atomic(_SOURCE["auth"], 10),  # one sso type
            _atomic(_SOURCE["life"], 11), _atomic(_PLAIN, 12),
            _atomic(r"[1-9][0-9]{0,7}", 13),
        )
    ) + _atomic(".*", 14) + _SIG_END,
    re.ASCII,
)


def list_within(text: str, known: Iterable[str]) -> bool:
    """``split_list(text) <= known``, for a list whose items are not empty,

    in a few passes over the text however many items it has (no object per
    item). With one known item the list can only be that item repeated;
    else each known item is cut out from between its commas, twice (a
    pass skips an item whose first comma the one before it took), and only
    commas may be left.
    """
    if not text:
        return True
    items = [item for item in known if item and "," not in item]  # no other can match
    if len(items) == 1:
        return f"{text}," == f"{items[0]}," * (text.count(",") + 1)
    rest = f",{text},"
    for item in items:
        rest = rest.replace(f",{item},", ",,").replace(f",{item},", ",,")
    return not rest.strip(",")


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
    if (count := text.count("!") + 1) != len(names):  # count, not split: 16 KB of "!"
        return MalformedResponseError(
            f"a version {ver_text} response has {len(names)} fields separated "
            f"by '!', this one has {count}"
        )
    values = text.split("!")
    for name, value in zip(names, values, strict=True):
        if not _PATTERNS[name].fullmatch(value) or name == "sso" and not is_type_list(value):
            return field_error(name, value)
    return MalformedResponseError("the response is malformed")  # pragma: no cover


def field_error(name: str, value: str) -> MalformedResponseError:
    """The refusal of a field that breaks its rule."""
    return MalformedResponseError(f"{name} {value[:40]!r} {_WHY[name]}", field=name)


def parse_status(text: str) -> Status:
    try:
        return _STATUS_BY_TEXT[text]
    except KeyError:
        raise MalformedResponseError(
            f"status {text} is not a status code of the protocol", field="status"
        ) from None


def encode_response(values: Mapping[str, object], ver: int) -> str:
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
