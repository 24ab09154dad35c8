"""What the paired benchmarks share: the command line, python-raven as it
was at a past revision, the interleaved rounds and the ratios printed.

Ratios taken from two separate runs differ by a few per cent with
nothing but the process's memory layout, so every contender runs in one
process, in many short rounds whose order turns, and each figure is the
median of per-round ratios (with its quartiles).
"""

from __future__ import annotations

import argparse
import atexit
import importlib
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterable
from io import BytesIO
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
#: The name python-raven at a past revision is imported under.
THEN = "raven_then"


def arguments(doc: str | None, rounds: int) -> argparse.Namespace:
    """``--against REV`` and ``--rounds N``, with the script's first paragraph."""
    parser = argparse.ArgumentParser(description=(doc or "").split("\n\n")[0])
    parser.add_argument("--against", metavar="REV", help="also python-raven at git revision REV")
    parser.add_argument("--rounds", type=int, default=rounds,
                        help=f"rounds of each contender (default {rounds})")
    return parser.parse_args()


_imported: dict[str, Path] = {}


def raven_at(revision: str, module: str) -> ModuleType:
    """``raven.<module>`` as it was at git ``revision``, imported as
    ``raven_then.<module>`` beside today's ``raven`` (one revision per process)."""
    if revision not in _imported:
        if _imported:
            raise RuntimeError("one past revision per process")
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision, "src/raven"],
                                 check=True, capture_output=True).stdout
        where = Path(tempfile.mkdtemp(prefix="raven-then-"))
        atexit.register(shutil.rmtree, where, ignore_errors=True)
        with tarfile.open(fileobj=BytesIO(archive)) as tar:
            tar.extractall(where, filter="data")
        package = where / THEN
        (where / "src" / "raven").rename(package)
        for path in package.rglob("*.py"):
            text = re.sub(r"\b(from|import) raven\b", rf"\1 {THEN}", path.read_text())
            # dotted names in strings ("raven.django.backends.RavenBackend"), not in bytes
            text = re.sub(r"(?<!b)([\"'])raven\.", rf"\1{THEN}.", text)
            path.write_text(text.replace('PackageLoader("raven"', f'PackageLoader("{THEN}"'))
        sys.path.insert(0, str(where))
        _imported[revision] = where
    return importlib.import_module(f"{THEN}.{module}")


def paired_rounds(candidates: dict[str, Callable[[], object]], rounds: int, number: int
                  ) -> dict[str, list[float]]:
    """Seconds per request of each candidate in each round; the order of
    the candidates turns every round, so drift hits them all alike.
    A candidate is a function making ``number`` requests."""
    names = list(candidates)
    times: dict[str, list[float]] = {name: [] for name in names}
    for i in range(rounds):
        for name in names[i % len(names):] + names[:i % len(names)]:
            fn = candidates[name]
            start = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - start) / number)
    return times


def repeat(one_request: Callable[[], object], number: int) -> Callable[[], None]:
    """``number`` calls of ``one_request``, as one candidate."""
    def many() -> None:
        for _ in range(number):
            one_request()
    return many


def median_and_spread(values: list[float]) -> tuple[float, float, float]:
    q = statistics.quantiles(values, n=4)
    return statistics.median(values), q[0], q[2]


def report(times: dict[str, list[float]], comparisons: Iterable[tuple[str, str, str]],
           number: int) -> None:
    """Each contender's median time, then each comparison's ratio."""
    width = max(len(name) for name in times)
    for name, values in times.items():
        print(f"{name:>{width}}: {statistics.median(values) * 1e6:6.1f} µs per request (median)")
    rounds = len(next(iter(times.values())))
    print(f"median of per-round ratios over {rounds} rounds of {number} requests "
          "(interquartile range):")
    for ours, theirs, goal in comparisons:
        ratios = [a / b for a, b in zip(times[ours], times[theirs], strict=True)]
        mid, low, high = median_and_spread(ratios)
        print(f"  {ours} / {theirs}: {mid:.3f}  ({low:.3f}-{high:.3f})  {goal}")


def added_cost(times: dict[str, list[float]], ours: str, theirs: str, base: str) -> None:
    """What ``ours`` adds over ``base``, as a share of what ``theirs`` adds."""
    added = [(r - b) / (f - b) for r, f, b in
             zip(times[ours], times[theirs], times[base], strict=True)]
    mid, low, high = median_and_spread(added)
    print(f"  added cost {ours} / {theirs} (over {base}): {mid:.2f}  ({low:.2f}-{high:.2f})")
