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
from typing import Any

from .errors import ParamsMismatchError, ResponseError
from .protocol import check_atypes, check_issue, check_url
from .response import Response, _KeyHolder, utcnow

#: The names of the checks, in the order they are made.
APPLICATION_CHECKS = ("url", "params", "iact/aauth", "issue")


def params_mismatch() -> ParamsMismatchError:
    """The refusal of a response whose params is no token this browser holds."""
    return ParamsMismatchError(
        "the response does not answer a login started by this browser session, "
        "or it was used already", field="params",
    )


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
                    raise params_mismatch()
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


def check_application(response: Response, url: str, **given: Any) -> None:
    """Raise the first failing check's error (arguments as :func:`run_checks`)."""
    for _, error in run_checks(response, url, **given):
        if error is not None:
            raise error


def validate_response(
    response: Response | str | bytes,
    url: str,
    *,
    iact: bool | None = None,
    aauth: Iterable[str] | None = None,
    max_age: float = 20,
    clock_skew: float = 5,
    now: datetime | None = None,
    response_class: type[Response] = Response,
    wls: _KeyHolder | None = None,
) -> Response:
    """Parse (if needed) and apply the checks only the application can make.

    ``url`` is the URL this response should have come back to: the ``url``
    you sent in the request. The issue time must lie within ``max_age``
    seconds before ``now`` (plus ``clock_skew``), and no more than
    ``clock_skew`` seconds after. For a success, how the user authenticated
    must satisfy ``iact`` and ``aauth``. ``wls`` (a :class:`raven.WLS`)
    chooses the keys trusted; by default, live Raven's. Returns the
    response; raises a :class:`raven.errors.ResponseError` naming the
    failed check. A failure status (such as a cancel) passes: look at
    ``response.success``.
    """
    if not isinstance(response, Response):
        response = response_class(response, wls=wls)
    check_application(
        response, url, iact=iact, aauth=aauth,
        issue_bounds=issue_window(max_age, clock_skew), now=now or utcnow(),
    )
    return response
