"""The Django site's Raven settings, read once through the shared
:class:`raven.settings.Settings` (and again whenever a test changes them).

Three sources, in rising priority:

1. django-ucamwebauth's ``UCAMWEBAUTH_*`` names, translated where their
   meaning carries over (:data:`UCAMWEBAUTH`), so a site can switch apps
   without rewriting its settings; the ones whose meaning changes are
   translated too, with a warning, or ignored, with a warning;
2. ``RAVEN = {"WLS": ..., "DESC": ...}``: the setting names without the
   prefix (any case);
3. ``RAVEN_WLS = ...``: the same names as the Flask glue's config keys.

A name given both in ``RAVEN`` and as ``RAVEN_*`` must agree.
"""

from __future__ import annotations

import difflib
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured

from .. import settings as core
from ..settings import DEFAULTS, Settings

__all__ = ["UCAMWEBAUTH", "ConfigurationError", "DjangoRaven", "for_view", "site"]

logger = logging.getLogger("raven")


class ConfigurationError(core.ConfigurationError, ImproperlyConfigured):
    """The site's Raven settings cannot work or cannot be safe; raised by
    the first request that needs them, and reported by ``manage.py check``."""


#: Settings of the Django app alone, with their defaults.
DJANGO_DEFAULTS: dict[str, Any] = {
    "create_user": True,  # unknown principals become users (unusable password)
    "login_redirect": None,  # after login with no safe `next`: None = LOGIN_REDIRECT_URL
    "logout_redirect": None,  # after logout: None = the WLS's logout page
}
KNOWN = frozenset(DEFAULTS) | frozenset(DJANGO_DEFAULTS)
#: RAVEN_* names that are not ours (the Sentry client once called "raven").
FOREIGN = frozenset({"RAVEN_CONFIG"})


def _blank_is_none(value: Any) -> Any:
    return None if value == "" else value


def _yes_no(name: str, allow_none: bool) -> Callable[[Any], Any]:
    def convert(value: Any) -> Any:
        if isinstance(value, bool) or (allow_none and value is None):
            return value
        text = str(value).strip().lower()
        if text == "yes":
            return True
        if text == "no" or (not allow_none and text == ""):
            return False
        if allow_none and text == "":
            return None
        raise ConfigurationError(f"{name} must be 'yes', 'no' or '' (or True, False, None)")

    return convert


def _not_current(value: Any) -> Any:
    return None if value else frozenset({"current"})


def _timeout(value: Any) -> Any:
    _, future = DEFAULTS["issue_bounds"]
    if isinstance(value, str) and value.strip().isdigit():  # as an environment gives it
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigurationError(
            f"UCAMWEBAUTH_TIMEOUT must be a whole number of seconds, not {value!r}"
        )
    return (value, future)


def _return_url(value: Any) -> Any:
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or not parts.scheme or not parts.netloc:
        raise ConfigurationError(f"UCAMWEBAUTH_RETURN_URL {value!r} is not an absolute URL")
    return f"{parts.scheme}://{parts.netloc}"


@dataclass(frozen=True)
class Old:
    """How one django-ucamwebauth setting is read here."""

    name: str | None  # our setting; None: ignored
    convert: Callable[[Any], Any] = lambda value: value
    #: Set when the meaning changes: said as a warning when the name is used.
    changed: str | None = None


#: Each django-ucamwebauth setting and its counterpart (docs/django.md has the table).
UCAMWEBAUTH: dict[str, Old] = {
    "UCAMWEBAUTH_LOGIN_URL": Old("wls"),
    "UCAMWEBAUTH_LOGOUT_URL": Old("wls_logout"),
    "UCAMWEBAUTH_CERTS": Old("keys"),
    "UCAMWEBAUTH_DESC": Old("desc", _blank_is_none),
    "UCAMWEBAUTH_MSG": Old("msg", _blank_is_none),
    "UCAMWEBAUTH_AAUTH": Old("aauth", _blank_is_none),
    "UCAMWEBAUTH_IACT": Old("iact", _yes_no("UCAMWEBAUTH_IACT", allow_none=True)),
    "UCAMWEBAUTH_FAIL": Old("fail", _yes_no("UCAMWEBAUTH_FAIL", allow_none=False)),
    "UCAMWEBAUTH_TIMEOUT": Old("issue_bounds", _timeout),
    "UCAMWEBAUTH_NOT_CURRENT": Old("require_ptags", _not_current),
    "UCAMWEBAUTH_CREATE_USER": Old("create_user"),
    "UCAMWEBAUTH_LOGOUT_REDIRECT": Old("logout_redirect"),
    "UCAMWEBAUTH_REDIRECT_AFTER_LOGIN": Old(
        "login_redirect",
        changed="it is now used only when the login URL has no safe 'next' (django-"
                "ucamwebauth sent everyone there, 'next' or not)",
    ),
    "UCAMWEBAUTH_RETURN_URL": Old(
        "origin", _return_url,
        changed="only its origin (scheme, host, port) is used, as RAVEN_ORIGIN; the WLS "
                "always returns to the 'raven:return' URL",
    ),
    "UCAMWEBAUTH_PARAMS": Old(
        None,
        changed="it is ignored: params now carries a single-use token that binds each "
                "response to the browser that asked for it",
    ),
}


@dataclass(frozen=True)
class DjangoRaven:
    """The Raven settings of the site (or of one view)."""

    settings: Settings
    create_user: bool
    login_redirect: str | None
    logout_redirect: str | None
    warnings: tuple[str, ...] = field(default=())


_cache: dict[Any, DjangoRaven] = {}
#: The settings object the cache was filled from: override_settings (and
#: pytest-django's ``settings`` fixture) put another in its place.
_cached_from: list[object] = [None]


def clear_cache(**_: Any) -> None:
    """Forget the settings read (connected to Django's ``setting_changed``)."""
    _cache.clear()


def settings_object() -> object:
    """What Django's settings currently are (a new object after each change
    made through override_settings)."""
    return getattr(django_settings, "_wrapped", django_settings)


def site() -> DjangoRaven:
    """The site's settings (raises :class:`ConfigurationError`)."""
    return for_view({})


def for_view(given: Mapping[str, Any]) -> DjangoRaven:
    """The settings for a view that overrides some shared settings in code
    (``require_ptags``, ``iact``...)."""
    key = tuple(sorted((name, repr(value)) for name, value in given.items()))
    if _cached_from[0] is not settings_object():
        _cache.clear()
        _cached_from[0] = settings_object()
    try:
        return _cache[key]
    except KeyError:
        pass
    try:
        values, warnings, written = gather()
    except core.ConfigurationError as exc:
        logger.error("Raven configuration error: %s", exc)
        raise
    shared = {"RAVEN_" + name.upper(): value for name, value in values.items()
              if name in DEFAULTS}
    try:
        _check_django()
        extra = {name: values.get(name, default) for name, default in DJANGO_DEFAULTS.items()}
        extra["create_user"] = core.flag("create_user", extra["create_user"])
        for name in ("login_redirect", "logout_redirect"):
            if extra[name] is not None and not isinstance(extra[name], str):
                raise ConfigurationError(
                    f"RAVEN_{name.upper()} must be a URL, a URL name or None"
                )
        settings = Settings.from_config(
            shared, given, host_names=list(django_settings.ALLOWED_HOSTS), warn=False,
            whitelist_name="ALLOWED_HOSTS",
        )
    except core.ConfigurationError as exc:
        message = as_written(str(exc), {n: w for n, w in written.items() if n not in given})
        logger.error("Raven configuration error: %s", message)
        raise ConfigurationError(message) from None
    first = not _cache
    result = DjangoRaven(settings, warnings=tuple(warnings), **extra)
    _cache[key] = result
    if first:
        from . import checks  # here: checks reads these settings

        checks.report_at_start()
    return result


def as_written(message: str, written: Mapping[str, str]) -> str:
    """An error about settings, naming each as the site wrote it
    (``UCAMWEBAUTH_TIMEOUT``, ``RAVEN['max_life']``), not by the name the
    shared settings know it by (``issue_bounds``, ``RAVEN_MAX_LIFE``)."""
    for name, where in written.items():
        ours = "RAVEN_" + name.upper()
        message = message.replace(f"{name} ({ours})", where)
        literal = where.replace("\\", "\\\\")  # a replacement, taken as written
        message = re.sub(rf"\b{ours}\b", literal, message)
        message = re.sub(rf"^{name}\b", literal, message)
    return message


_MISSING = object()


def gather() -> tuple[dict[str, Any], list[str], dict[str, str]]:
    """Every setting given, by our name; warnings about how they were read;
    and, for each, the name the site wrote it under."""
    values: dict[str, Any] = {}
    warnings: list[str] = []
    from_old: dict[str, str] = {}
    for attr in dir(django_settings):
        if attr.startswith("UCAMWEBAUTH_") and attr not in UCAMWEBAUTH:
            warnings.append(f"{attr} is not a django-ucamwebauth setting, and is ignored"
                            + _did_you_mean(attr, UCAMWEBAUTH))
    for old, rule in UCAMWEBAUTH.items():
        if not hasattr(django_settings, old):
            continue
        if rule.changed:
            warnings.append(f"{old}: {rule.changed}")
        if rule.name is not None:
            values[rule.name] = rule.convert(getattr(django_settings, old))
            from_old[rule.name] = old

    ours: dict[str, tuple[str, Any]] = {}
    mapping = getattr(django_settings, "RAVEN", None)
    if mapping is not None:
        if not isinstance(mapping, Mapping):
            raise ConfigurationError("RAVEN must be a dict of Raven settings")
        for key, value in mapping.items():
            name = str(key).lower()
            if name not in KNOWN:
                raise ConfigurationError(
                    f"RAVEN[{key!r}] is not a Raven setting (known: "
                    f"{', '.join(sorted(n.upper() for n in KNOWN))})"
                )
            ours[name] = (f"RAVEN[{key!r}]", value)
    for attr in dir(django_settings):
        if not attr.startswith("RAVEN_") or attr in FOREIGN:
            continue
        name = attr[len("RAVEN_"):].lower()
        if name not in KNOWN:
            warnings.append(f"{attr} is not a Raven setting, and is ignored"
                            + _did_you_mean(attr, ["RAVEN_" + n.upper() for n in KNOWN]))
            continue
        value = getattr(django_settings, attr, _MISSING)
        if value is _MISSING:  # deleted by override_settings
            continue
        if name in ours and ours[name][1] != value:
            raise ConfigurationError(
                f"{ours[name][0]} and {attr} are the same setting, with different values"
            )
        ours[name] = (attr, value)
    written = dict(from_old)
    for name, (where, value) in ours.items():
        if name in from_old:
            warnings.append(f"{from_old[name]} is ignored: {where} is set")
        values[name] = value
        written[name] = where
    return values, warnings, written


def _did_you_mean(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.8)
    return f" (did you mean {close[0]}?)" if close else ""


def _check_django() -> None:
    """What Django itself must provide for a login to be kept."""
    samesite = getattr(django_settings, "SESSION_COOKIE_SAMESITE", None)
    if isinstance(samesite, str) and samesite.lower() == "strict":
        raise ConfigurationError(
            "SESSION_COOKIE_SAMESITE='Strict' stops the session cookie coming back "
            "with the redirect from the WLS, so no login can ever succeed: use 'Lax'"
        )
