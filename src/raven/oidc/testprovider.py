"""A local OpenID provider shaped like the University's Entra ID tenant,
for development and tests: never for real logins.

It serves Entra's v2.0 layout under ``/{tenant}`` (discovery, authorize,
token, JWKS, end-session) with the local test WLS's users (``test0001`` …
``test0500``, password ``test``) and login form, and signs ID tokens shaped
like Entra's with an RSA key made when it starts. Run it with
``raven oidc``, or in a test::

    from raven.oidc.testprovider import create_app
    from raven.wls.server import serve

    with serve(create_app()) as base_url:
        ...  # RAVEN_WLS="entra", RAVEN_OIDC_AUTHORITY=base_url
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, abort, current_app, jsonify, redirect, render_template, request, session
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException

from ..origin import is_loopback_host
from ..wls.app import host_name
from ..wls.forms import CSRF_FIELD, FormTokens
from ..wls.users import CURRENT, TEST_CURRENT_COUNT, TEST_PASSWORD, TEST_USER_COUNT, User, Users
from .jws import b64url_encode, jwk_of, require, sign
from .provider import CAMBRIDGE_TENANT, GROUPS, HOME_DOMAIN

__all__ = ["LOCAL_CLIENT_ID", "LOCAL_CLIENT_SECRET", "create_app", "groups_of", "site_settings",
           "upn_of"]

#: The registration the local provider knows unless told otherwise.
LOCAL_CLIENT_ID = "00000000-0000-4000-8000-00000000c11e"
LOCAL_CLIENT_SECRET = "local-test-secret"
COOKIE_NAME = "raven_oidc_session"
#: Each form's anti-forgery token has a cookie of its own, named after it,
#: as the test WLS's forms do (raven.wls.forms says why).
FORM_COOKIE_PREFIX = "raven_oidc_form_"
CODE_LIFETIME = 60
TOKEN_LIFETIME = 3600
_EXTENSION = "raven_oidc_provider"
_FORM_FIELDS = frozenset({"userid", "pwd", "cancel", CSRF_FIELD})
_FORMS = FormTokens(FORM_COOKIE_PREFIX, "test provider")
_AUTHORIZE_PARAMS = frozenset({
    "client_id", "response_type", "redirect_uri", "response_mode", "scope", "state",
    "nonce", "code_challenge", "code_challenge_method", "prompt", "max_age", "login_hint",
    "domain_hint",
})
_TEMPLATES = Path(__file__).resolve().parent.parent / "wls" / "templates"
#: Built-in users up to this number are staff; the rest of the current ones students.
TEST_STAFF_COUNT = 200


def upn_of(user: User) -> str:
    return user.name if "@" in user.name else f"{user.name}@{HOME_DOMAIN}"


def groups_of(user: User) -> list[str]:
    """The central groups a test user is in: built-in test0001–0200 staff,
    0201–0400 students, 0401–0500 alumni; extra users with ptag ``current``
    staff, with an ``@cantab.ac.uk`` name alumni, with a ptag naming a
    group (``UOC_USERS_GUESTS``) that group."""
    groups = {GROUPS["UOC_USERS_ALL"]}
    upn = upn_of(user)
    if upn.endswith("@" + HOME_DOMAIN):
        groups.add(GROUPS["UOC_USERS_CAM_UPN"])
    number = user.name[4:] if user.name.startswith("test") and user.name[4:].isdigit() else ""
    if number and len(number) == 4 and 1 <= int(number) <= TEST_USER_COUNT:
        n = int(number)
        groups.add(GROUPS["UOC_USERS_STAFF"] if n <= TEST_STAFF_COUNT
                   else GROUPS["UOC_USERS_STUDENT"] if n <= TEST_CURRENT_COUNT
                   else GROUPS["UOC_USERS_ALUMNI"])
    elif CURRENT in user.ptags:
        groups.add(GROUPS["UOC_USERS_STAFF"])
    if upn.endswith("@cantab.ac.uk"):
        groups.add(GROUPS["UOC_USERS_ALUMNI"])
    groups.update(GROUPS[tag] for tag in user.ptags if tag in GROUPS)
    return sorted(groups)


@dataclass(frozen=True)
class _Code:
    client_id: str
    redirect_uri: str
    challenge: str
    nonce: str | None
    user: User
    auth_time: int
    expires: float
    session_id: str


@dataclass
class _Provider:
    tenant: str
    key: rsa.RSAPrivateKey
    kid: str
    users: Users
    clients: dict[str, dict[str, Any]]
    clock: Callable[[], float]
    groups_claim: bool
    codes: dict[str, _Code]
    lock: threading.Lock


def _state() -> _Provider:
    return current_app.extensions[_EXTENSION]


def _issuer(base_url: str, tenant: str) -> str:
    return f"{base_url}/{tenant}/v2.0"


def site_settings(base_url: str, tenant: str = CAMBRIDGE_TENANT,
                  client_id: str = LOCAL_CLIENT_ID,
                  client_secret: str = LOCAL_CLIENT_SECRET) -> dict[str, str]:
    """The settings that point a site at this provider served at ``base_url``."""
    chosen = {"RAVEN_WLS": "entra", "RAVEN_OIDC_AUTHORITY": base_url,
              "RAVEN_OIDC_CLIENT_ID": client_id, "RAVEN_OIDC_CLIENT_SECRET": client_secret}
    if tenant != CAMBRIDGE_TENANT:
        chosen["RAVEN_OIDC_TENANT"] = tenant
    return chosen


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """The local provider as a Flask application. ``config`` may set:

    - ``RAVEN_OIDC_TENANT``: the tenant id in its paths and tokens (the University's);
    - ``RAVEN_OIDC_CLIENTS``: ``{client_id: {"secret": ..., "redirect_uris": [...]}}``
      (one client, :data:`LOCAL_CLIENT_ID`, accepting any redirect URI, by default);
    - ``RAVEN_OIDC_SIGNING_KEY``: an RSA private key (one is made at start);
    - ``RAVEN_OIDC_GROUPS_CLAIM``: whether tokens carry ``groups`` (True), to
      try a registration UIS has not yet given group claims;
    - ``RAVEN_WLS_USERS``, ``RAVEN_WLS_TEST_USERS``: as for the test WLS;
    - ``RAVEN_OIDC_CLOCK``: a function giving epoch seconds, for tests.

    Its tokens are signed with joserfc (the ``entra`` extra): ValueError if missing.
    """
    require()
    app = Flask(__name__, template_folder=str(_TEMPLATES))
    app.config.update(
        SECRET_KEY=secrets.token_bytes(32), SESSION_COOKIE_NAME=COOKIE_NAME,
        SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=64 * 1024,
        RAVEN_OIDC_TENANT=CAMBRIDGE_TENANT, RAVEN_OIDC_CLIENTS=None,
        RAVEN_OIDC_SIGNING_KEY=None, RAVEN_OIDC_GROUPS_CLAIM=True,
        RAVEN_WLS_USERS=(), RAVEN_WLS_TEST_USERS=True, RAVEN_OIDC_CLOCK=time.time,
    )
    app.config.update(config or {})
    key = app.config["RAVEN_OIDC_SIGNING_KEY"]
    if key is None:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if not isinstance(key, rsa.RSAPrivateKey) or key.key_size < 2048:
        raise TypeError("RAVEN_OIDC_SIGNING_KEY must be an RSA private key of 2048 bits or more")
    spki = key.public_key().public_numbers()
    kid = b64url_encode(hashlib.sha256(f"{spki.n}:{spki.e}".encode()).digest()[:15])
    clients = app.config["RAVEN_OIDC_CLIENTS"] or {
        LOCAL_CLIENT_ID: {"secret": LOCAL_CLIENT_SECRET, "redirect_uris": None},
    }
    app.extensions[_EXTENSION] = _Provider(
        tenant=app.config["RAVEN_OIDC_TENANT"], key=key, kid=kid,
        users=Users(app.config["RAVEN_WLS_USERS"], builtin=app.config["RAVEN_WLS_TEST_USERS"]),
        clients=dict(clients), clock=app.config["RAVEN_OIDC_CLOCK"],
        groups_claim=bool(app.config["RAVEN_OIDC_GROUPS_CLAIM"]), codes={},
        lock=threading.Lock(),
    )
    _add_views(app, app.config["RAVEN_OIDC_TENANT"])
    return app


# --- the authorization request --------------------------------------------------

class _NoReturn(Exception):
    """The request cannot be answered by a redirect: a page says why."""


def _error_redirect(redirect_uri: str, state: str | None, error: str, description: str):
    query = {"error": error, "error_description": description}
    if state is not None:
        query["state"] = state
    return redirect(f"{redirect_uri}{'&' if '?' in redirect_uri else '?'}{urlencode(query)}",
                    303)


def _redirect_allowed(client: Mapping[str, Any], uri: str) -> bool:
    registered = client.get("redirect_uris")
    if registered is not None:
        return uri in registered
    parts = urlsplit(uri)
    return parts.scheme == "https" or (
        parts.scheme == "http" and is_loopback_host(parts.hostname or ""))


def _read_authorize(args: MultiDict[str, str]) -> dict[str, str]:
    """Check an authorization request. Raises _NoReturn when the client or
    redirect URI is unknown (never redirect there), or answers an error
    redirect (raised as an HTTPException carrying it) for anything else."""
    lists = dict(args.lists())
    if any(len(v) != 1 for v in lists.values()):
        raise _NoReturn("a parameter is repeated")
    params = {k: v[0] for k, v in lists.items() if k in _AUTHORIZE_PARAMS}
    client = _state().clients.get(params.get("client_id", ""))
    if client is None:
        raise _NoReturn("unknown client_id: this provider knows "
                        + ", ".join(sorted(_state().clients)))
    uri = params.get("redirect_uri", "")
    if not uri or "#" in uri or not _redirect_allowed(client, uri):
        raise _NoReturn(f"redirect_uri {uri[:100]!r} is not registered for this client")
    state = params.get("state")

    def fail(error: str, text: str) -> None:
        abort(_error_redirect(uri, state, error, text))

    if params.get("response_type") != "code":
        fail("unsupported_response_type", "only the authorization code flow is offered")
    if params.get("response_mode", "query") != "query":
        fail("invalid_request", "only response_mode=query is offered")
    if "openid" not in params.get("scope", "").split():
        fail("invalid_scope", "the scope must include openid")
    if params.get("code_challenge_method") != "S256" or len(
            params.get("code_challenge", "")) != 43:
        fail("invalid_request", "PKCE with S256 is required")
    if params.get("prompt", "none") not in ("none", "login", "select_account", "consent"):
        fail("invalid_request", "unknown prompt")
    if "max_age" in params and not params["max_age"].isdigit():
        fail("invalid_request", "max_age must be a number of seconds")
    return params


def _session_user() -> tuple[User, int] | None:
    data = session.get("user")
    if not isinstance(data, dict):
        return None
    user = _state().users.get(str(data.get("name")))
    auth_time = data.get("auth_time")
    return (user, auth_time) if user is not None and isinstance(auth_time, int) else None


def _csrf() -> str:
    """A new anti-forgery token for a form on this page, and its cookie."""
    return _FORMS.new(_state().clock())


def _check_csrf() -> None:
    """Refuse (400) a form this provider did not serve to this browser, and
    spend its token."""
    _FORMS.check(request.form, _state().clock())


def _issue_code(params: Mapping[str, str], user: User, auth_time: int):
    provider = _state()
    code = secrets.token_urlsafe(32)
    sid = session.setdefault("sid", secrets.token_urlsafe(16))
    with provider.lock:
        now = provider.clock()
        for old in [c for c, v in provider.codes.items() if v.expires <= now]:
            del provider.codes[old]
        provider.codes[code] = _Code(
            params["client_id"], params["redirect_uri"], params["code_challenge"],
            params.get("nonce"), user, auth_time, now + CODE_LIFETIME, sid)
    query = {"code": code, "session_state": sid}
    if "state" in params:
        query["state"] = params["state"]
    uri = params["redirect_uri"]
    return redirect(f"{uri}{'&' if '?' in uri else '?'}{urlencode(query)}", 303)


def _login_form(params: Mapping[str, str], error: str | None = None, userid: str = ""):
    uri = params["redirect_uri"]
    logged = _session_user()
    return render_template(
        "login.html", userid=userid if userid.isprintable() and len(userid) < 100 else "",
        host=urlsplit(uri).netloc, url=uri, insecure=uri.startswith("http:"), desc=None,
        msg=None, hidden=sorted(params.items()), error=error, csrf_token=_csrf(),
        reauth=logged[0].name if logged else None,
    ), 200


def _id_token(code: _Code, client_id: str) -> str:
    provider = _state()
    now = int(provider.clock())
    base = request.host_url.rstrip("/")
    oid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"raven-test-user:{upn_of(code.user)}"))
    pairwise = hashlib.sha256(f"{client_id}:{oid}".encode()).digest()
    claims: dict[str, Any] = {
        "aud": client_id, "iss": _issuer(base, provider.tenant), "iat": now, "nbf": now,
        "exp": now + TOKEN_LIFETIME, "auth_time": code.auth_time,
        "name": f"Test User {code.user.name}", "oid": oid,
        "preferred_username": upn_of(code.user), "sub": b64url_encode(pairwise),
        "tid": provider.tenant, "uti": secrets.token_urlsafe(16), "ver": "2.0",
        "sid": code.session_id,
    }
    if code.nonce is not None:
        claims["nonce"] = code.nonce
    if provider.groups_claim:
        claims["groups"] = groups_of(code.user)
    return sign(claims, provider.key, provider.kid)


def _token_error(status: int, error: str, text: str):
    response = jsonify(error=error, error_description=text)
    response.status_code = status
    return response


def _client_credentials() -> tuple[str, str] | None:
    auth = request.authorization
    if auth is not None and auth.type == "basic":
        return auth.username or "", auth.password or ""
    form = request.form
    if "client_id" in form and "client_secret" in form:
        return form["client_id"], form["client_secret"]
    return None


#: Where raven.testing adds a user to log in as (this provider only: it is
#: for tests, on loopback addresses).
TEST_USER_ROUTE = "/raven-testing/users"


def _add_views(app: Flask, tenant: str) -> None:
    root = f"/{tenant}"

    @app.post(root + TEST_USER_ROUTE)
    def add_test_user():
        form = request.form
        ptags = [t for t in form.get("ptags", "").split(",") if t]
        try:
            user = User(form.get("name", ""), form.get("password", ""), frozenset(ptags))
        except (TypeError, ValueError) as exc:
            abort(400, str(exc))
        with _state().lock:
            _state().users.extra[user.name] = user
        return "", 204

    @app.context_processor
    def facts() -> dict[str, Any]:
        return {"test_count": TEST_USER_COUNT, "current_count": TEST_CURRENT_COUNT,
                "test_password": TEST_PASSWORD, "kid": _state().kid,
                "test_users": _state().users.builtin}

    @app.before_request
    def loopback_only() -> None:
        host = host_name(request.environ.get("HTTP_HOST"))
        if host is None or not is_loopback_host(host):
            abort(400, "This test provider only answers requests addressed to a loopback name.")

    @app.get(f"{root}/v2.0/.well-known/openid-configuration")
    def discovery():
        base = request.host_url.rstrip("/") + root
        return jsonify({
            "issuer": f"{base}/v2.0",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "jwks_uri": f"{base}/discovery/v2.0/keys",
            "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "token_endpoint_auth_methods_supported": ["client_secret_post",
                                                      "client_secret_basic"],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nbf", "auth_time",
                                 "nonce", "name", "preferred_username", "oid", "tid",
                                 "groups", "ver"],
            "tenant_region_scope": "EU",
        })

    @app.get(f"{root}/discovery/v2.0/keys")
    def keys():
        return jsonify({"keys": [jwk_of(_state().key.public_key(), _state().kid)]})

    @app.get(f"{root}/oauth2/v2.0/authorize", endpoint="authenticate")
    def authorize():
        params = _read_authorize(request.args)
        logged = _session_user()
        prompt = params.get("prompt")
        fresh = prompt == "login" or params.get("max_age") == "0"
        if prompt == "none":
            if logged is None:
                return _error_redirect(params["redirect_uri"], params.get("state"),
                                       "login_required", "the user is not logged in")
            return _issue_code(params, *logged)
        if logged is None or fresh:
            return _login_form(params)
        return _issue_code(params, *logged)

    @app.post(f"{root}/oauth2/v2.0/authorize")
    def submit():
        form = request.form
        _check_csrf()  # before anything else: a forged form does nothing
        params = _read_authorize(MultiDict(
            [(k, v) for k, v in form.items(multi=True) if k not in _FORM_FIELDS]))
        if "cancel" in form:
            return _error_redirect(params["redirect_uri"], params.get("state"),
                                   "access_denied", "the user cancelled")
        userid = form.get("userid", "")
        name = userid[: -len("@" + HOME_DOMAIN)] if userid.endswith("@" + HOME_DOMAIN) else userid
        user = _state().users.check_password(name, form.get("pwd", ""))
        if user is None:
            return _login_form(params, "Unknown user or wrong password.", userid)
        auth_time = int(_state().clock())
        session["user"] = {"name": user.name, "auth_time": auth_time}
        return _issue_code(params, user, auth_time)

    @app.post(f"{root}/oauth2/v2.0/token")
    def token():
        provider = _state()
        given = _client_credentials()
        client = provider.clients.get(given[0]) if given else None
        if given is None or client is None or not hmac.compare_digest(
                str(client["secret"]).encode(), given[1].encode("utf-8", "replace")):
            return _token_error(401, "invalid_client", "client authentication failed")
        form = request.form
        if form.get("grant_type") != "authorization_code":
            return _token_error(400, "unsupported_grant_type", "authorization_code only")
        with provider.lock:
            code = provider.codes.pop(form.get("code", ""), None)  # once only
        if (code is None or code.expires <= provider.clock() or code.client_id != given[0]
                or code.redirect_uri != form.get("redirect_uri")):
            return _token_error(400, "invalid_grant", "the code is unknown, used, expired, "
                                "or was issued for another client or redirect URI")
        verifier = form.get("code_verifier", "")
        digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        if not hmac.compare_digest(digest.decode().rstrip("="), code.challenge):
            return _token_error(400, "invalid_grant", "the PKCE code verifier does not match")
        response = jsonify(token_type="Bearer", scope="openid profile",
                           expires_in=TOKEN_LIFETIME, id_token=_id_token(code, given[0]),
                           access_token=secrets.token_urlsafe(32))
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.get(f"{root}/oauth2/v2.0/logout", endpoint="logout")
    def logout_page():
        back = request.args.get("post_logout_redirect_uri")
        logged = _session_user()
        return render_template("logout.html", user=logged[0].name if logged else None,
                               back=back if back and _is_http(back) else None,
                               refused_return=bool(back) and not _is_http(back),
                               csrf_token=_csrf)  # called only if the page shows the form

    @app.post(f"{root}/oauth2/v2.0/logout", endpoint="logout_post")
    def logout():
        _check_csrf()
        logged = _session_user()
        session.pop("user", None)
        back = request.form.get("return")
        if back and _is_http(back):
            return redirect(back, 303)
        return render_template("logged_out.html", user=logged[0].name if logged else None,
                               back=None)

    @app.get("/", endpoint="index")
    def index():
        base = request.host_url.rstrip("/")
        settings = site_settings(base, tenant)
        lines = "\n".join(f"{k}={v}" for k, v in settings.items())
        return (f"<!doctype html><title>Test OpenID provider</title><h1>Test OpenID "
                f"provider (testing only)</h1><p>Discovery: {base}{root}/v2.0/.well-known/"
                f"openid-configuration</p><p>Sites use:</p><pre>{lines}</pre>"), 200

    @app.errorhandler(_NoReturn)
    def no_return(exc: _NoReturn):
        return render_template("error.html", status=None, status_text="Bad request",
                               reason=str(exc), host=None, failed_here=False,
                               nowhere=True), 400

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if exc.response is not None:
            return exc.response
        return render_template("error.html", status=None,
                               status_text=f"{exc.code} {exc.name}", reason=exc.description,
                               host=None, failed_here=False), exc.code or 500

    @app.after_request
    def headers(resp):
        resp.headers.setdefault("Cache-Control", "no-store")
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["Referrer-Policy"] = "same-origin"
        return resp


def _is_http(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname) and "@" not in parts.netloc
