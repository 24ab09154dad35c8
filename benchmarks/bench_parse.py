"""Parse + verify of a signed v3 success, and the worst refusals, against the floor.

The floor is the work no Ucam-WebAuth library can avoid: decode the
signature from the protocol's base64 variant, then SHA-1 and an RSA
PKCS#1 v1.5 verification of the same bytes with an already-loaded key.
A second reference, "minimal", is the least a parser written in Python
must add to that: one regex for the fields' shape, the key lookup and the
issue date, with none of the protocol's other rules.

Refusals: for each kind, inputs of the longest length we read (16 KB)
built to be as costly as we know how; the worst of each kind is shown.

On a shared machine whole runs disagree, so the contenders alternate in
many short rounds, each round's times are divided by that round's floor,
and the median of those ratios is reported with its spread (the middle
half of the rounds).

    python benchmarks/bench_parse.py [rounds]
"""

from __future__ import annotations

import binascii
import statistics
import sys
import timeit
from collections.abc import Callable
from datetime import datetime

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from raven.demoserver import Response
from raven.errors import ResponseError
from raven.keys import DEMO_KEYS, SigningKey
from raven.protocol import MAX_RESPONSE_LENGTH, WHOLE_PATTERN, encode_sig, issue_from_digits
from raven.response import mint_response

ROUNDS = 41
NUMBER = 200  # calls per round for the accepting contenders
FLOOR = 100  # calls of the floor before and after each contender
REFUSALS = 10  # calls per round for each refusal

URL = "https://www.example.cam.ac.uk/members/"
FIELDS = dict(url=URL, principal="test0001", ptags={"current"}, auth="pwd", life=36000,
              params="f3a1c2b4d5e6f708", issue=datetime(2024, 1, 1))


def mint(signed: bool = True, **changes: object) -> str:
    fields = {**FIELDS, **changes}
    return mint_response(SigningKey.demo() if signed else None, **fields)  # type: ignore[arg-type]


def fill(template: str, filler: str) -> str:
    """``template`` with ``@`` replaced by as much ``filler`` as 16 KB allows."""
    room = MAX_RESPONSE_LENGTH - len(template) + 1
    return template.replace("@", (filler * (room // len(filler) + 1))[:room])


def resign(body: str) -> str:
    """A body signed for real: refusals after the signature verified."""
    return f"{body}!901!{SigningKey.demo().sign(body.encode())}"


def fill_signed(template: str, filler: str) -> str:
    return resign(fill(template + "!901!" + "A" * 172, filler).rsplit("!", 2)[0])


def refusal_cases() -> dict[str, dict[str, Callable[[], object]]]:
    """kind → variant → a call that must raise."""
    good = mint()
    body, _kid, sig = good.rsplit("!", 2)
    fields = body.split("!")

    def at(index: int, value: str) -> str:
        """good, with field ``index`` replaced (@ marks the filler)."""
        return "!".join(fields[:index] + [value] + fields[index + 1:]) + f"!901!{sig}"

    many_keys = {str(kid): DEMO_KEYS["901"] for kid in range(1000, 2000)}
    raw = binascii.a2b_base64(sig.encode().translate(bytes.maketrans(b"-._", b"+/=")))
    wrong_sig = encode_sig(bytes([raw[0] ^ 1]) + raw[1:])
    texts: dict[str, dict[str, str | bytes | tuple[str, dict[str, object]]]] = {
        "too long": {"16 KB + 1": "3" + "!" * MAX_RESPONSE_LENGTH},
        "not UTF-8": {"bad last byte": fill("3!@", "a").encode()[:-1] + b"\xff"},
        "ver": {"16 KB ver": fill("@", "3")},
        "field count": {
            "16 KB of '!'": fill("3@", "!"), "'!' in a long sig": fill(good + "@", "!"),
        },
        "field shape": {
            "long ptags, bad auth": fill(at(7, "@").replace("!pwd!", "!PWD!"), "a"),
            "long id, bad life": fill(at(4, "@").replace("!36000!", "!x!"), "a"),
            "long auth, bad end": fill(at(8, "@$"), "a"),
            "long sso, bad end": fill(at(9, "@$"), "a"),
            "long sso a-a-, bad end": fill(at(9, "@$"), "a-"),
            "long sso a,a,, comma at end": fill(at(9, "@,"), "a,"),
            "long sso of known types, bad life": fill(at(9, "@pwd").replace("!36000!", "!x!"),
                                                      "pwd,"),
            "long kid": fill(good.replace("!901!", "!@!"), "1"),
        },
        "unprintable": {
            "ASCII, at the end": fill(at(2, "@\x01"), "a"),
            "non-ASCII, at the end": fill(at(2, "@\x01"), "\u00e9"),
            "non-ASCII U+2028, at the end": fill(at(2, "@\u2028"), "\u20ac"),
        },
        "stray %": {
            "after 5,000 escapes": fill(at(2, "@%2"), "%21"),
            "early in a long field": fill(at(2, "%@"), "a"),
        },
        "sig encoding": {
            "long sig, bad end": fill(good + "@$", "A"),
            "unused bits set": good[:-2] + "B_",
        },
        "unknown kid": {"1,000 trusted keys": (good, many_keys)},
        "signature": {
            "short response": f"{body}!901!{wrong_sig}",
            "16 KB response": fill(at(2, "@"), "a"),
        },
        "rules after the signature": {
            "bad date, 16 KB": fill_signed(at(3, "20240230T000000Z").rsplit("!", 2)[0]
                                           .replace("!test0001!", "!@!"), "a"),
            "unknown types in a 16 KB sso": fill_signed(
                at(9, "@ab").rsplit("!", 2)[0].replace("!pwd!", "!!"), "ab,"),
        },
        "combination, unsigned": {
            "failure with a 16 KB sso": fill(
                mint(False, status=410, principal=None, ptags=None, auth=None, life=None)
                .replace("!!!!!!f3a1", "!!!!@ab!!f3a1"), "ab,"),
        },
    }
    cases: dict[str, dict[str, Callable[[], object]]] = {}
    for kind, variants in texts.items():
        for name, text in variants.items():
            args, keys = (text if isinstance(text, tuple) else (text, None))
            if isinstance(args, str):
                assert len(args) <= MAX_RESPONSE_LENGTH or kind == "too long", (kind, name)
            try:
                Response(args, keys=keys)
            except ResponseError:
                pass
            else:
                raise AssertionError(f"{kind}: {name} was accepted")

            def refuse(args: object = args, keys: object = keys) -> None:
                try:
                    Response(args, keys=keys)  # type: ignore[arg-type]
                except ResponseError:
                    pass

            cases.setdefault(kind, {})[name] = refuse
    return cases


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else ROUNDS
    string = mint(issue=None)
    body, _kid, sig = string.rsplit("!", 2)
    data = body.encode()
    key = DEMO_KEYS["901"]
    table = bytes.maketrans(b"-._", b"+/=")
    pkcs1, sha1 = padding.PKCS1v15(), hashes.SHA1()

    def floor() -> None:
        key.verify(binascii.a2b_base64(sig.encode().translate(table)), data, pkcs1, sha1)

    pattern, keys = WHOLE_PATTERN[3], {"901": key}

    def minimal() -> None:
        match = pattern.match(string)
        fields, end = match.groups(), match.end()
        signature = binascii.a2b_base64(string[end:].encode().translate(table))
        signed = string[: end - len(fields[-1]) - 2].encode()
        keys[fields[-1]].verify(signature, signed, pkcs1, sha1)
        issue_from_digits(fields[3])  # datetime.fromisoformat from Python 3.11

    def ours() -> None:
        Response(string)

    refusals = [(f"{kind}: {name}", fn) for kind, variants in refusal_cases().items()
                for name, fn in variants.items()]
    contenders = [("minimal", minimal, NUMBER), ("python-raven", ours, NUMBER)]
    contenders += [(name, fn, REFUSALS) for name, fn in refusals]
    ratios: dict[str, list[float]] = {name: [] for name, _, _ in contenders}
    floors = []

    def floor_time() -> float:
        floors.append(timeit.timeit(floor, number=FLOOR) / FLOOR)
        return floors[-1]

    for i in range(rounds):
        order = contenders if i % 2 else contenders[::-1]  # no contender always first
        before = floor_time()
        for name, fn, n in order:  # each between two short runs of the floor
            seconds = timeit.timeit(fn, number=n) / n
            after = floor_time()
            ratios[name].append(2 * seconds / (before + after))
            before = after

    def summary(name: str) -> tuple[float, float, float]:
        q1, median, q3 = statistics.quantiles(ratios[name], n=4)
        return median, q1, q3

    print(f"{rounds} rounds; floor {statistics.median(floors) * 1e6:.2f} µs per response "
          "(median of rounds); ratios are per-round medians, middle half in brackets")
    for name in ("minimal", "python-raven"):
        median, q1, q3 = summary(name)
        print(f"  {name:<14} {median:5.2f}x the floor  [{q1:.2f}-{q3:.2f}]")
    print("worst 16 KB refusal of each kind:")
    worst_kind: dict[str, tuple[float, str]] = {}
    for name, _ in refusals:
        kind, variant = name.split(": ", 1)
        worst_kind[kind] = max(worst_kind.get(kind, (0.0, "")), (summary(name)[0], variant))
    for kind, (median, variant) in worst_kind.items():
        _, q1, q3 = summary(f"{kind}: {variant}")
        print(f"  {kind:<26} {median:5.2f}x the floor  [{q1:.2f}-{q3:.2f}]  ({variant})")
    ours_median, q1, q3 = summary("python-raven")
    worst, worst_name = max((summary(name)[0], name) for name, _ in refusals)
    print(f"ratio python-raven / floor: {ours_median:.2f}x [{q1:.2f}-{q3:.2f}] "
          "(goal <= 1.25x; the C-extension peer is about 2.1x)")
    print(f"ratio minimal / floor:      {summary('minimal')[0]:.2f}x "
          "(what Python alone adds before any protocol rule)")
    print(f"worst refusal / floor:      {worst:.2f}x (goal <= 10x; {worst_name})")


if __name__ == "__main__":
    main()
