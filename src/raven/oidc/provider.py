"""An OpenID Connect provider as a plain value, and every rule of the
protocol this package follows, written without I/O and without a clock.

:class:`Provider` plays the part :class:`raven.WLS` plays for Ucam-WebAuth:
where the browser goes (``request``), where logout is, which logins are
its own (``made``). On top of that it builds the back-channel calls as
descriptions (:mod:`raven.oidc.http`), checks ID tokens, and turns their
claims into the same :class:`raven.flow.Login` a Raven response gives.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from ..errors import RequestError
from ..origin import is_loopback_url
from .errors import IDTokenError, OIDCError
from .http import Fetch, HTTPRequest, HTTPResponse, urllib_fetch
from .jws import (
    ALGORITHMS,
    b64url_decode,
    b64url_encode,
    check_claims,
    parse_jwks,
    read_header,
    require,
    verify,
)

__all__ = [
    "CAMBRIDGE_TENANT", "DEFAULT_PTAG_GROUPS", "ENTRA_AUTHORITY", "GROUPS", "HOME_DOMAIN",
    "AuthorizationRequest", "KeySet", "Provider", "Transaction",
]

#: The University's Entra ID tenant (UIS's Django and Apache pages).
CAMBRIDGE_TENANT = "49a50445-bdfa-4b79-ade3-547b4f3986e9"
ENTRA_AUTHORITY = "https://login.microsoftonline.com"
#: UPNs in this domain give a CRSid as principal.
HOME_DOMAIN = "cam.ac.uk"
#: The University's central groups, by object id (see docs/entra.md).
GROUPS = {
    "UOC_USERS_STAFF": "1f440b90-597d-45b4-9a0d-11707f784de7",
    "UOC_USERS_STUDENT": "0cbcd7fb-1f17-48fc-ac3e-4a22131fa92d",
    "UOC_USERS_ALUMNI": "bc7a045e-6775-423a-abc6-deac53b50712",
    "UOC_USERS_CAM_UPN": "b7a0f932-5964-41b2-9bb0-9b8cadf6b999",
    "UOC_USERS_GUESTS": "20c3c1f1-309f-497d-9169-3ac4907098a1",
    "UOC_USERS_ALL": "cc2cdd8b-eace-4a4b-a950-9b989a183b97",
}
#: ptag -> the groups that give it, unless a site says otherwise. Only an
#: approximation of Raven's ``current`` (current staff and students).
DEFAULT_PTAG_GROUPS: Mapping[str, frozenset[str]] = {
    "current": frozenset({GROUPS["UOC_USERS_STAFF"], GROUPS["UOC_USERS_STUDENT"]}),
}
DEFAULT_REDIRECT_PATH = "/raven/callback"
#: Longest page address carried through the provider in ``state``.
MAX_RETURN_PATH = 2000
#: A key set is trusted this long; an unknown kid refetches it at most
#: every MIN_REFETCH seconds (a forged kid must not make us hammer the provider).
KEYS_MAX_AGE = 24 * 3600
MIN_REFETCH = 300
_TENANT = re.compile(r"[A-Za-z0-9][A-Za-z0-9.-]{0,99}")
_LOCAL_PART = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
_DOMAIN = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+")
_PTAG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_ERROR_CODE = re.compile(r"[\x20-\x21\x23-\x5b\x5d-\x7e]{1,100}")


def _check_url(what: str, url: object) -> str:
    if not isinstance(url, str):
        raise ValueError(f"the provider's {what} must be a URL, not {url!r}")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- reading it checks the range
    except ValueError:
        raise ValueError(f"the provider's {what} {url!r} is not a URL") from None
    if (parts.scheme not in ("http", "https") or not parts.hostname or parts.fragment
            or parts.username is not None or any(c <= " " or c == "\x7f" for c in url)):
        raise ValueError(f"the provider's {what} {url!r} is not an http(s) URL")
    if parts.scheme == "http" and not is_loopback_url(url):
        raise ValueError(f"the provider's {what} {url!r} must use https (plain http only "
                         "for a test provider on this machine)")
    return url


def _secret_hash(token: str, label: str) -> bytes:
    return hmac.new(token.encode("utf-8"), label.encode("ascii"), hashlib.sha256).digest()


# --- the key set ------------------------------------------------------------------


class KeySet:
    """The provider's signing keys, cached: the one mutable thing here,
    shared by every request of a process. Time is always passed in."""

    def __init__(self) -> None:
        self.keys: dict[str, Any] = {}
        self.fetched: float | None = None  # when keys were last loaded
        self.tried: float | None = None  # when a fetch was last asked for

    def key(self, kid: str, now: float) -> Any | None:
        """The key for ``kid`` if the cache holds it and is fresh."""
        if self.fetched is None or now - self.fetched >= KEYS_MAX_AGE:
            return None
        return self.keys.get(kid)

    def may_fetch(self, now: float) -> bool:
        """An unknown kid: may the set be fetched again now?"""
        stale = self.fetched is None or now - self.fetched >= KEYS_MAX_AGE
        return stale or self.tried is None or now - self.tried >= MIN_REFETCH

    def load(self, body: bytes, now: float) -> None:
        """Replace the keys with a fetched JWKS (IDTokenError if it is not one)."""
        self.keys = parse_jwks(body)
        self.fetched = now


# --- a login in progress ---------------------------------------------------------


@dataclass(frozen=True)
class Transaction:
    """What binds one login to one browser: derived from the params token
    the browser's session holds, so that nothing else need be stored.
    ``state`` and ``nonce`` travel through the browser; the PKCE verifier
    never does, and neither can be worked back to the token."""

    token: str
    return_path: str

    @property
    def state(self) -> str:
        payload = b64url_encode(self.return_path.encode("utf-8"))
        mac = b64url_encode(_secret_hash(self.token, "state\0" + payload)[:18])
        return f"{payload}.{mac}"

    @property
    def nonce(self) -> str:
        return b64url_encode(_secret_hash(self.token, "nonce")[:24])

    @property
    def code_verifier(self) -> str:
        return b64url_encode(_secret_hash(self.token, "pkce"))  # 43 characters

    @property
    def code_challenge(self) -> str:
        return b64url_encode(hashlib.sha256(self.code_verifier.encode("ascii")).digest())

    @classmethod
    def find(cls, state: str, tokens: Iterable[str]) -> Transaction:
        """The login ``state`` belongs to, among this browser's tokens;
        OIDCError (check ``state``) if none."""
        payload, dot, _ = state.partition(".")
        if not dot or len(state) > 4 * MAX_RETURN_PATH:
            raise OIDCError("the state parameter is not one this site made", check="state")
        try:
            path = b64url_decode(payload, "state").decode("utf-8")
        except (IDTokenError, UnicodeDecodeError):
            raise OIDCError("the state parameter is not one this site made",
                            check="state") from None
        for token in tokens:
            found = cls(token, path)
            if hmac.compare_digest(found.state.encode(), state.encode()):
                if not _is_own_path(path):
                    break
                return found
        raise OIDCError("the login does not belong to a login started in this browser, "
                        "or it has been used already", check="state")


def _is_own_path(path: str) -> bool:
    """A path on this site (never ``//host``, a scheme, or a backslash trick)."""
    return (path.startswith("/") and not path.startswith("//") and "\\" not in path
            and all(" " < c < "\x7f" for c in path))


class AuthorizationRequest:
    """Where the browser goes to log in; ``str()`` is the URL, as for
    :class:`raven.Request`."""

    def __init__(self, provider: Provider, transaction: Transaction, redirect_uri: str,
                 iact: bool | None) -> None:
        self.provider, self.transaction = provider, transaction
        self.redirect_uri, self.iact = redirect_uri, iact
        query = {
            "client_id": provider.client_id,
            "response_type": "code",
            "redirect_uri": redirect_uri,
            "response_mode": "query",
            "scope": provider.scope,
            "state": transaction.state,
            "nonce": transaction.nonce,
            "code_challenge": transaction.code_challenge,
            "code_challenge_method": "S256",
        }
        if iact is True:  # a fresh password, as Ucam-WebAuth's iact=yes
            query.update(prompt="login", max_age="0")
        elif iact is False:  # no interaction: an answer, or login_required
            query["prompt"] = "none"
        self.url = f"{provider.authorization_endpoint}?{urlencode(query)}"

    def __str__(self) -> str:
        return self.url


# --- the provider -----------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Provider:
    """An OpenID Connect provider and this site's registration with it.

    Build one with :meth:`entra` (the University's tenant by default, or a
    local test provider shaped like it) or :meth:`from_discovery`.
    """

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    end_session_endpoint: str | None
    client_id: str
    client_secret: str = field(repr=False)
    #: Entra's tenant id: the ``tid`` every token must carry (None: not checked).
    tenant: str | None = None
    redirect_path: str = DEFAULT_REDIRECT_PATH
    #: ptag -> groups (object ids) that give it.
    ptag_groups: Mapping[str, frozenset[str]] = field(
        default_factory=lambda: dict(DEFAULT_PTAG_GROUPS))
    #: UPN domains besides HOME_DOMAIN whose users may log in (their
    #: principal is the whole UPN); ``"*"`` in it: any.
    other_domains: frozenset[str] = frozenset()
    algorithms: frozenset[str] = frozenset({"RS256"})
    scope: str = "openid profile"
    #: Where the provider's logout sends the browser back (registered with it).
    post_logout_redirect_uri: str | None = None
    kind: str = "other"  # "entra", "local" or "other"
    name: str = ""
    fetch: Fetch = field(default=urllib_fetch, repr=False)
    keyset: KeySet = field(default_factory=KeySet, repr=False)
    protocol = "oidc"
    trusts_demo_key = False

    def __post_init__(self) -> None:
        require()  # the JOSE library (joserfc): a ValueError naming the extra if missing
        for what in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri"):
            _check_url(what, getattr(self, what))
        if self.end_session_endpoint is not None:
            _check_url("end_session_endpoint", self.end_session_endpoint)
        for what in ("client_id", "client_secret"):
            value = getattr(self, what)
            if not isinstance(value, str) or not value or not value.isprintable():
                raise ValueError(f"the {what} given by the provider's registration is "
                                 "missing (set RAVEN_OIDC_" + what.upper() + ")")
        if self.tenant is not None and not _TENANT.fullmatch(self.tenant):
            raise ValueError(f"{self.tenant!r} is not a tenant id")
        if not _is_own_path(self.redirect_path) or "?" in self.redirect_path \
                or "#" in self.redirect_path:
            raise ValueError(f"the redirect path {self.redirect_path!r} must be a path on "
                             "this site, such as /raven/callback")
        if not self.algorithms or not set(self.algorithms) <= ALGORITHMS:
            raise ValueError(f"algorithms must be among {', '.join(sorted(ALGORITHMS))}")
        groups = {}
        for tag, members in dict(self.ptag_groups).items():
            if not isinstance(tag, str) or not _PTAG.fullmatch(tag):
                raise ValueError(f"ptag {tag!r} is not a plain word")
            members = frozenset([members] if isinstance(members, str) else members)
            if not all(isinstance(m, str) and m for m in members):
                raise ValueError(f"the groups for ptag {tag} must be strings")
            groups[tag] = members
        object.__setattr__(self, "ptag_groups", groups)
        domains = frozenset(d.lower().lstrip("@") for d in self.other_domains)
        if any(d != "*" and not _DOMAIN.fullmatch(d) for d in domains):
            raise ValueError(f"other_domains must be domain names (or '*'): {sorted(domains)}")
        object.__setattr__(self, "other_domains", domains)
        if self.post_logout_redirect_uri is not None:
            _check_url("post_logout_redirect_uri", self.post_logout_redirect_uri)
        if not callable(self.fetch):
            raise ValueError("fetch must be a function taking an HTTPRequest")
        if not self.name:
            object.__setattr__(self, "name", {
                "entra": "Entra ID", "local": f"the local test provider at {self.base_url}",
            }.get(self.kind, f"the OpenID provider {self.issuer}"))

    # --- presets -----------------------------------------------------------------

    @classmethod
    def entra(cls, client_id: str, client_secret: str, *, tenant: str = CAMBRIDGE_TENANT,
              authority: str = ENTRA_AUTHORITY, **options: Any) -> Provider:
        """Entra ID's v2.0 endpoints for ``tenant`` (the University's by
        default) under ``authority``: Microsoft's, or a local test provider
        with the same layout (``http://127.0.0.1:5002``)."""
        authority = _check_url("authority", authority).rstrip("/")
        if not isinstance(tenant, str) or not _TENANT.fullmatch(tenant):
            raise ValueError(f"{tenant!r} is not a tenant id")
        base = f"{authority}/{tenant}"
        kind = options.pop("kind", None) or (
            "entra" if authority == ENTRA_AUTHORITY
            else "local" if is_loopback_url(authority) else "other")
        return cls(
            issuer=f"{base}/v2.0", authorization_endpoint=f"{base}/oauth2/v2.0/authorize",
            token_endpoint=f"{base}/oauth2/v2.0/token", jwks_uri=f"{base}/discovery/v2.0/keys",
            end_session_endpoint=f"{base}/oauth2/v2.0/logout", client_id=client_id,
            client_secret=client_secret, tenant=tenant, kind=kind, **options,
        )

    @classmethod
    def from_discovery(cls, document: bytes | Mapping[str, Any], client_id: str,
                       client_secret: str, **options: Any) -> Provider:
        """A provider from its discovery document (``.well-known/openid-configuration``),
        fetched by the caller. Raises ValueError."""
        if not isinstance(document, Mapping):
            try:
                document = json.loads(document)
            except ValueError:
                raise ValueError("the discovery document is not JSON") from None
            if not isinstance(document, dict):
                raise ValueError("the discovery document is not a JSON object")
        missing = [n for n in ("issuer", "authorization_endpoint", "token_endpoint",
                               "jwks_uri") if not isinstance(document.get(n), str)]
        if missing:
            raise ValueError(f"the discovery document lacks {', '.join(missing)}")
        algs = document.get("id_token_signing_alg_values_supported", ["RS256"])
        if not isinstance(algs, list) or "RS256" not in algs:
            raise ValueError("the provider does not sign ID tokens with RS256")
        modes = document.get("response_modes_supported", ["query"])
        if isinstance(modes, list) and "query" not in modes:
            raise ValueError("the provider cannot return to the site by query")
        methods = document.get("code_challenge_methods_supported")
        if isinstance(methods, list) and "S256" not in methods:
            raise ValueError("the provider does not support PKCE with S256")
        return cls(
            issuer=document["issuer"],
            authorization_endpoint=document["authorization_endpoint"],
            token_endpoint=document["token_endpoint"], jwks_uri=document["jwks_uri"],
            end_session_endpoint=document.get("end_session_endpoint"),
            client_id=client_id, client_secret=client_secret, **options,
        )

    # --- what a WLS also answers --------------------------------------------------

    @property
    def auth_url(self) -> str:
        return self.authorization_endpoint

    @property
    def logout_url(self) -> str | None:
        return self.logout_location(self.post_logout_redirect_uri)

    @property
    def label(self) -> str:
        return self.name

    @property
    def base_url(self) -> str:
        parts = urlsplit(self.issuer)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def _issuer_id(self) -> str:
        digest = hashlib.sha256(f"oidc {self.issuer} {self.client_id}".encode()).digest()
        return base64.urlsafe_b64encode(digest[:16]).decode("ascii").rstrip("=")

    def issuer_of(self, kid: str | None = None) -> str:
        """What a login made here records: the provider and this site's
        registration (keys rotate under Entra, so not the key)."""
        return self._issuer_id

    def made(self, issuer: object) -> bool:
        return issuer == self._issuer_id

    def same_as(self, other: object) -> bool:
        return isinstance(other, Provider) and (self.issuer, self.client_id) == (
            other.issuer, other.client_id)

    def check_aauth(self, aauth: frozenset[str] | None) -> None:
        """Ucam-WebAuth's aauth has one meaning here: ``pwd`` (the provider
        chooses its own factors). Raises ValueError for anything else."""
        if aauth is not None and aauth != frozenset({"pwd"}):
            raise ValueError(f"aauth {','.join(sorted(aauth))} means nothing to an OpenID "
                             "provider: leave it unset, or set it to pwd")

    def redirect_uri(self, page_url: str) -> str:
        parts = urlsplit(page_url)
        return f"{parts.scheme}://{parts.netloc}{self.redirect_path}"

    def request(self, url: str, desc: str | None = None, aauth: Any = None,
                iact: bool | None = None, msg: str | None = None, params: str | None = None,
                fail: bool | None = None, **_: Any) -> AuthorizationRequest:
        """Send the browser to log in and come back to ``url`` (this site's
        own, already trusted). ``params`` is the browser's fresh params token,
        from which state, nonce and PKCE verifier are derived. ``desc``,
        ``msg`` and ``fail`` have no counterpart and are not sent."""
        if not params or len(params) < 16:
            raise RequestError("an OpenID login needs an unguessable params token",
                               field="params")
        parts = urlsplit(url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        if not _is_own_path(path) or len(path) > MAX_RETURN_PATH:
            raise RequestError("this page's address is too long or not plain enough to "
                               "carry through the login service", field="url")
        return AuthorizationRequest(self, Transaction(params, path), self.redirect_uri(url),
                                    iact)

    # --- the back channel, described ---------------------------------------------

    def token_request(self, code: str, transaction: Transaction,
                      redirect_uri: str) -> HTTPRequest:
        body = urlencode({
            "grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
            "code_verifier": transaction.code_verifier, "client_id": self.client_id,
            "client_secret": self.client_secret,
        }).encode("ascii")
        return HTTPRequest("POST", self.token_endpoint, (
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Accept", "application/json"),
        ), body, "token endpoint")

    def jwks_request(self) -> HTTPRequest:
        return HTTPRequest("GET", self.jwks_uri, (("Accept", "application/json"),), None,
                           "jwks")

    @staticmethod
    def id_token_of(response: HTTPResponse) -> str:
        """The ID token in the token endpoint's answer; OIDCError otherwise."""
        check = "token endpoint"
        if response.status == 0:
            raise OIDCError(f"the login service could not be reached: {response.error}",
                            check=check)
        try:
            document = json.loads(response.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            document = None
        if not isinstance(document, dict):
            raise OIDCError(f"the token endpoint answered {response.status} without JSON",
                            check=check)
        if response.status != 200:
            error = document.get("error")
            error = error if isinstance(error, str) and _ERROR_CODE.fullmatch(error) else "?"
            raise OIDCError(f"the token endpoint answered {response.status} ({error})",
                            check=check)
        token = document.get("id_token")
        if not isinstance(token, str):
            raise OIDCError("the token endpoint's answer holds no ID token", check=check)
        return token

    # --- the ID token -------------------------------------------------------------

    def kid_of(self, id_token: str) -> str:
        kid, _ = read_header(id_token, self.algorithms)
        return kid

    def verify_id_token(self, id_token: str, key: Any, nonce: str, now: float,
                        issue_bounds: tuple[float, float] = (15, 5),
                        max_age: int | None = None) -> dict[str, Any]:
        """The claims of an ID token signed by ``key``, once every check
        passes: signature and alg, ``iss``, ``aud`` (and ``azp``), ``tid``,
        ``exp``, ``nbf``, ``iat`` within ``issue_bounds`` (seconds in the
        past, in the future), ``nonce``, and ``auth_time`` when ``max_age``
        is given. Raises IDTokenError naming the check."""
        claims = verify(id_token, key, self.algorithms)
        past, future = issue_bounds
        expected: dict[str, Any] = {"iss": self.issuer, "aud": self.client_id}
        if self.tenant is not None:
            expected["tid"] = self.tenant
        expected["nonce"] = nonce
        try:  # exp, nbf, iat (not ahead), and the expected values: by joserfc
            check_claims(claims, now=now, leeway=future, expected=expected)
        except IDTokenError as exc:
            raise IDTokenError(_claim_problem(exc.check, claims, self, now, future),
                               check=exc.check) from None
        aud = claims["aud"]
        if isinstance(aud, list) and len(aud) > 1 and claims.get("azp") != self.client_id:
            raise IDTokenError("the ID token is for several audiences and was not "
                               "requested by this site (azp)", check="aud")
        iat = float(claims["iat"])
        if iat < now - past:  # how old a token may be: ours (Raven's issue window)
            raise IDTokenError(
                f"the ID token's issue time (iat) is {int(now - iat)} s old: the limits are "
                f"{int(past)} s old and {int(future)} s ahead (a clock may be wrong)",
                check="iat")
        if max_age is not None:
            auth_time = _time(claims, "auth_time")
            if auth_time is None or iat - auth_time > max_age + past:
                raise IDTokenError("the login service did not ask for a fresh password "
                                   "(auth_time)", check="auth_time")
        return claims

    # --- claims -> who ------------------------------------------------------------

    def principal_of(self, claims: Mapping[str, Any]) -> str:
        """The CRSid for a ``…@cam.ac.uk`` UPN; the whole UPN for an allowed
        other domain; OIDCError (check ``upn`` or ``domain``) otherwise."""
        upn = claims.get("preferred_username", claims.get("upn"))
        if not isinstance(upn, str) or upn.count("@") != 1 or len(upn) > 200:
            raise OIDCError("the login service named no user (no preferred_username or "
                            "upn claim of the form name@domain)", check="upn")
        local, _, domain = upn.lower().partition("@")
        # ASCII before lower-casing too: "\u212a".lower() is "k", which would make a CRSid.
        if (not upn.isascii() or not _LOCAL_PART.fullmatch(local)
                or not _DOMAIN.fullmatch(domain)):
            raise OIDCError(f"the user name {_shown(upn)} is not a plain name@domain",
                            check="upn")
        if domain == HOME_DOMAIN:
            return local
        if "*" in self.other_domains or domain in self.other_domains:
            return f"{local}@{domain}"  # never equal to a CRSid
        raise OIDCError(f"{_shown(upn)} is not a {HOME_DOMAIN} account, and this site does "
                        f"not accept @{domain} accounts", check="domain")

    def ptags_of(self, claims: Mapping[str, Any], required: bool) -> frozenset[str]:
        """ptags from the ``groups`` claim through :attr:`ptag_groups`. When
        ``required`` (the site requires ptags) a token without the claim is
        refused (check ``groups``): it would refuse everyone in silence."""
        groups = claims.get("groups")
        if groups is None:
            names = claims.get("_claim_names")
            if isinstance(names, dict) and "groups" in names:
                raise OIDCError("the user is in too many groups for the login service to "
                                "list them in the token (group overage)", check="groups")
            if required:
                raise OIDCError("the login service sent no groups claim, so no ptags "
                                "(such as current) can be given: the application's "
                                "registration must ask for group claims", check="groups")
            return frozenset()
        if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
            raise IDTokenError("the groups claim is not a list of strings", check="groups")
        member = set(groups)
        return frozenset(tag for tag, gids in self.ptag_groups.items() if member & gids)

    @staticmethod
    def oid_of(claims: Mapping[str, Any]) -> str | None:
        oid = claims.get("oid", claims.get("sub"))
        return oid if isinstance(oid, str) and 0 < len(oid) <= 100 else None

    def logout_location(self, post_logout_redirect_uri: str | None = None) -> str | None:
        """The provider's end-session page, coming back to a registered URI."""
        if self.end_session_endpoint is None:
            return None
        if post_logout_redirect_uri is None:
            return self.end_session_endpoint
        query = urlencode({"post_logout_redirect_uri": post_logout_redirect_uri,
                           "client_id": self.client_id})
        return f"{self.end_session_endpoint}?{query}"

    def __repr__(self) -> str:
        return f"<Provider {self.name}: {self.issuer} client {self.client_id}>"


def _claim_problem(check: str, claims: Mapping[str, Any], provider: Provider, now: float,
                   future: float) -> str:
    """The log line's words for a claim joserfc refused."""
    value = claims.get(check)
    if value is None and check not in ("nbf",):
        return f"the ID token has no {check} claim"
    return {
        "iss": f"the ID token was issued by {_shown(value)}, not {provider.issuer}",
        "aud": f"the ID token is for {_shown(value)}, not this site's client id",
        "tid": f"the ID token is from tenant {_shown(value)}, not {provider.tenant}",
        "exp": "the ID token has expired (or its exp is not a time)",
        "nbf": "the ID token is not valid yet (nbf)",
        "iat": (f"the ID token's issue time (iat) is {_shown(value)}, more than "
                f"{int(future)} s ahead of {int(now)} (a clock may be wrong)"),
        "nonce": "the ID token's nonce is not the one this login sent",
    }.get(check, f"the ID token's {check} claim is wrong")


def _time(claims: Mapping[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not 0 <= value < 2**40:
        return None
    return float(value)


def _shown(value: object, limit: int = 80) -> str:
    text = str(value)
    return ascii(text[:limit] + ("..." if len(text) > limit else ""))
