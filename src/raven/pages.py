"""What a refusal page shows, decided once for every adapter.

An adapter that refuses a request renders ``raven/<refusal.page>.html``
with the dictionary :func:`refusal_context` returns. The rules for what a
person is told live here, so that a Flask, WSGI, ASGI and Django site say
the same true things and offer the same ways on:

- every page names the site (its ``desc`` setting), says in plain words
  what happened, and offers a next step that works: a same-site log-out
  form (a POST), the link to the right address for a wrong host, the home
  page, or "log in again";
- "Check that failed: X" stays, as a note for the people who run the site;
- a site's ``contact`` setting adds a line saying whom to ask;
- in debug mode the page also shows the refusal's log line.

Keys whose value is not known are left out rather than set to None, so
that a framework's own context (a Flask context processor giving
``logout_url``, say) can still supply them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from .flow import Refuse, split_response
from .origin import site_url
from .protocol import STATUS_CODES
from .settings import Settings

__all__ = ["STATUS_ADVICE", "refusal_context", "right_address"]

#: A WLS failure status in plain words: what happened, and what to do.
STATUS_ADVICE: dict[int, tuple[str, str]] = {
    410: ("You chose not to log in, so this page cannot be shown.",
          "Nothing has changed. Log in again when you are ready, or go to the home page."),
    510: ("Raven could not log you in in any of the ways this site accepts.",
          "This is a setting of the site, not something you can change: please "
          "tell the people who run it."),
    520: ("This site asked Raven in a form Raven does not understand.",
          "This is a fault in the site, not something you did: please tell the "
          "people who run it."),
    530: ("This site's request to Raven was not valid.",
          "This is a fault in the site, not something you did: please tell the "
          "people who run it."),
    540: ("This page may only log you in if you are already logged in to Raven, "
          "and you are not.",
          "Log in to Raven first (from a page of this site that asks you to log "
          "in), then come back to this page."),
    560: ("Raven does not allow this site to use it for logging in.",
          "Only the people who run this site can fix this: please tell them."),
    570: ("Raven declined to log you in to this site.",
          "Your account may not be allowed to use this site through Raven. If "
          "you think it should be, ask the people who run the site."),
}


def right_address(origins: Iterable[str] | None, path: str, query: str | bytes = "") -> str | None:
    """The same path (and query, less any ``WLS-Response``) at the site's
    configured origin, for a request that came to a host the site does not
    answer to; None if no origin is configured. With several origins an
    https one is preferred."""
    if not origins:
        return None
    origin = sorted(origins, key=lambda o: (not o.startswith("https://"), o))[0]
    if isinstance(query, str):
        query = query.encode("utf-8", "replace")
    try:
        _, rest = split_response(query)
    except ValueError:
        rest = b""
    return site_url(origin, "/" + path.lstrip("/"), rest)  # never "//host": our own origin


def refusal_context(
    refusal: Refuse,
    settings: Settings,
    *,
    script_root: str = "",
    path: str | None = None,
    query: str | bytes = "",
    logout_url: str | None = None,
    logout_fields: Iterable[tuple[str, str]] = (),
    home_url: str | None = None,
    cookie_came_back: bool | None = None,
    debug: bool = False,
) -> dict[str, Any]:
    """The template context for ``refusal``'s page.

    ``script_root`` is where the site is mounted ("" at the root); ``path``
    and ``query`` the request's (path including ``script_root``), for the
    wrong-host link and a logout form that posts back to where it was
    refused; ``logout_url`` the site's own log-out view (a POST) with its
    hidden ``logout_fields`` (a CSRF token, say; a sequence is passed on
    as it is, so it may compute its items only when a page shows the form),
    else the ``site_logout``
    setting is used; ``home_url`` the site's home page (default
    ``script_root + "/"``); ``cookie_came_back`` whether the browser sent
    back the cookie that holds the site's state (None: not known), which
    decides what the no-cookies page may claim; ``debug`` adds the
    refusal's log line.
    """
    context: dict[str, Any] = dict(refusal.context)
    context.update(
        # a rule or Raven refused, not a check: no "Check that failed" note
        check=(None if refusal.page in ("forbidden", "login_failed")
               else refusal.context.get("check", refusal.check)),
        reason=refusal.reason,
        status=refusal.status,
        site_name=settings.desc or "this site",
        site_named=settings.desc is not None,
        home_url=home_url or script_root + "/",
    )
    if settings.contact:
        context["contact"] = settings.contact
    if debug and refusal.log is not None:
        context["debug_detail"] = refusal.log.message

    if settings.site_logout is not None:  # the site's own choice wins
        logout_url = script_root + settings.site_logout
    if logout_url is None and refusal.page == "logout_refused" and path is not None:
        logout_url = path  # the log-out view itself refused: a form that posts to it
    if logout_url is not None:
        context["logout_url"] = logout_url
        context["logout_fields"] = (logout_fields if isinstance(logout_fields, Sequence)
                                    else list(logout_fields))  # a template may iterate twice

    if refusal.check == "host" and path is not None:
        right = right_address(settings.origins, path, query)
        if right is not None:
            context["right_url"] = right

    if cookie_came_back is not None:
        context.setdefault("cookie_came_back", cookie_came_back)
    if refusal.page == "forbidden":
        context.setdefault("logged_in", True)
    elif refusal.page == "login_failed":
        status = refusal.context.get("wls_status")
        what, then = STATUS_ADVICE.get(status, (  # type: ignore[arg-type]
            "Raven did not log you in.", "Please tell the people who run this site."))
        context.update(wls_what=what, wls_then=then,
                       wls_status_text=STATUS_CODES.get(status, ""))  # type: ignore[arg-type]
    return context
