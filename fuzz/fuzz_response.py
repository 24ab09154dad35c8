"""Coverage-guided fuzzing of the response parser with atheris.

    python fuzz/fuzz_response.py -runs=200000        # or -max_total_time=60

Anything but a documented ResponseError from ``Response`` is a crash and
stops the run with a non-zero exit status.
"""

import sys

import atheris

with atheris.instrument_imports():
    from raven.demoserver import Response
    from raven.errors import ResponseError
    from raven.testing import make_response

SEEDS = [
    make_response("https://example.org/a?b=c", params="x!y%z", life=10, msg="hi"),
    make_response("http://h/", status=410, ver=1),
    make_response("http://h/", auth=None, sso={"pwd"}, ver=2),
]


def one_input(data: bytes) -> None:
    provider = atheris.FuzzedDataProvider(data)
    choice = provider.ConsumeIntInRange(0, 3)
    if choice == 3:
        candidate: str | bytes = provider.ConsumeBytes(provider.remaining_bytes())
    else:
        # Splice fuzz bytes into a valid response, where the parser's
        # interesting branches are.
        seed = SEEDS[choice]
        at = provider.ConsumeIntInRange(0, len(seed))
        cut = provider.ConsumeIntInRange(0, 8)
        candidate = seed[:at] + provider.ConsumeUnicodeNoSurrogates(8) + seed[at + cut:]
    try:
        Response(candidate)
    except ResponseError:
        pass


if __name__ == "__main__":
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
