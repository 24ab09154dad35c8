"""The checks only the application can make on a verified response, in
their one order: the URL it came back to, the params token that binds it
to this browser (where the caller keeps tokens), how the user
authenticated, and its age.

:func:`raven.validate_response`, the login-flow core and the response
explainer all run this sequence, with one convention for the issue
window: ``issue_bounds = (seconds in the past, seconds in the future)``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from datetime import datetime

from .errors import ParamsMismatchError, ResponseError
from .protocol import check_atypes, check_issue, check_url
from .response import Response

#: The names of the checks, in the order they are made.
APPLICATION_CHECKS = ("url", "params", "iact/aauth", "issue")


def issue_window(max_age: float, clock_skew: float) -> tuple[float, float]:
    """``(past, future)`` bounds from a transit allowance and a clock skew,
    as mod_ucam_webauth's AAResponseTimeout and AAClockSkew combine."""
    return max_age + clock_skew, clock_skew


def run_checks(
    response: Response,
    url: str,
    *,
    iact: bool | None,
    aauth: Iterable[str] | None,
    issue_bounds: tuple[float, float],
    now: datetime,
    tokens: Collection[str] | None = None,
) -> Iterator[tuple[str, ResponseError | None]]:
    """Each check's name with its error, or None if it passed, in order.

    ``params`` is checked against ``tokens`` if given (else skipped);
    ``iact/aauth`` applies to a success only.
    """
    for name in APPLICATION_CHECKS:
        try:
            if name == "url":
                check_url(response.url, url, response.ver)
            elif name == "params":
                if tokens is None:
                    continue
                if response.params not in tokens:
                    raise ParamsMismatchError(
                        "the response does not answer a login started by this browser "
                        "session, or it was used already", field="params",
                    )
            elif name == "iact/aauth":
                if not response.success:
                    continue
                check_atypes(response.auth, response.sso, iact, aauth, response.known_atypes)
            else:
                check_issue(response.issue, now, *issue_bounds)
        except ResponseError as exc:
            yield name, exc
        else:
            yield name, None


def check_application(
    response: Response,
    url: str,
    *,
    iact: bool | None,
    aauth: Iterable[str] | None,
    issue_bounds: tuple[float, float],
    now: datetime,
) -> None:
    """Raise the first failing check's error."""
    for _, error in run_checks(
        response, url, iact=iact, aauth=aauth, issue_bounds=issue_bounds, now=now
    ):
        if error is not None:
            raise error
