"""``manage.py check`` (and runserver, migrate...): a Raven setup that
cannot work, or would be weaker than it looks, is reported before any
request.

Each problem is said once, as a system check, so ``SILENCED_SYSTEM_CHECKS``
silences it. A process that never runs the checks (gunicorn, uWSGI, a
site without ``"raven.django"`` in ``INSTALLED_APPS``) logs the same
warnings instead, once, at start-up: when Django builds ``RavenMiddleware``
(or, for a site without it, when the settings are first read); silenced
ones stay silent there too.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core import checks
from django.shortcuts import resolve_url
from django.urls import NoReverseMatch, Resolver404, resolve

from ..origin import is_loopback, served_mismatches
from . import conf, glue

MIDDLEWARE = "raven.django.middleware.RavenMiddleware"
SESSIONS = "django.contrib.sessions.middleware.SessionMiddleware"
AUTHENTICATION = "django.contrib.auth.middleware.AuthenticationMiddleware"
APP = "raven.django"

logger = logging.getLogger("raven")

#: Did the check framework run our checks in this process (for these settings)?
_reported: list[object] = [None]
#: Were the warnings logged at start-up (for these settings)?
_logged: list[object] = [None]


def register() -> None:
    checks.register(check_raven, checks.Tags.security)


def check_raven(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    _reported[0] = conf.settings_object()
    found: list[checks.CheckMessage] = []
    raven: conf.DjangoRaven | None
    try:
        raven = conf.site()
    except conf.ConfigurationError as exc:
        found.append(checks.Error(str(exc), id="raven.E001"))
        raven = None
    else:
        found.extend(checks.Warning(line, id="raven.W002") for line in raven.warnings)
    if not any(glue.is_raven_backend(path) for path in settings.AUTHENTICATION_BACKENDS):
        found.append(checks.Error(
            "no Raven backend in AUTHENTICATION_BACKENDS: nobody can log in with Raven",
            hint="add 'raven.django.backends.RavenBackend'", id="raven.E002",
        ))
    middleware = list(settings.MIDDLEWARE)
    for needed, what, code in ((SESSIONS, "Raven logins live in request.session", "raven.E003"),
                               (AUTHENTICATION, "request.user is needed", "raven.E004")):
        if needed not in middleware:
            found.append(checks.Error(f"{what}: add {needed!r} to MIDDLEWARE", id=code))
    if MIDDLEWARE not in middleware:
        found.append(checks.Warning(
            "RavenMiddleware is not in MIDDLEWARE: a Django login made with Raven lasts as "
            "long as the Django session, whatever RAVEN_MAX_LIFE says, on views that only "
            "check request.user (@login_required, the admin)",
            hint=f"add {MIDDLEWARE!r} after {AUTHENTICATION!r}", id="raven.W001",
        ))
    elif AUTHENTICATION in middleware and middleware.index(MIDDLEWARE) < middleware.index(
        AUTHENTICATION
    ):
        found.append(checks.Error(
            f"{MIDDLEWARE!r} must come after {AUTHENTICATION!r} in MIDDLEWARE", id="raven.E005",
        ))
    if raven is not None:
        found.extend(_test_wls(raven))
        found.extend(_origins_and_hosts(raven))
        found.extend(_after_login(raven))
    found.extend(_login_url())
    return found


# --- the WLS ----------------------------------------------------------------------------


def _public_origins(raven: conf.DjangoRaven) -> list[str]:
    site = raven.settings
    if site.origins:
        return sorted(o for o in site.origins if not is_loopback(o))
    names = [n for n in (site.host_names or ()) if not is_loopback("https://" + n.lstrip("."))]
    return [f"https://{n.lstrip('.')}" for n in sorted(names)]


def _test_wls(raven: conf.DjangoRaven) -> list[checks.CheckMessage]:
    wls = raven.settings.wls
    if not (wls.trusts_demo_key or wls.kind in ("local", "demo")):
        return []
    public = _public_origins(raven)
    if public:
        return [checks.Warning(
            f"the public origin {public[0]} logs people in through a test WLS ({wls.auth_url}) "
            "that signs with the published demo key: anyone can log in as anyone",
            hint="set RAVEN_WLS = 'live' (the default) for a real site; keep the test WLS "
                 "for an origin on this machine (http://127.0.0.1:8000)",
            id="raven.W007",
        )]
    return [checks.Warning(
        f"this site trusts the published demo key (kid 901, WLS {wls.auth_url}): its "
        "logins prove nothing; never use it for real",
        hint="fine for development and tests; silence it with "
             "SILENCED_SYSTEM_CHECKS = ['raven.W003']",
        id="raven.W003",
    )]


# --- the origin and how the site is served ------------------------------------------------


def _allowed_hosts() -> list[str]:
    allowed = list(settings.ALLOWED_HOSTS)
    if settings.DEBUG and not allowed:  # what Django itself allows then
        allowed = [".localhost", "127.0.0.1", "[::1]"]
    return allowed


#: The core's start-up rules (raven.origin.served_mismatches), as check ids.
_MISMATCH_IDS = {"served": "raven.W005", "whitelist": "raven.W006", "plain http": "raven.W009"}


def _origins_and_hosts(raven: conf.DjangoRaven) -> list[checks.CheckMessage]:
    site = raven.settings
    served = served_by_runserver()
    found = served_mismatches(
        site.origins, site.host_names, site.trust_any_host,
        served=served, served_by="runserver",
        whitelist=_allowed_hosts(), whitelist_name="ALLOWED_HOSTS",
    )
    return [checks.Warning(m.message, hint=m.hint, id=_MISMATCH_IDS[m.kind]) for m in found]


def served_by_runserver(argv: list[str] | None = None) -> str | None:
    """The origin ``manage.py runserver`` serves, if that is the command
    being run: ``http://127.0.0.1:8000`` unless told otherwise."""
    argv = sys.argv if argv is None else argv
    if "runserver" not in argv[1:3]:
        return None
    rest = [a for a in argv[argv.index("runserver") + 1:] if not a.startswith("-")]
    addr, port = ("::1" if ("-6" in argv or "--ipv6" in argv) else "127.0.0.1"), "8000"
    if rest:
        match = re.fullmatch(r"(?:\[(?P<v6>[^\]]+)\]|(?P<addr>[^:]*)):(?P<port>\d+)|(?P<only>\d+)",
                             rest[0])
        if match is None:
            return None
        if match.group("only"):
            port = match.group("only")
        else:
            addr, port = match.group("v6") or match.group("addr") or addr, match.group("port")
    if addr == "0":
        addr = "0.0.0.0"
    host = f"[{addr}]" if ":" in addr else addr
    return f"http://{host}:{port}"


# --- where people are sent --------------------------------------------------------------


def _login_url() -> list[checks.CheckMessage]:
    try:
        path = resolve_url(settings.LOGIN_URL)
    except NoReverseMatch:
        path = None
    if isinstance(path, str) and "://" not in path:
        try:
            resolve(path.split("?", 1)[0])
        except Resolver404:
            path = None
        else:
            return []
    elif path is not None:
        return []  # another site's login page: not ours to judge
    return [checks.Warning(
        f"LOGIN_URL {settings.LOGIN_URL!r} is no URL of this site: @login_required and the "
        "admin send people to a 404 rather than to Raven",
        hint="set LOGIN_URL = 'raven:login' (and include('raven.django.urls') in your URLs)",
        id="raven.W004",
    )]


def _after_login(raven: conf.DjangoRaven) -> list[checks.CheckMessage]:
    migrated = any(name.startswith("UCAMWEBAUTH_") for name in dir(settings))
    if not migrated or raven.login_redirect is not None:
        return []
    target = getattr(settings, "LOGIN_REDIRECT_URL", None)
    if not settings.is_overridden("LOGIN_REDIRECT_URL") or target in (None, "/"):
        return []
    return [checks.Warning(
        f"after a login with no 'next', people now land on LOGIN_REDIRECT_URL "
        f"({target!r}); django-ucamwebauth sent them to '/'",
        hint="set RAVEN_LOGIN_REDIRECT = '/' to keep the old landing page", id="raven.W008",
    )]


# --- when no check is run ---------------------------------------------------------------


def report_at_start() -> None:
    """Log what the checks would say, once, if the check framework has not
    said it in this process (gunicorn and uWSGI never run the checks; they
    do not run at all without ``"raven.django"`` in ``INSTALLED_APPS``).
    Called when ``RavenMiddleware`` is built and when the settings are
    first read, whichever comes first. Checks named in
    ``SILENCED_SYSTEM_CHECKS`` stay silent here too."""
    current = conf.settings_object()
    if current in (_reported[0], _logged[0]):
        return
    _logged[0] = current
    silenced = set(getattr(settings, "SILENCED_SYSTEM_CHECKS", ()))
    found: list[checks.CheckMessage] = []
    if not apps.is_installed(APP):
        found.append(checks.Warning(
            f"{APP!r} is not in INSTALLED_APPS: logins work, but manage.py check says "
            "nothing about the Raven setup",
            hint=f"add {APP!r} to INSTALLED_APPS", id="raven.W000",
        ))
    found.extend(check_raven())
    _reported[0] = None  # that was not the check framework
    for message in found:
        if message.id in silenced or message.id == "raven.E001":  # E001 is raised anyway
            continue
        hint = f" (hint: {message.hint})" if message.hint else ""
        logger.log(logging.ERROR if message.is_serious() else logging.WARNING,
                   "%s: %s%s", message.id, message.msg, hint)
