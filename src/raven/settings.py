"""One settings object for the login flow, built from any mapping (Flask's
``app.config``, Django's settings, environment variables) plus arguments
given in code, and validated once, when the application starts.

Every setting has one name: ``RAVEN_<NAME>`` in a mapping, ``<name>`` as
an argument. An argument given in code wins over the mapping.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import RequestError
from .origin import parse_origins
from .request import Request
from .services import WLS, wls_from_settings

__all__ = ["DEFAULTS", "ConfigurationError", "Settings", "flag"]

logger = logging.getLogger("raven")


class ConfigurationError(RuntimeError):
    """The application is set up in a way that cannot be safe or cannot work.

    Raised when the application starts (the adapter's ``init_app`` or first
    registration); nothing a client sends raises it.
    """


#: Every setting and its default.
DEFAULTS: dict[str, Any] = {
    "wls": None,  # "live", "demo", a WLS URL, or a raven.WLS
    "wls_logout": None,
    "keys": None,
    "key_dir": None,
    "origin": None,
    "can_trust_request_host": False,
    "desc": None,
    "msg": None,
    "timeout_msg": "your session on the site has expired",
    "aauth": None,
    "iact": None,
    "fail": False,
    "max_life": 7200,
    "use_wls_life": False,
    "inactive_timeout": None,
    "issue_bounds": (15, 5),
    "require_principal": None,
    "require_ptags": frozenset({"current"}),
    "cache_control": "private",
    "contact": None,
    "api_401": True,  # a request that is not a page navigation: 401, not a redirect
    "site_logout": None,
    # OpenID Connect (RAVEN_WLS = "entra"): see docs/entra.md.
    "oidc_client_id": None,
    "oidc_client_secret": None,
    "oidc_tenant": None,  # the University's by default
    "oidc_authority": None,  # Microsoft's, or a local test provider's root URL
    "oidc_redirect_path": None,  # /raven/callback
    "oidc_ptag_groups": None,  # {"current": [group object ids]}
    "oidc_other_domains": None,  # UPN domains accepted besides cam.ac.uk
    "oidc_post_logout_uri": None,
    "oidc_fetch": None,  # the back-channel seam (urllib by default)
}

_OIDC_NAMES = tuple(name for name in DEFAULTS if name.startswith("oidc_"))


@dataclass(frozen=True)
class Settings:
    """The validated settings of one protected application (or page)."""

    wls: WLS
    origins: frozenset[str] | None
    host_names: frozenset[str] | None
    trust_any_host: bool
    desc: str | None
    msg: str | None
    timeout_msg: str | None
    aauth: frozenset[str] | None
    iact: bool | None
    fail: bool
    max_life: int | None
    use_wls_life: bool
    inactive_timeout: int | None
    issue_bounds: tuple[float, float]
    require_principal: frozenset[str] | None
    require_ptags: frozenset[str] | None
    cache_control: str | None
    #: A line for refusal pages saying whom to ask (text, or a mailto: or web address).
    contact: str | None = None
    #: The path (under the site's root) of the site's own log-out view, which
    #: takes a POST: refusal pages offer a log-out button that posts to it.
    site_logout: str | None = None
    #: A request that is not a page navigation (a ``fetch()``, an API
    #: client) gets 401 with a small JSON body instead of a redirect to
    #: the WLS, which it could not follow.
    api_401: bool = True

    @property
    def checks_atypes(self) -> bool:
        """Only a page that asks for something re-checks a stored login."""
        return self.iact is not None or self.aauth is not None

    @property
    def last_resolution(self) -> int:
        # inactive_timeout is approximate (as in mod_ucam_webauth): the
        # state is rewritten at most every 1/60 of it, not on each request.
        return max(1, (self.inactive_timeout or 0) // 60)

    @classmethod
    def from_config(
        cls,
        config: Mapping[str, Any] | None = None,
        given: Mapping[str, Any] | None = None,
        *,
        host_names: Any = None,
        prefix: str = "RAVEN_",
        warn: bool = True,
        whitelist_name: str | None = None,
    ) -> Settings:
        """Settings from ``config`` (``RAVEN_*`` keys) and ``given``
        (arguments written in code, which win). ``host_names`` is the
        framework's own host whitelist, if any. Raises ConfigurationError.
        ``warn=False`` leaves saying things to the caller: the warning about
        the demo key and the error (Django says each once, in the names its
        settings were written with). ``whitelist_name`` names
        the framework's host whitelist setting, if it has one, for the
        error that no origin is configured."""
        config = config or {}
        given = given or {}
        def pick(name: str) -> Any:
            if name in given:
                return given[name]
            return config.get(prefix + name.upper(), DEFAULTS[name])

        try:
            unknown = set(given) - set(DEFAULTS)
            if unknown:
                raise ConfigurationError(
                    f"unknown Raven setting(s): {', '.join(sorted(unknown))}"
                )
            wls = _wls(pick, prefix)
            origin = pick("origin")
            settings = cls(
                wls=wls,
                origins=None if origin is None else _origins(origin, prefix),
                host_names=_host_names(host_names),
                trust_any_host=flag("can_trust_request_host", pick("can_trust_request_host")),
                desc=pick("desc"),
                msg=pick("msg"),
                timeout_msg=pick("timeout_msg"),
                aauth=_as_set("aauth", pick("aauth")),
                iact=_optional_flag("iact", pick("iact")),
                fail=flag("fail", pick("fail")),
                max_life=_seconds("max_life", pick("max_life")),
                use_wls_life=flag("use_wls_life", pick("use_wls_life")),
                inactive_timeout=_seconds("inactive_timeout", pick("inactive_timeout")),
                issue_bounds=_issue_bounds(pick("issue_bounds")),
                require_principal=_as_set("require_principal", pick("require_principal")),
                require_ptags=_as_set("require_ptags", pick("require_ptags")),
                cache_control=_cache_control(pick("cache_control")),
                contact=_contact(pick("contact")),
                site_logout=_site_logout(pick("site_logout")),
                api_401=flag("api_401", pick("api_401")),
            )
            settings._check(whitelist_name)
        except ConfigurationError as exc:
            if warn:
                logger.error("Raven configuration error: %s", exc)
            raise
        if warn and wls.trusts_demo_key:
            logger.warning(
                "this application trusts the published demo key (kid 901, WLS %s): "
                "its logins prove nothing; never use it for real", wls.auth_url,
            )
        return settings

    def _check(self, whitelist_name: str | None = None) -> None:
        if self.wls.protocol == "oidc":
            try:
                self.wls.check_aauth(self.aauth)  # type: ignore[attr-defined]
            except ValueError as exc:
                raise ConfigurationError(f"aauth (RAVEN_AAUTH): {exc}") from None
        if self.iact not in (None, True, False):
            raise ConfigurationError("iact (RAVEN_IACT) must be True, False or None")
        for name in ("desc", "msg", "timeout_msg"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise ConfigurationError(f"{name} (RAVEN_{name.upper()}) must be a string or None")
        if not (self.origins or self.host_names or self.trust_any_host):
            # Name only what this adapter offers: an ASGI user has no TRUSTED_HOSTS.
            whitelist = f" (or a host whitelist: {whitelist_name})" if whitelist_name else ""
            raise ConfigurationError(
                "Raven needs this site's own URL, and the Host header a client sends "
                "cannot say it: set RAVEN_ORIGIN (origin=) to the site's origin(s), e.g. "
                f"'https://www.example.com'{whitelist}, or, if your web server already "
                "refuses other hosts, can_trust_request_host=True "
                "(RAVEN_CAN_TRUST_REQUEST_HOST)"
            )
        try:  # let the core refuse a bad desc, msg, aauth or timeout message now
            for msg in (self.msg, self.timeout_msg):
                Request("https://example.invalid/", self.desc, self.aauth, self.iact, msg)
        except RequestError as exc:
            raise ConfigurationError(f"Raven settings: {exc}") from None

    # --- how long a login lasts --------------------------------------------------

    def expiries(self, issue: int, life: int | None, last: int) -> list[tuple[str, int]]:
        """Each limit on a login as ``(reason, when)``."""
        out = []
        if self.max_life is not None:
            out.append(("config max life", issue + self.max_life))
        if self.use_wls_life and life is not None:
            out.append(("wls life", issue + life))
        if self.inactive_timeout is not None:
            out.append(("inactive", last + self.inactive_timeout))
        return out

    def expired(self, issue: int, life: int | None, last: int, now: float) -> str | None:
        """Why a login is over at ``now`` (a reason of :meth:`expiries`), or
        None if it is not. Written out: it runs on every request."""
        if self.max_life is not None and now >= issue + self.max_life:
            return "config max life"
        if self.use_wls_life and life is not None and now >= issue + life:
            return "wls life"
        if self.inactive_timeout is not None and now >= last + self.inactive_timeout:
            return "inactive"
        return None

    def authorised(self, principal: str, ptags: frozenset[str]) -> bool:
        """The default rule: ``require_principal`` and ``require_ptags``."""
        if self.require_principal is not None and principal not in self.require_principal:
            return False
        return self.require_ptags is None or not self.require_ptags.isdisjoint(ptags)


def _wls(pick: Any, prefix: str) -> WLS:
    chosen = pick("wls")
    oidc_given = [name for name in _OIDC_NAMES if pick(name) is not None]
    if getattr(chosen, "protocol", None) == "oidc":
        if oidc_given:
            raise ConfigurationError(
                "a raven.oidc.Provider carries its own registration: do not also set "
                + ", ".join(prefix + name.upper() for name in oidc_given))
        return chosen
    if isinstance(chosen, str) and chosen.strip().lower() in ("entra", "oidc"):
        return _provider(pick, prefix)
    if oidc_given:
        raise ConfigurationError(
            f"{', '.join(prefix + name.upper() for name in oidc_given)} only mean something "
            f"when {prefix}WLS is 'entra'")
    if isinstance(chosen, WLS):
        if any(pick(name) is not None for name in ("wls_logout", "keys", "key_dir")):
            raise ConfigurationError(
                "a raven.WLS value carries its own logout URL and keys: do not also set "
                f"{prefix}WLS_LOGOUT, {prefix}KEYS or {prefix}KEY_DIR"
            )
        return chosen
    try:
        return wls_from_settings({
            "RAVEN_WLS": chosen, "RAVEN_WLS_LOGOUT": pick("wls_logout"),
            "RAVEN_KEYS": pick("keys"), "RAVEN_KEY_DIR": pick("key_dir"),
        })
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"{prefix}WLS: {exc}") from None


def _provider(pick: Any, prefix: str) -> WLS:
    from .oidc.provider import CAMBRIDGE_TENANT, ENTRA_AUTHORITY, Provider

    if any(pick(name) is not None for name in ("wls_logout", "keys", "key_dir")):
        raise ConfigurationError(
            f"an OpenID provider publishes its own keys and logout page: do not set "
            f"{prefix}WLS_LOGOUT, {prefix}KEYS or {prefix}KEY_DIR with {prefix}WLS = 'entra'")
    options: dict[str, Any] = {}
    for name, option in (("oidc_redirect_path", "redirect_path"),
                         ("oidc_ptag_groups", "ptag_groups"),
                         ("oidc_post_logout_uri", "post_logout_redirect_uri"),
                         ("oidc_fetch", "fetch")):
        if pick(name) is not None:
            options[option] = pick(name)
    domains = pick("oidc_other_domains")
    if domains is not None:
        options["other_domains"] = _as_set("oidc_other_domains", domains)
    groups = options.get("ptag_groups")
    if isinstance(groups, str):  # from an environment variable: JSON
        try:
            options["ptag_groups"] = json.loads(groups)
        except ValueError:
            raise ConfigurationError(f"{prefix}OIDC_PTAG_GROUPS: not JSON") from None
    try:
        return Provider.entra(  # type: ignore[return-value]
            pick("oidc_client_id"), pick("oidc_client_secret"),
            tenant=pick("oidc_tenant") or CAMBRIDGE_TENANT,
            authority=pick("oidc_authority") or ENTRA_AUTHORITY, **options,
        )
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"{prefix}WLS = 'entra': {exc}") from None


def _origins(value: Any, prefix: str) -> frozenset[str]:
    try:
        return parse_origins(value)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"{prefix}ORIGIN: {exc}") from None


def _host_names(value: Any) -> frozenset[str] | None:
    if not value:
        return None
    if isinstance(value, str):
        value = [value]
    names = frozenset(value)
    if "*" in names:  # Django's "any host": the whitelist says nothing
        return None
    return names


#: How an environment variable spells True and False (compared lower-case).
TRUE_WORDS = frozenset({"true", "yes", "on", "1"})
FALSE_WORDS = frozenset({"false", "no", "off", "0"})
#: How it spells None, for a setting that may be None.
NONE_WORD = "none"


def _named(name: str) -> str:
    return f"{name} (RAVEN_{name.upper()})"


def flag(name: str, value: Any) -> bool:
    """True or False, or a string as an environment gives one: ``"true"``,
    ``"yes"``, ``"on"``, ``"1"`` and ``"false"``, ``"no"``, ``"off"``,
    ``"0"``, in any case. Anything else (an empty string too) is refused."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    raise ConfigurationError(
        f"{_named(name)} must be True or False, or a string 'true' or 'false', "
        f"not {value!r}")


def _optional_flag(name: str, value: Any) -> bool | None:
    """As :func:`flag`, or None (the string ``"none"``)."""
    if value is None or (isinstance(value, str) and value.strip().lower() == NONE_WORD):
        return None
    if isinstance(value, bool) or (
            isinstance(value, str) and value.strip().lower() in TRUE_WORDS | FALSE_WORDS):
        return flag(name, value)
    raise ConfigurationError(
        f"{_named(name)} must be True, False or None, or a string 'true', 'false' or "
        f"'none', not {value!r}")


def _cache_control(value: Any) -> str | None:
    if value is True:
        return "private"
    if value is None or value is False:
        return None
    if not isinstance(value, str):
        raise ConfigurationError("RAVEN_CACHE_CONTROL must be a string, True, or None")
    return value or None


def _contact(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not value.isprintable() or len(value) > 300:
        raise ConfigurationError(
            "contact (RAVEN_CONTACT) must be one line of text of at most 300 characters "
            "(whom to ask, e.g. 'the IT help desk, help@example.cam.ac.uk'), or None"
        )
    return value.strip()


def _site_logout(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if (not isinstance(value, str) or not value.startswith("/") or value.startswith("//")
            or not value.isprintable() or any(c in value for c in " ?#\\")):
        raise ConfigurationError(
            "site_logout (RAVEN_SITE_LOGOUT) must be the path of this site's own log-out "
            "view, under the site's root, e.g. '/logout', or None"
        )
    return value


def _as_set(name: str, value: Any) -> frozenset[str] | None:
    """None, or a set of names; a string (as from an environment variable)
    is a list separated by commas or spaces. A bare string is never used as
    a collection: ``"abc" in "xabcx"`` would be a substring test."""
    if value is None:
        return None
    if isinstance(value, str):
        value = [item for item in re.split(r"[,\s]+", value) if item]
    try:
        result = frozenset(value)
    except TypeError:
        raise ConfigurationError(f"{name} must be None or a collection of strings") from None
    if not result or not all(isinstance(item, str) for item in result):
        raise ConfigurationError(
            f"{name} must be None (no requirement) or a non-empty collection of strings"
        )
    return result


def _seconds(name: str, value: Any) -> int | None:
    """A positive whole number of seconds, or None; from an environment,
    a string of digits (``"3600"``) or ``"none"``."""
    given = value
    if isinstance(value, str):
        text = value.strip()
        if text.lower() == NONE_WORD:
            return None
        if re.fullmatch(r"[0-9]{1,12}", text):
            value = int(text)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigurationError(
            f"{_named(name)} must be a positive whole number of seconds, or None "
            f"(from an environment, digits such as '3600', or 'none'), not {given!r}")
    return value


def _issue_bounds(value: Any) -> tuple[float, float]:
    """(seconds in the past, seconds in the future); from an environment,
    two numbers separated by a comma or spaces (``"15,5"``)."""
    given = value
    try:
        if isinstance(value, str):
            past, future = (float(part) for part in re.split(r"[,\s]+", value.strip()))
        else:
            past, future = value
            if not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                       for v in (past, future)):
                raise ValueError
        if not (math.isfinite(past) and math.isfinite(future)) or past < 0 or future < 0:
            raise ValueError
        return float(past), float(future)
    except (TypeError, ValueError):
        raise ConfigurationError(
            "issue_bounds (RAVEN_ISSUE_BOUNDS) must be (seconds in the past, seconds in the "
            "future), both >= 0 (from an environment, two numbers such as '15,5'), "
            f"not {given!r}"
        ) from None
