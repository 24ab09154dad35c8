"""Parse + verify of a signed v3 success, against the bare cryptography floor.

The floor is the work no Ucam-WebAuth library can avoid: decode the
signature from the protocol's base64 variant, then SHA-1 and an RSA
PKCS#1 v1.5 verification of the same bytes with an already-loaded key.
A second reference, "minimal", is the least a parser written in Python
must add to that: one regex for the fields' shape, the key lookup and the
issue date, with none of the protocol's other rules. All run interleaved
in one process, so machine noise hits them alike.

    python benchmarks/bench_parse.py
"""

from __future__ import annotations

import binascii
import timeit
from datetime import datetime

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from raven.demoserver import Response
from raven.keys import DEMO_KEYS, SigningKey
from raven.protocol import WHOLE_PATTERN
from raven.response import mint_response

ROUNDS = 15
NUMBER = 5000


def main() -> None:
    string = mint_response(
        SigningKey.demo(), url="https://www.example.cam.ac.uk/members/",
        principal="test0001", ptags={"current"}, auth="pwd", life=36000,
        params="f3a1c2b4d5e6f708",
    )
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
        datetime.fromisoformat(fields[3][:15])

    def ours() -> None:
        Response(string)

    runs = (("floor", floor), ("minimal", minimal), ("python-raven", ours))
    best = {name: float("inf") for name, _ in runs}
    for _ in range(ROUNDS):
        for name, fn in runs:
            best[name] = min(best[name], timeit.timeit(fn, number=NUMBER) / NUMBER)
    for name, seconds in best.items():
        print(f"{name:>14}: {seconds * 1e6:7.2f} µs per response")
    print(f"ratio python-raven / floor: {best['python-raven'] / best['floor']:.2f}x "
          "(goal <= 1.25x; the C-extension peer is about 2.1x)")
    print(f"ratio minimal / floor:      {best['minimal'] / best['floor']:.2f}x "
          "(what Python alone adds before any protocol rule)")


if __name__ == "__main__":
    main()
