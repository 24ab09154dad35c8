"""``manage.py check`` (and runserver, migrate...): a Raven setup that
cannot work, or would be weaker than it looks, is reported before any
request."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks

from . import conf, glue

MIDDLEWARE = "raven.django.middleware.RavenMiddleware"
SESSIONS = "django.contrib.sessions.middleware.SessionMiddleware"
AUTHENTICATION = "django.contrib.auth.middleware.AuthenticationMiddleware"


def register() -> None:
    checks.register(check_raven, checks.Tags.security)


def check_raven(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    found: list[checks.CheckMessage] = []
    try:
        raven = conf.site()
    except conf.ConfigurationError as exc:
        found.append(checks.Error(str(exc), id="raven.E001"))
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
    return found
