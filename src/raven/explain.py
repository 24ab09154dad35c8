"""Explain a ``WLS-Response``: every field in words, and each check's verdict.

Shared by the demo's response inspector and ``raven decode``. The verdicts
come from the core (the :class:`raven.Response` constructor and the one
check sequence of :mod:`raven.checks`), never from rules written again here;
this module only splits the string for display and puts the results into
words. Nothing here needs Flask.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import parse_qs, unquote_plus

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from .checks import APPLICATION_CHECKS, issue_window, run_checks
from .errors import ResponseError
from .keys import DEMO_KEYS, LIVE_KEYS
from .protocol import (
    MAX_RESPONSE_LENGTH,
    STATUS_CODES,
    decode_field,
    field_names,
    parse_issue,
)
from .response import Response, utcnow

PASSED = "passed"
FAILED = "failed"
SKIPPED = "not checked"

#: The checks, in the order the core makes them, with what each one asks.
CHECKS: dict[str, str] = {
    "format": "The string follows the wire format and the rules on fields",
    "kid": "It is signed with a key this application trusts",
    "signature": "The signature verifies",
    "url": "It was made for the URL the request was sent from",
    "params": "It carries the params the application sent",
    "iact/aauth": "The way the user logged in is acceptable (iact, aauth)",
    "issue": "It was issued a moment ago",
}
assert tuple(CHECKS)[3:] == APPLICATION_CHECKS  # the core's own order
_READ_BY_CONSTRUCTOR = ("format", "kid", "signature")

_PARAM = "WLS-Response"


@dataclass(frozen=True)
class Field:
    name: str
    #: The value as received (unprintable characters escaped).
    raw: str
    #: What it means, in words.
    meaning: str


@dataclass(frozen=True)
class Check:
    name: str
    title: str
    state: str
    detail: str


@dataclass
class Explanation:
    fields: list[Field]
    checks: list[Check]
    #: The parsed response, if the core could read and verify it.
    response: Response | None
    notes: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return self.response is not None and not self.failed

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if c.state == FAILED]

    @property
    def skipped(self) -> list[Check]:
        return [c for c in self.checks if c.state == SKIPPED]

    @property
    def verdict(self) -> str:
        r = self.response
        if r is None or self.failed:
            return "Not valid: failed " + ", ".join(c.name for c in self.failed) + "."
        if r.success:
            ptags = ", ".join(sorted(r.ptags)) or "none"
            said = f"a login of {visible(r.principal or '')} (ptags: {visible(ptags)})"
        else:
            said = f"{STATUS_CODES[r.status].lower()} (status {int(r.status)})"
        text = f"Valid: {said}."
        if self.skipped:
            text += " Not checked: " + ", ".join(c.name for c in self.skipped) + "."
        return text


def visible(text: str, limit: int = 200) -> str:
    """``text`` safe to show on a terminal or a page: unprintable characters
    (control codes, bidirectional overrides) escaped, long values cut."""
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text[: limit + 1])
    return shown if len(text) <= limit else shown[:limit] + "..."


def duration(seconds: float) -> str:
    """``4390`` → ``"1 h 13 min 10 s"``."""
    seconds = int(abs(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours} h" if hours else "", f"{minutes} min" if minutes else "",
             f"{secs} s" if secs or not seconds else ""]
    return " ".join(p for p in parts if p)


def extract(text: str) -> tuple[str, str | None]:
    """The response string in ``text``, and the URL it arrived at, if known.

    ``text`` may be the response itself, or a URL (or query string) holding
    ``WLS-Response=``, as copied from an address bar or a server log; then
    the URL without that parameter is what the response should be for.
    Raises ValueError if the parameter is there but empty or repeated.
    """
    text = text.strip()
    if text[:2] in ("1!", "2!", "3!") or f"{_PARAM}=" not in text:
        return text, None
    head, sep, query = text.partition("?")
    if not sep:
        head, query = "", text
    query, _, fragment = query.partition("#")
    values = parse_qs(query, keep_blank_values=True).get(_PARAM, [])
    if len(values) != 1 or not values[0]:
        raise ValueError(f"the text should hold one non-empty {_PARAM}, it holds {len(values)}")
    if not head.startswith(("http://", "https://")):
        return values[0], None
    rest = "&".join(
        part for part in query.split("&")
        if part and unquote_plus(part.partition("=")[0]) != _PARAM
    )
    return values[0], head + ("?" + rest if rest else "")


def explain(
    text: str,
    *,
    keys: Mapping[str, RSAPublicKey],
    url: str | None = None,
    iact: bool | None = None,
    aauth: Iterable[str] | None = None,
    params: str | None = None,
    now: datetime | None = None,
    max_age: float = 20,
    clock_skew: float = 5,
) -> Explanation:
    """Read ``text`` as a ``WLS-Response`` and run every check on it.

    ``keys`` are the keys trusted (kid → public key). The optional checks
    run only when what they compare with is given: ``url`` (the URL the
    request was sent from), ``params`` (the params it sent). The time
    limits are :func:`raven.validate_response`'s.
    """
    now = now or utcnow()
    fields = describe_fields(text, now)
    checks: dict[str, Check] = {}
    notes: list[str] = []

    def verdict(name: str, state: str, detail: str) -> None:
        checks[name] = Check(name, CHECKS.get(name, name), state, detail)

    try:
        response = Response(text, keys=keys)
    except ResponseError as exc:
        # A broken field rule checked after the signature leaves kid and sig passed.
        verified = getattr(exc, "signature_verified", False)
        for name in _READ_BY_CONSTRUCTOR:
            if name != exc.check:
                verdict(name, PASSED, _SO_FAR[name])
                continue
            verdict(name, FAILED, visible(str(exc), 400))
            if not verified:
                break
        for name in CHECKS:
            if name not in checks:
                verdict(name, SKIPPED, "the checks stop at the first problem")
        if exc.check == "kid":
            notes.extend(_key_hint(text, keys))
        return Explanation(fields, list(checks.values()), None, notes)

    verdict("format", PASSED, f"a well-formed version {response.ver} response")
    if response.signed:
        verdict("kid", PASSED, f"kid {response.kid} is trusted ({key_name(response.kid)})")
        verdict("signature", PASSED, "the signature matches the signed fields")
    else:
        unsigned = ("not signed, which the protocol allows for a failure status; "
                    "so nothing proves the WLS made it")
        verdict("kid", SKIPPED, unsigned)
        verdict("signature", SKIPPED, unsigned)
    if response.kid in DEMO_KEYS:
        notes.append("Signed with the published demo key (kid 901): this response "
                     "proves nothing about anyone. Only test setups trust it.")

    age = (now - response.issue).total_seconds()
    past, future = issue_window(max_age, clock_skew)
    passed = {
        "url": f"made for {visible(response.url)}"
               + (" (a version 1 response: the query is not compared)"
                  if response.ver == 1 else ""),
        "params": "the params match",
        "iact/aauth": f"auth={response.auth or ''!r} sso={','.join(sorted(response.sso))!r} "
                      f"satisfies {_wanted(iact, aauth)}",
        "issue": f"issued {_ago(age)} (allowed: up to {past:g} s ago, {future:g} s ahead)",
    }
    # The core's check sequence, run against a stand-in URL when none is
    # given (its verdict is then replaced by a note).
    for name, error in run_checks(
        response, url if url is not None else response.url, iact=iact, aauth=aauth,
        issue_bounds=(past, future), now=now, tokens=None if params is None else (params,),
    ):
        if error is None:
            verdict(name, PASSED, passed[name])
        else:
            verdict(name, FAILED, visible(str(error), 400))
    if url is None:
        verdict("url", SKIPPED, f"no URL given to compare with; it is for {visible(response.url)}")
    if params is None:
        verdict("params", SKIPPED,
                "no params given to compare with; an application compares them with "
                "the token it kept when it sent the request")
    elif "params" in checks and checks["params"].state == FAILED:
        verdict("params", FAILED, f"the response carries params "
                                  f"{visible(response.params, 60)!r}, not {visible(params, 60)!r}")
    if not response.success:
        verdict("iact/aauth", SKIPPED, "only a success says how the user logged in")
    return Explanation(fields, [checks[name] for name in CHECKS], response, notes)


_SO_FAR = {
    "format": "the fields are well formed (the rules on which fields go with which "
              "status are checked after the signature)",
    "kid": "the key is trusted",
    "signature": "the signature matches the signed fields",
}


def _wanted(iact: bool | None, aauth: Iterable[str] | None) -> str:
    iact_text = {True: "iact=yes", False: "iact=no", None: "no iact"}[iact]
    aauth_text = "any known type" if aauth is None else "aauth=" + ",".join(sorted(aauth))
    return f"{iact_text}, {aauth_text}"


def key_name(kid: str | None) -> str:
    if kid is None:
        return "unsigned"
    if kid in LIVE_KEYS:
        return "live Raven's key"
    if kid in DEMO_KEYS:
        return "the published demo key: test only, proves nothing"
    return "not a key this package ships"


def _key_hint(text: str, keys: Mapping[str, RSAPublicKey]) -> list[str]:
    kid = text.rsplit("!", 2)[-2] if text.count("!") >= 2 else ""
    if kid in DEMO_KEYS and kid not in keys:
        return ["kid 901 is the published demo key: check the response as one from the "
                "demo server or a local test WLS (--demo) to see the rest."]
    if kid in LIVE_KEYS and kid not in keys:
        return ["kid 2 is live Raven's key: check the response as one from live Raven "
                "to see the rest."]
    return []


def _ago(age: float) -> str:
    if abs(age) < 1:
        return "just now"
    return f"{duration(age)} ago" if age > 0 else f"{duration(age)} in the future"


# --- the fields, for display --------------------------------------------------


def describe_fields(text: str, now: datetime) -> list[Field]:
    """Each field with its value as received and its meaning.

    For display only: the string is split on ``!`` without judging it
    (the checks do that), so a damaged response still shows what it holds.
    """
    if len(text) > MAX_RESPONSE_LENGTH:
        return [Field("(all)", visible(text, 60),
                      f"{len(text)} characters: too long to be a response")]
    parts = text.split("!")
    ver = parts[0]
    names = field_names(int(ver)) if ver in ("1", "2", "3") else None
    if names is None or len(parts) != len(names):
        why = (f"a version {ver} response has {len(names)} fields, this has {len(parts)}"
               if names else "the first field is not a protocol version (1, 2 or 3)")
        return [Field(f"field {i}", visible(part), why if i == 1 else "")
                for i, part in enumerate(parts[:20], 1)]
    # The signature is long and means nothing to a reader: its start will do.
    return [Field(name, visible(value, 40 if name == "sig" else 200), _meaning(name, value, now))
            for name, value in zip(names, parts, strict=True)]


def _meaning(name: str, value: str, now: datetime) -> str:
    decoded = decode_field(value)
    if name == "ver":
        return f"protocol version {value}"
    if name == "status":
        code = int(value) if value.isascii() and value.isdigit() else None
        known = STATUS_CODES.get(code) if code is not None else None
        return known or "not a status code of the protocol"
    if name == "issue":
        try:
            issue = parse_issue(value)
        except ValueError:
            return "not a date and time in the form YYYYMMDDTHHMMSSZ"
        return f"{issue:%Y-%m-%d %H:%M:%S} UTC, {_ago((now - issue).total_seconds())}"
    if name == "life":
        if not value:
            return "not given"
        if value.isascii() and value.isdigit() and len(value) < 12:
            return f"{duration(int(value))} left of the user's session with the WLS"
        return "not a number of seconds"
    if name == "kid":
        return key_name(value or None) if value else "unsigned"
    if name == "sig":
        return f"{len(value)} characters of signature" if value else "unsigned"
    if not value:
        return f"{_ABOUT[name]}: {_EMPTY_MEANS.get(name, '(empty)')}"
    # The value itself is shown already; repeat it only if escapes changed it.
    return _ABOUT[name] if decoded == value else f"{_ABOUT[name]}: {visible(decoded)}"


_ABOUT = {
    "msg": "the WLS's message",
    "id": "with issue, unique to this response",
    "url": "the page it is for",
    "principal": "who logged in",
    "ptags": "their tags (current: a current member of staff or student)",
    "auth": "how they authenticated just now",
    "sso": "how they had authenticated earlier in the WLS session",
    "params": "returned unchanged from the request",
}
_EMPTY_MEANS = {
    "principal": "nobody",
    "ptags": "none",
    "auth": "not now (no password typed)",
    "sso": "none",
}
