"""Refusals cost a few passes over the input, whatever it holds: checked by structure.

Time is the benchmark's to measure (benchmarks/bench_parse.py); here we
check the two things that make the cost linear with a small constant:
no pattern can go back over a field it has matched (each field atomic,
each repeat a single character class), and the Python steps taken do
not grow with the input (every pass over it is one call into C), but for
a halving search that adds a few steps when the length doubles.
"""

from __future__ import annotations

import math
import re
import sys
from datetime import datetime

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import raven.demoserver as demo
from raven.errors import ResponseError
from raven.keys import DEMO_KEYS, SigningKey
from raven.protocol import (
    _PATTERNS,
    RESPONSE_FIELDS,
    SUCCESS_PATTERN,
    WHOLE_PATTERN,
    _first_bad_escape,
    _first_unprintable,
    is_type_list,
    list_within,
    split_list,
)
from raven.testing import make_response

if sys.version_info >= (3, 11):
    from re import _constants as c
    from re import _parser as parser
else:  # pragma: no cover - the names before 3.11
    import sre_constants as c
    import sre_parse as parser

REPEATS = {c.MAX_REPEAT, c.MIN_REPEAT} | ({c.POSSESSIVE_REPEAT} if sys.version_info >= (3, 11)
                                          else set())
ATOMIC = {c.ASSERT, c.ASSERT_NOT} | ({c.ATOMIC_GROUP} if sys.version_info >= (3, 11) else set())
ONE_CHARACTER = {c.IN, c.LITERAL, c.NOT_LITERAL, c.ANY}


def loose_repeats(items, atomic=False):
    """Repeats that could be re-entered from outside, or that step per item."""
    found = []
    for op, arg in items:
        if op in REPEATS:
            low, high, body = arg
            if high > 1 and low != high:
                if not (atomic or op not in (c.MAX_REPEAT, c.MIN_REPEAT)):
                    found.append(("not atomic", str(body)))
                if len(body) != 1 or body[0][0] not in ONE_CHARACTER:
                    found.append(("a step per item", str(body)))
            found += loose_repeats(body, atomic or op not in (c.MAX_REPEAT, c.MIN_REPEAT))
        elif op in ATOMIC:
            found += loose_repeats(arg if op not in (c.ASSERT, c.ASSERT_NOT) else arg[1], True)
        elif op is c.SUBPATTERN:
            found += loose_repeats(arg[-1], atomic)
        elif op is c.BRANCH:
            for branch in arg[1]:
                found += loose_repeats(branch, atomic)
    return found


PATTERNS = {
    **{f"whole v{ver}": pattern for ver, pattern in WHOLE_PATTERN.items()},
    "success": SUCCESS_PATTERN,
    **{f"field {name}": pattern for name, pattern in _PATTERNS.items()},
}


@pytest.mark.parametrize("name", PATTERNS)
def test_no_pattern_goes_back_over_a_field(name):
    pattern = PATTERNS[name]
    assert loose_repeats(parser.parse(pattern.pattern, pattern.flags)) == []


def test_the_structural_check_would_catch_the_old_patterns():
    old_sso = r"((?:[a-z][a-z0-9-]*(?:,[a-z][a-z0-9-]*)*)?)!([^!]*)!"
    assert ("a step per item", ) <= tuple(
        why for why, _ in loose_repeats(parser.parse(old_sso, 0)))
    assert loose_repeats(parser.parse(r"([^!]*)!", 0))[0][0] == "not atomic"


ISSUE = datetime(2024, 1, 1)
DEMO = SigningKey.demo()


def resigned(body: str) -> str:
    return f"{body}!901!{DEMO.sign(body.encode())}"


def good(**changes: object) -> str:
    return make_response("https://h/", issue=ISSUE, life=60, **changes)


# kind -> length -> a response of about that length that is refused
FAMILIES = {
    "control character at the end": lambda n: good(msg="a" * n + "\x01"),
    "unprintable at the end, non-ASCII": lambda n: good(msg="\u00e9" * n + "\u2028"),
    "stray % after many escapes": lambda n: good().replace("!!", "!" + "%21" * (n // 3) + "%2!", 1),
    "long sso, bad end": lambda n: good().replace("!pwd!!", "!!" + "a" * n + "$!"),
    "long sso list, comma at the end": lambda n: good().replace(
        "!pwd!!", "!!" + "a," * (n // 2) + "!"),
    "unknown types in a long sso, unsigned": lambda n: make_response(
        "https://h/", status=410, issue=ISSUE).replace(
        "!!!!!!", "!!!!" + "ab," * (n // 3) + "ab!!"),
    "unknown types in a long sso, signed": lambda n: resigned(
        good().rsplit("!", 2)[0].replace("!pwd!!", "!!" + "ab," * (n // 3) + "ab!")),
    "bad date after the signature": lambda n: resigned(
        good(msg="a" * n).rsplit("!", 2)[0].replace("20240101T000000Z", "20240230T000000Z")),
    "many '!'": lambda n: "3" + "!" * n,
    "long sig": lambda n: good() + "A" * n,
    "long kid": lambda n: good().replace("!901!", "!" + "1" * n + "!"),
    "signature does not verify": lambda n: good(msg="a" * n).replace("!a", "!b", 1),
    "too many fields in the sig": lambda n: good() + "!" * n,
}


def python_steps(text: str) -> int:
    steps = 0

    def trace(frame, event, arg):
        nonlocal steps
        steps += 1
        return trace

    previous = sys.gettrace()  # a coverage run's tracer: put back, or it stops counting
    sys.settrace(trace)
    try:
        demo.Response(text)
    except ResponseError:
        pass
    else:  # pragma: no cover
        raise AssertionError("accepted")
    finally:
        sys.settrace(previous)
    return steps


@pytest.mark.parametrize("kind", FAMILIES)
def test_python_steps_do_not_grow_with_the_input(kind):
    lengths = (500, 1000, 2000, 4000, 8000, 15000)
    # The fewest of three: a garbage collection that runs a finaliser in the
    # middle of one call counts steps that are not the parser's.
    steps = {n: min(python_steps(FAMILIES[kind](n)) for _ in range(3)) for n in lengths}
    assert all(len(FAMILIES[kind](n)) <= 16384 for n in lengths)
    assert steps[500] > 10  # the tracer saw the parser
    for n in lengths:  # at most a few steps more each time the length doubles
        assert steps[n] <= steps[500] + 10 * math.log2(n / 500), steps


def test_an_unknown_kid_names_a_few_of_many_trusted_kids():
    many = {str(kid): DEMO_KEYS["901"] for kid in range(1000, 4000)}
    with pytest.raises(ResponseError) as info:
        demo.Response(good(), keys=many)
    assert str(info.value).endswith(
        "(trusted kids: 1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009 "
        "and 2990 more)")
    few = {"3": DEMO_KEYS["901"], "20": DEMO_KEYS["901"]}
    with pytest.raises(ResponseError) as info:
        demo.Response(good(), keys=few)
    assert str(info.value).endswith("(trusted kids: 20, 3)")


# The helpers that replace a regex step per item must say exactly what the
# simple formulation says.

lists = st.text(st.sampled_from("az09-,!A\u00e9 "), max_size=14)


@settings(max_examples=800, deadline=None)
@given(lists)
def test_is_type_list_is_the_protocols_sso_rule(value):
    rule = dict((name, pattern) for name, pattern, _ in RESPONSE_FIELDS)["sso"]
    assume("!" not in value)
    assert is_type_list(value) == bool(re.fullmatch(rule, value, re.ASCII))


@settings(max_examples=800, deadline=None)
@given(st.lists(st.sampled_from(["pwd", "x-a", "x", "pwdx", "xpwd", "p"]), min_size=1, max_size=8),
       st.sets(st.sampled_from(["pwd", "x-a", "x", "", "pwd,x", "q"])))
def test_list_within_is_subset_of_known(items, known):
    text = ",".join(items)
    assert list_within(text, known) == (split_list(text) <= known)


@settings(max_examples=800, deadline=None)
@given(st.lists(st.sampled_from(["%21", "%25", "%2", "%", "1", "5", "2", "a", "\u00e9", "%%"]),
                max_size=30))
def test_the_first_bad_escape_is_the_first_a_search_finds(pieces):
    text = "".join(pieces)
    found = re.search(r"%(?!2[15])", text)
    assert _first_bad_escape(text) == (found.start() if found else len(text))


@settings(max_examples=800, deadline=None)
@given(st.text(max_size=60).filter(lambda text: not text.isprintable()))
def test_the_first_unprintable_is_the_first_in_order(text):
    assert _first_unprintable(text) == next(ch for ch in text if not ch.isprintable())
