"""The quick parse of a common success against the careful parse, on thousands of responses.

``Response._parse_success`` may only accept what ``Response._parse`` accepts,
and read it the same; everything else it leaves to ``_parse``. So
``Response(text)`` must give exactly what the careful parse alone gives:
the same attributes, or the same error class, message and field.
"""

from __future__ import annotations

import random
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import raven
import raven.demoserver as demo
from raven.errors import ResponseError
from raven.keys import DEMO_KEYS, SigningKey
from raven.protocol import MAX_RESPONSE_LENGTH, decode_sig, encode_sig, field_names
from raven.testing import make_response

DEMO = SigningKey.demo()
OTHER = SigningKey(rsa.generate_private_key(public_exponent=65537, key_size=1024), "7")
STRANGER = SigningKey(rsa.generate_private_key(public_exponent=65537, key_size=1024), "8")
BIG = SigningKey(rsa.generate_private_key(public_exponent=65537, key_size=2048), "12")
ISSUE = datetime(2013, 7, 5, 15, 0, 0)


class Wide(raven.Response):
    """More keys and more types, so more of the rules are reached."""

    __slots__ = ()
    keys = {**DEMO_KEYS, "7": OTHER.public_key, "12": BIG.public_key}
    known_atypes = frozenset({"pwd", "x-card", "x-a1"})


CLASSES = (demo.Response, Wide, raven.Response)

# Values that sit on either side of some rule.
POOL = [
    "", "1", "2", "3", "0", "03", "4", "200", "410", "520", "570", "299", "20", "2000",
    "pwd", "PWD", "x-card", "x-a1", "x-", "a-", "a1", "1a", "-a", "pwd,x-card", "x-card,pwd",
    "pwd,", ",pwd", "pwd,,pwd", "pwd,pwd", "pwd,PWD", "pwd x-card", "pwd,x-unknown", "unknown",
    "current", "current,staff", "%21", "%25", "%2", "%", "%41", "a%21b", "100%", "%%21",
    "\x01", "a\x7f", "\t", "\u00e9", "caf\u00e9", "\u2028", "\x85", "\ufeff", "\ud800", " ",
    "36000", "00", "01", "1234567890", "12345678901", "9999999999",
    "901", "0901", "7", "8", "12", "99999999", "123456789", "2",
    "20130705T150000Z", "20130732T150000Z", "20130229T150000Z", "20120229T150000Z",
    "20130705T150000", "20130705t150000Z", "2013-07-05T15:00Z", "20161231T235960Z",
    "20130705T240000Z", "00000101T000000Z", "99991231T235959Z", "20130705T150000Z!",
    "test0001", "http://host/path", "http://host/path?a=1&b=%2521", "a" * 300,
    "pwd," * 40 + "pwd", "x-card," * 30 + "x-card,pwd",
]


def base_responses() -> list[str]:
    out = []
    for ver in (3, 2, 1):
        for signer in (DEMO, OTHER, BIG):
            out.append(make_response("http://host/path", issue=ISSUE, ver=ver,
                                     signing_key=signer, life=36000, params="p%1!x"))
        out.append(make_response("http://host/p?q=1!", "spqr2", issue=ISSUE, ver=ver,
                                 auth=None, sso={"pwd", "x-card"}, msg="50% off!"))
        out.append(make_response("http://h/", issue=ISSUE, ver=ver, auth=None, sso={"pwd"}))
        out.append(make_response("http://h/", issue=ISSUE, ver=ver, status=410))
        out.append(make_response("http://h/", issue=ISSUE, ver=ver, status=520,
                                 signing_key=DEMO))
    return out


def sign(fields: list[str], signer: SigningKey | None) -> str:
    body = "!".join(fields)
    if signer is None:
        return body + "!!"
    try:
        data = body.encode()
    except UnicodeEncodeError:  # a lone surrogate: no WLS could sign it
        return body + f"!{signer.kid}!" + "A" * 172
    return f"{body}!{signer.kid}!{signer.sign(data)}"


def mutate(text: str, rnd: random.Random) -> str:
    """One edit of a kind an attacker or a broken WLS could make."""
    choice = rnd.randrange(10)
    values = text.split("!")
    if choice < 5 and len(values) in (13, 14):  # fields changed, then signed again
        body = values[:-2]
        for _ in range(rnd.choice((1, 1, 2, 3))):
            body[rnd.randrange(len(body))] = rnd.choice(POOL)
        signer = rnd.choice((DEMO, DEMO, DEMO, OTHER, BIG, STRANGER, None))
        return sign(body, signer)
    if choice == 5 and len(values) in (13, 14):  # fields changed, old signature kept
        values[rnd.randrange(len(values))] = rnd.choice(POOL)
        return "!".join(values)
    if choice == 6 and len(values) in (13, 14) and decodes(values[-1]):  # sig respelt
        raw = decode_sig(values[-1])
        values[-1] = rnd.choice([
            encode_sig(raw[1:]), encode_sig(b"\x00" + raw), values[-1][:-2] + "B_",
            unused_bits_set(values[-1]), unused_bits_set(values[-1]),
            values[-1] + "_", values[-1][:-1], values[-1].replace("_", "="),
            values[-1][:10] + "+" + values[-1][11:], encode_sig(raw[:-1] + bytes([raw[-1] ^ 1])),
        ])
        values[-2] = rnd.choice((values[-2], values[-2], "", "0" + values[-2]))
        return "!".join(values)
    position = rnd.randrange(len(text) + 1)  # characters inserted, deleted, replaced
    piece = rnd.choice(["!", "%", "_", "-", ".", "=", "+", "/", "a", "0", "Z", "T", ",",
                        "\x00", "\u00e9", "%21", "!!", " "])
    how = rnd.randrange(3)
    if how == 0:
        return text[:position] + piece + text[position:]
    if how == 1:
        return text[:position] + text[position + 1:]
    return text[:position] + piece + text[position + len(piece):]


ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-."


def unused_bits_set(sig: str) -> str:
    """The same bytes in a second spelling, which the protocol refuses."""
    padding = len(sig) - len(sig.rstrip("_"))
    if not padding:
        return sig
    last = ALPHABET[ALPHABET.index(sig[-padding - 1]) | 1]
    return sig[: -padding - 1] + last + sig[-padding:]


def decodes(sig: str) -> bool:
    try:
        return bool(decode_sig(sig))
    except ResponseError:
        return False


def careful(cls: type[raven.Response], text: str) -> object:
    response = cls.__new__(cls)
    try:
        response._parse(text, None)
    except ResponseError as exc:
        return refused(exc)
    return read(response)


def refused(exc: ResponseError) -> tuple[object, ...]:
    return ("refused", type(exc), str(exc), exc.field, getattr(exc, "signature_verified", None))


def read(r: raven.Response) -> tuple[object, ...]:
    return ("accepted", r.ver, r.status, type(r.status), r.issue, r.kid, r.sig, r._fields,
            r.msg, r.id, r.url, r.principal, r.ptags, r.auth, r.sso, r.life, r.params,
            r.success, r.signed, repr(r))


def whole(cls: type[raven.Response], text: str) -> object:
    try:
        return read(cls(text))
    except ResponseError as exc:
        return refused(exc)


def compare(cls: type[raven.Response], text: str) -> bool:
    """Both ways give the same; True if the quick parse accepted it."""
    expected = careful(cls, text)
    assert whole(cls, text) == expected, text
    quick = cls.__new__(cls)
    took = quick._parse_success(text, None)
    if took:
        assert read(quick) == expected, text
    return took


def corpus() -> list[str]:
    rnd = random.Random(16)
    bases = base_responses()
    texts = list(bases)
    for _ in range(5000):
        text = rnd.choice(bases)
        for _ in range(rnd.choice((1, 1, 1, 2))):
            text = mutate(text, rnd)
        texts.append(text)
    successes = [text for text in bases if text.startswith("3!200!")]
    for _ in range(1500):  # successes the quick parse should take, or nearly
        fields = rnd.choice(successes).split("!")[:-2]
        for _ in range(rnd.choice((1, 2))):
            index = rnd.choice([2, 4, 5, 6, 7, 11])
            fields[index] = "".join(rnd.choice(PRINTABLE) for _ in range(rnd.randrange(12)))
        texts.append(sign(fields, rnd.choice((DEMO, OTHER, BIG))))
    return texts


PRINTABLE = [chr(c) for c in range(0x20, 0x7F) if c not in (0x21, 0x25)] + ["%21", "%25"]


def test_quick_and_careful_parses_agree_on_mutated_responses():
    took = refusals = 0
    kinds = set()
    for text in corpus():
        for cls in CLASSES:
            accepted = compare(cls, text)
            took += accepted
            outcome = careful(cls, text)
            refusals += outcome[0] == "refused"
            kinds.add(outcome[2].split(" ", 1)[0] if outcome[0] == "refused" else "accepted")
    # not vacuous: the quick parse took many, and refusals of many kinds were compared
    assert took > 1500 and refusals > 8000, (took, refusals)
    assert {"accepted", "ver", "status", "issue", "auth", "sso", "kid", "sig", "the",
            "a", "principal", "life"} <= kinds


def test_quick_parse_takes_the_common_success():
    text = make_response("https://www.example.cam.ac.uk/", issue=ISSUE, life=36000)
    quick = demo.Response.__new__(demo.Response)
    assert quick._parse_success(text, None)
    assert read(quick) == careful(demo.Response, text)


def test_quick_parse_leaves_long_responses_to_the_careful_one():
    text = make_response("https://h/" + "a" * 5000, issue=ISSUE)
    assert compare(demo.Response, text)  # the quick parse itself would take it
    assert demo.Response(text).url.endswith("a" * 5000)


def test_bytes_and_per_call_keys_agree_too():
    text = make_response("http://h/", issue=ISSUE, signing_key=OTHER)
    keys = {"7": OTHER.public_key}
    r = raven.Response(text.encode(), keys=keys)
    expected = raven.Response.__new__(raven.Response)
    expected._parse(text, keys)
    assert read(r) == read(expected)


field_value = st.sampled_from(POOL) | st.text(
    st.sampled_from("az09-,%215!_.T Z\u00e9\x01"), max_size=12)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    ver=st.sampled_from([3, 3, 3, 2, 1]),
    status=st.sampled_from(["200", "200", "410", "520", "570", "299"]),
    edits=st.dictionaries(st.integers(0, 13), field_value, max_size=4),
    signer=st.sampled_from([DEMO, DEMO, OTHER, BIG, STRANGER, None]),
    cls=st.sampled_from(CLASSES),
)
def test_quick_and_careful_parses_agree_on_generated_responses(ver, status, edits, signer, cls):
    fields = make_response("http://host/path", issue=ISSUE, ver=ver, life=60).split("!")[:-2]
    fields[1] = status
    for index, value in edits.items():
        if index < len(fields):
            fields[index] = value
    compare(cls, sign(fields, signer))


def test_field_layouts_cover_both_versions():
    assert len(field_names(3)) == 14 and len(field_names(1)) == 13
    assert MAX_RESPONSE_LENGTH == 16384
