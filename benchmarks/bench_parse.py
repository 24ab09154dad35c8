"""Parse + verify of a signed v3 success, against the bare cryptography floor.

The floor is the work no Ucam-WebAuth library can avoid: decode the
signature from the protocol's base64 variant, then SHA-1 and an RSA
PKCS#1 v1.5 verification of the same bytes with an already-loaded key.
Both run interleaved in one process, so machine noise hits them alike.

    python benchmarks/bench_parse.py
"""

from __future__ import annotations

import binascii
import timeit

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from raven.demoserver import Response
from raven.keys import DEMO_KEYS, SigningKey
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

    def ours() -> None:
        Response(string)

    best = {"floor": float("inf"), "python-raven": float("inf")}
    for _ in range(ROUNDS):
        for name, fn in (("floor", floor), ("python-raven", ours)):
            best[name] = min(best[name], timeit.timeit(fn, number=NUMBER) / NUMBER)
    for name, seconds in best.items():
        print(f"{name:>14}: {seconds * 1e6:7.2f} µs per response")
    print(f"ratio python-raven / floor: {best['python-raven'] / best['floor']:.2f}x "
          "(goal <= 1.25x; the C-extension peer is about 2.1x)")


if __name__ == "__main__":
    main()
