"""The local test WLS: a Flask application that answers like Raven's demo server.

Every rule of the protocol it needs comes from the core: requests are
checked by building a :class:`raven.Request` from what arrived, responses
are made by :func:`raven.response.mint_response`. What lives here is only
what a WLS decides: who is logged in, what to ask, what to answer.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, NoReturn
from urllib.parse import quote, urlsplit

from flask import (
    Flask,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from markupsafe import Markup
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.urls import iri_to_uri
from werkzeug.wrappers import Response as WerkzeugResponse

from ..errors import MalformedResponseError, RequestError
from ..keys import SigningKey
from ..origin import is_loopback_host
from ..protocol import (
    ATYPE_PWD,
    MAX_RESPONSE_LENGTH,
    STATUS_CODES,
    VERSIONS,
    Status,
    check_characters,
    strip_query,
)
from ..request import Request
from ..response import mint_response
from ..services import AUTHENTICATE_PATH, LOGOUT_PATH
from .forms import CSRF_FIELD, FormTokens
from .users import CURRENT, TEST_CURRENT_COUNT, TEST_PASSWORD, TEST_USER_COUNT, User, Users

__all__ = [
    "AUTHENTICATE_PATH", "COOKIE_NAME", "DEFAULT_SESSION_LIFETIME", "LOGOUT_PATH",
    "app_settings", "check_path", "create_app", "logout_path_for", "read_request",
    "response_location",
]

#: The paths of the real server, so only the host part of a URL changes.

#: Not Flask's default ``session``: the application under test usually runs
#: on 127.0.0.1 too, and browsers do not separate cookies by port.
COOKIE_NAME = "raven_wls_session"
DEFAULT_SESSION_LIFETIME = 7200

#: Every parameter a request may carry (the protocol's request parameters); ``skew`` is
#: deprecated but still allowed, and ignored like ``date``.
REQUEST_PARAMS = frozenset(
    {"ver", "url", "desc", "aauth", "iact", "msg", "params", "date", "skew", "fail"}
)
#: The login form's own fields, set apart from the request it carries.
FORM_FIELDS = frozenset({"userid", "pwd", "cancel", CSRF_FIELD})

_VERSION_TEXT = {str(v): v for v in VERSIONS}
_YES_NO = {"yes": True, "no": False, "": None}
# How a failure looks when fail=yes makes us show it instead of sending it.
_PAGE_CODE = {
    Status.CANCELLED: 403, Status.INTERACTION_REQUIRED: 403,
    Status.WAA_NOT_AUTHORISED: 403, Status.AUTHENTICATION_DECLINED: 403,
}
_EXTENSION = "raven_wls"
#: Longest msg we put in a response: enough to say what was wrong.
_MAX_MSG = 200


# --- outcomes other than a success, raised and turned into answers ------------

class NowhereToSend(Exception):
    """The request has no usable return URL, so only a page can answer."""


class Refusal(Exception):
    """A non-200 answer to a request whose return URL is usable."""

    def __init__(
        self, status: Status, msg: str, *, url: str, ver: int, fail: bool,
        params: str | None,
    ) -> None:
        msg = msg if len(msg) <= _MAX_MSG else msg[: _MAX_MSG - 3] + "..."
        super().__init__(msg)
        self.status, self.msg, self.url = status, msg, url
        self.ver, self.fail, self.params = ver, fail, params


@dataclass(frozen=True)
class Asked:
    """A request that passed every check, and its parameters as received."""

    request: Request
    received: tuple[tuple[str, str], ...]

    def refuse(self, status: Status, msg: str, *, ver: int | None = None) -> NoReturn:
        raise Refusal(
            status, msg, url=self.request.url, ver=ver or self.request.ver,
            fail=self.request.fail, params=self.request.params,
        )


@dataclass(frozen=True)
class WLSSession:
    """Who is logged in to the WLS itself, and until when (epoch seconds)."""

    user: User
    expires: float

    def life(self, now: float) -> int:
        return max(0, int(self.expires - now))


@dataclass(frozen=True)
class _Settings:
    users: Users
    signing_key: SigningKey
    lifetime: int
    clock: Callable[[], float]
    allowed_hosts: frozenset[str]
    authenticate_path: str
    logout_path: str


# --- whom it answers: loopback names only -----------------------------------------

#: :class:`raven.wls.server.LiveServer` puts the address it listens on here.
LISTENING_HOST = "raven.listening_host"
_PORT = re.compile(r"[0-9]{1,5}")
_WILDCARDS = frozenset({"0.0.0.0", "[::]", ""})


def host_name(header: str | None) -> str | None:
    """The host part of a ``Host`` header, lower-cased (IPv6 in brackets), or
    None if the header is missing or malformed (a user name, a bad port,
    spaces, anything not printable ASCII)."""
    if not header or not header.isascii() or not header.isprintable() or " " in header:
        return None
    if header.startswith("["):
        end = header.find("]")
        if end < 0:
            return None
        host, rest = header[: end + 1], header[end + 1:]
    else:
        host, colon, port = header.partition(":")
        rest = colon + port
    if rest and not (
        rest[0] == ":" and _PORT.fullmatch(rest[1:]) and 0 < int(rest[1:]) <= 65535
    ):
        return None
    return host.lower() if host and "@" not in host else None


def allowed_host_name(name: object) -> str:
    """A configured host name as :func:`host_name` would give it; ValueError if
    it is not one (a port, a user name, a wildcard address...)."""
    text = name.strip() if isinstance(name, str) else ""
    if ":" in text and not text.startswith("["):
        text = f"[{text}]"  # a bare IPv6 address
    host = host_name(text)
    if host is not None and host.startswith("["):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            host = None
    if host is None or host != text.lower() or host in _WILDCARDS:
        raise ValueError(f"{name!r} is not a host name or address (without a port)")
    return host


def _host_allowed(environ: Mapping[str, Any]) -> bool:
    host = host_name(environ.get("HTTP_HOST"))
    if host is None:
        return False
    if is_loopback_host(host) or host in _settings().allowed_hosts:
        return True
    # A server deliberately bound to one non-loopback address answers to it.
    listening = environ.get(LISTENING_HOST)
    if isinstance(listening, str):
        listening = f"[{listening}]" if ":" in listening else listening
        return listening.lower() not in _WILDCARDS and host == listening.lower()
    return False


# --- reading a request ---------------------------------------------------------

def read_request(args: MultiDict[str, str]) -> Asked:
    """Check a request as the protocol says, with :class:`raven.Request`.

    Raises :class:`NowhereToSend` when there is no usable ``url`` and
    :class:`Refusal` (520, 530 or 510) for anything else that is wrong.
    """
    lists = dict(args.lists())
    urls = lists.get("url", [])
    if len(urls) != 1:
        raise NowhereToSend(
            "the request has no url parameter" if not urls
            else "the request has more than one url parameter"
        )
    url = urls[0]
    try:
        Request(url)
    except RequestError as exc:
        raise NowhereToSend(str(exc)) from None

    vers = lists.get("ver", [])
    params = lists.get("params", [None])
    fail = "yes" in lists.get("fail", [])

    def refuse(status: Status, msg: str, ver: int) -> NoReturn:
        raise Refusal(status, msg, url=url, ver=ver, fail=fail,
                      params=params[0] if len(params) == 1 else None)

    # Answer in the version asked for when that is clear, else in version 1.
    answer_ver = _VERSION_TEXT.get(vers[0], 1) if len(vers) == 1 else 1
    repeated = sorted(name for name, values in lists.items() if len(values) > 1)
    if repeated:
        refuse(Status.BAD_REQUEST, f"parameter {_shorten(repeated[0])} is repeated", answer_ver)
    unknown = sorted(set(lists) - REQUEST_PARAMS)
    if unknown:
        refuse(Status.BAD_REQUEST, f"unknown parameter {_shorten(unknown[0])}", answer_ver)
    if not vers:
        refuse(Status.BAD_REQUEST, "the ver parameter is required", 1)
    if not vers[0].isascii() or not vers[0].isdigit():
        refuse(Status.BAD_REQUEST, f"ver {_shorten(vers[0])} is not a number", 1)
    single = {name: values[0] for name, values in lists.items()}
    flags = {}
    for name in ("iact", "fail"):
        value = single.get(name, "")
        if value not in _YES_NO:
            refuse(Status.BAD_REQUEST, f"{name} must be yes or no", answer_ver)
        flags[name] = _YES_NO[value]
    try:
        asked = Request(
            url,
            desc=single.get("desc"),
            aauth=single.get("aauth") or None,  # empty: the WLS's default
            iact=flags["iact"],
            msg=single.get("msg"),
            params=single.get("params"),
            fail=flags["fail"],
            encode_strings=False,
            # A number too long for int() is no version either; let Request say so.
            ver=int(vers[0]) if len(vers[0]) < 10 else -1,
        )
    except RequestError as exc:
        if exc.field == "ver":  # a number, but not a version we speak
            refuse(Status.UNSUPPORTED_VERSION, f"version {vers[0]} is not supported", 1)
        refuse(Status.BAD_REQUEST, str(exc), answer_ver)
    if asked.aauth is not None and ATYPE_PWD not in asked.aauth:
        refuse(
            Status.NOATYPES,
            f"this WLS only offers {ATYPE_PWD}, the request accepts "
            f"{','.join(sorted(asked.aauth))}",
            asked.ver,
        )
    return Asked(asked, tuple(single.items()))


def _shorten(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")


# --- making an answer ------------------------------------------------------------

def response_location(url: str, ver: int, response: str) -> str:
    """Where to send the browser: ``url`` plus ``WLS-Response``, as the protocol says.

    Version 1 drops the query part of ``url`` first. A fragment stays at
    the end, where a browser expects it.
    """
    if ver == 1:
        url = strip_query(url)
    base, hash_, fragment = url.partition("#")
    base += "&" if "?" in base else "?"  # however the query ends, as §2 says
    location = f"{base}WLS-Response={quote(response, safe='!')}{hash_}{fragment}"
    return location if location.isascii() else iri_to_uri(location)


def _answer(
    status: Status, url: str, ver: int, **fields: Any
) -> WerkzeugResponse | tuple[str, int]:
    """Sign a response and redirect (303) the browser back with it."""
    settings = _settings()
    moment = datetime.fromtimestamp(_now(), timezone.utc)
    response = mint_response(
        settings.signing_key, url=url, status=status, ver=ver, issue=moment, **fields
    )
    try:  # the core's parser would refuse what it cannot read; so do we
        check_characters(response)
        if len(response) > MAX_RESPONSE_LENGTH:
            raise MalformedResponseError("the request is too long to be answered")
    except MalformedResponseError as exc:
        return _nowhere_page(f"no valid response can be made for this request: {exc}")
    return redirect(response_location(url, ver, response), 303)


def _refusal_answer(exc: Refusal) -> WerkzeugResponse | tuple[str, int]:
    if exc.fail:  # fail=yes: the application asked us not to send failures back
        return _page(
            "error.html", _PAGE_CODE.get(exc.status, 400),
            status=exc.status, status_text=STATUS_CODES[exc.status], reason=exc.msg,
            host=_host(exc.url), failed_here=True,
        )
    return _answer(exc.status, exc.url, exc.ver, msg=exc.msg, params=exc.params)


def _success(
    asked: Asked, wls_session: WLSSession, *, interacted: bool
) -> WerkzeugResponse | tuple[str, int]:
    req, user = asked.request, wls_session.user
    if req.ver < 3 and CURRENT not in user.ptags:
        # A WAA reads an old-version success as "current" (the protocol's rule for old versions).
        asked.refuse(
            Status.AUTHENTICATION_DECLINED,
            f"{user.name} is not {CURRENT}; a version {req.ver} request can only "
            f"succeed for {CURRENT} people",
        )
    return _answer(
        Status.SUCCESS, req.url, req.ver,
        principal=user.name, ptags=user.ptags,
        auth=ATYPE_PWD if interacted else None,
        sso=None if interacted else {ATYPE_PWD},
        life=wls_session.life(_now()),
        params=req.params,
    )


# --- the WLS's own single-sign-on session ----------------------------------------

def current_session() -> WLSSession | None:
    data = session.get("wls")
    if not isinstance(data, dict):
        return None
    name, expires = data.get("user"), data.get("expires")
    if not isinstance(name, str) or not isinstance(expires, (int, float)):
        return None
    settings = _settings()
    user = settings.users.get(name)
    if user is None or expires <= _now():
        return None
    return WLSSession(user, expires)


# Each form's token has a cookie of its own (raven.wls.forms says why).
FORM_COOKIE_PREFIX = "raven_wls_form_"
_FORMS = FormTokens(FORM_COOKIE_PREFIX, "test WLS")


def csrf_token() -> str:
    """A new anti-forgery token for a form on this page, and its cookie."""
    return _FORMS.new(_now())


def check_csrf(form: MultiDict[str, str]) -> None:
    """Refuse (400) a form that was not served by this WLS to this browser,
    and spend its token."""
    _FORMS.check(form, _now())


def start_session(user: User) -> WLSSession:
    expires = _now() + _settings().lifetime
    session["wls"] = {"user": user.name, "expires": expires}
    session.permanent = True
    return WLSSession(user, expires)


# --- pages -------------------------------------------------------------------------

def _raven_escape(text: str | None) -> Markup | None:
    """Show desc or msg as Raven does: ``<`` and ``>`` escaped, entities kept.

    The request check has already limited the text to printable ASCII; with
    no ``<`` left it cannot open a tag, while ``&amp;`` or ``&#233;`` still
    render as intended.
    """
    if text is None:
        return None
    return Markup(text.replace("<", "&lt;").replace(">", "&gt;"))


def _nowhere_page(reason: str) -> tuple[str, int]:
    return _page("error.html", 400, status=None, status_text="Bad request",
                 reason=reason, host=None, failed_here=False, nowhere=True)


#: Longest return address the logout page offers as a link.
_MAX_RETURN = 2000


def return_url(url: str | None) -> str | None:
    """``url`` if the logout page may offer it as a link back, else None.

    Only a plain link the user clicks, never a redirect, so any http or
    https URL will do; ``javascript:``, ``data:`` and the like never, nor a
    user name before the host (``http://raven.cam.ac.uk@elsewhere/``).
    """
    if not url or len(url) > _MAX_RETURN:
        return None
    try:
        Request(url)  # the protocol's own test of a fully qualified http(s) URL
    except RequestError:
        return None
    return None if "@" in urlsplit(url).netloc else url


def _same_origin_referrer() -> str | None:
    """The page of this WLS the user came from, if the browser said so."""
    referrer = request.referrer
    if not referrer:
        return None
    try:
        parts = urlsplit(referrer)
    except ValueError:
        return None
    same = (parts.scheme, parts.netloc.lower()) == (request.scheme, request.host.lower())
    return return_url(referrer) if same and parts.path != request.path else None


def _host(url: str) -> str:
    return urlsplit(url).netloc.rpartition("@")[2]


def _page(template: str, code: int = 200, **context: Any) -> tuple[str, int]:
    return render_template(template, **context), code


def _login_form(
    asked: Asked, wls_session: WLSSession | None, error: str | None = None, userid: str = "",
) -> tuple[str, int]:
    req = asked.request
    # After a wrong password the name stays filled in (if it could be one).
    userid = userid if len(userid) <= 100 and userid.isprintable() else ""
    return _page(
        "login.html", 200, userid=userid,
        host=_host(req.url), url=req.url, insecure=req.url.startswith("http:"),
        desc=_raven_escape(req.desc), msg=_raven_escape(req.msg),
        hidden=asked.received, error=error, csrf_token=csrf_token(),
        reauth=wls_session.user.name if wls_session and req.iact else None,
    )


# --- the application -------------------------------------------------------------

def _settings() -> _Settings:
    return _settings_of(current_app)


def _settings_of(app: Flask) -> _Settings:
    settings: _Settings = app.extensions[_EXTENSION]
    return settings


def _now() -> float:
    """One reading of the clock per request, so issue, session and life agree."""
    if "raven_wls_now" not in g:
        g.raven_wls_now = _settings().clock()
    now: float = g.raven_wls_now
    return now


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Make the test WLS as a Flask application.

    ``config`` may set, besides any Flask setting:

    - ``RAVEN_WLS_USERS``: extra users, as :class:`raven.wls.User` objects,
      dicts with ``name``, ``password`` and ``ptags``, or
      ``(name, password[, ptags])`` tuples; they win over a built-in user
      of the same name;
    - ``RAVEN_WLS_TEST_USERS``: whether the built-in users ``test0001`` …
      ``test0500`` can log in (True);
    - ``RAVEN_WLS_SESSION_LIFETIME``: seconds a WLS login lasts (7200);
    - ``RAVEN_WLS_SIGNING_KEY``: a :class:`raven.keys.SigningKey` (the
      published demo key, kid 901, by default; live keys are refused);
    - ``RAVEN_WLS_CLOCK``: a function giving the time as epoch seconds,
      so that tests can move time on;
    - ``RAVEN_WLS_AUTHENTICATE_PATH``: where requests go
      (``/auth/authenticate.html``), so that a second WLS can have a path
      of its own;
    - ``RAVEN_WLS_LOGOUT_PATH``: the logout page (next to the authentication
      path: ``logout.html``, or ``logout`` if that path does not end ``.html``);
    - ``RAVEN_WLS_ALLOWED_HOSTS``: host names or addresses, besides the
      loopback ones, that requests may be addressed to (none);
    - ``SECRET_KEY``: signs the WLS's session cookie and login form
      (``RAVEN_WLS_SECRET_KEY`` from the environment, else random, so a
      restart logs everybody out and several workers disagree: docs/wls.md);
    - ``SESSION_COOKIE_NAME``: ``raven_wls_session`` by default.
    """
    app = Flask(__name__)
    app.config.update(
        # From the environment, if set: every worker of a server must sign
        # (and check) the login form's token and the cookie with one key.
        SECRET_KEY=os.environ.get("RAVEN_WLS_SECRET_KEY") or secrets.token_bytes(32),
        SESSION_COOKIE_NAME=COOKIE_NAME,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # A login form is a few kilobytes; anything much bigger is refused (413).
        MAX_CONTENT_LENGTH=1024 * 1024,
        RAVEN_WLS_USERS=(),
        RAVEN_WLS_TEST_USERS=True,
        RAVEN_WLS_SESSION_LIFETIME=DEFAULT_SESSION_LIFETIME,
        RAVEN_WLS_SIGNING_KEY=None,
        RAVEN_WLS_CLOCK=time.time,
        RAVEN_WLS_ALLOWED_HOSTS=(),
        RAVEN_WLS_AUTHENTICATE_PATH=AUTHENTICATE_PATH,
        RAVEN_WLS_LOGOUT_PATH=None,
    )
    app.config.update(config or {})
    lifetime = app.config["RAVEN_WLS_SESSION_LIFETIME"]
    if isinstance(lifetime, bool) or not isinstance(lifetime, int) or lifetime < 1:
        raise ValueError("RAVEN_WLS_SESSION_LIFETIME must be a whole number of seconds >= 1")
    key = app.config["RAVEN_WLS_SIGNING_KEY"]
    if key is None:
        key = SigningKey.demo()
    elif not isinstance(key, SigningKey):
        raise TypeError("RAVEN_WLS_SIGNING_KEY must be a raven.keys.SigningKey")
    if not callable(app.config["RAVEN_WLS_CLOCK"]):
        raise TypeError("RAVEN_WLS_CLOCK must be a function returning epoch seconds")
    app.config["PERMANENT_SESSION_LIFETIME"] = lifetime
    auth_path, logout_path = _paths(app.config)
    test_users = app.config["RAVEN_WLS_TEST_USERS"]
    if not isinstance(test_users, bool):
        raise TypeError("RAVEN_WLS_TEST_USERS must be True or False")
    users = Users(app.config["RAVEN_WLS_USERS"], builtin=test_users)
    if not test_users and not users.extra:
        raise ValueError("with RAVEN_WLS_TEST_USERS off, RAVEN_WLS_USERS must give some users")
    app.extensions[_EXTENSION] = _Settings(
        users=users,
        signing_key=key,
        lifetime=lifetime,
        clock=app.config["RAVEN_WLS_CLOCK"],
        allowed_hosts=_allowed_hosts(app.config["RAVEN_WLS_ALLOWED_HOSTS"]),
        authenticate_path=auth_path,
        logout_path=logout_path,
    )
    _add_views(app)
    return app


# Plain characters only, so that a path reads the same in a banner, a browser
# and a URL rule.
_PATH = re.compile(r"(/[A-Za-z0-9._~-]+)+/?")
_RESERVED_PATHS = frozenset({"/", "/favicon.ico"})


def logout_path_for(authenticate_path: str) -> str:
    """The logout page next to an authentication path: ``/auth/authenticate.html``
    gives ``/auth/logout.html``, ``/a/b/authenticate`` gives ``/a/b/logout``."""
    path = authenticate_path
    folder = path[:-1] if path.endswith("/") else path.rpartition("/")[0]
    return f"{folder}/logout{'.html' if authenticate_path.endswith('.html') else ''}"


def app_settings(base_url: str, authenticate_path: str, logout_path: str) -> dict[str, str]:
    """The settings (``RAVEN_WLS`` and, if needed, ``RAVEN_WLS_LOGOUT``) that
    point an application at this WLS served at ``base_url``."""
    from ..services import wls_from_settings

    if (authenticate_path, logout_path) == (AUTHENTICATE_PATH, LOGOUT_PATH):
        return {"RAVEN_WLS": base_url}
    chosen = {"RAVEN_WLS": base_url + authenticate_path}
    if wls_from_settings(chosen).logout_url != base_url + logout_path:
        chosen["RAVEN_WLS_LOGOUT"] = base_url + logout_path
    return chosen


def check_path(path: object) -> str:
    """``path`` if a WLS page can live there, else ValueError."""
    if (
        not isinstance(path, str) or len(path) > 200 or not _PATH.fullmatch(path)
        or any(part in (".", "..") for part in path.split("/"))
        or path in _RESERVED_PATHS
    ):
        raise ValueError(
            f"{path!r} is not a path such as /auth/authenticate.html (letters, digits "
            "and . _ ~ - between slashes)"
        )
    return path


def _config_path(name: str, path: object) -> str:
    try:
        return check_path(path)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None


def _paths(config: Mapping[str, Any]) -> tuple[str, str]:
    auth = _config_path("RAVEN_WLS_AUTHENTICATE_PATH", config["RAVEN_WLS_AUTHENTICATE_PATH"])
    logout = config["RAVEN_WLS_LOGOUT_PATH"]
    logout = _config_path(
        "RAVEN_WLS_LOGOUT_PATH", logout_path_for(auth) if logout is None else logout
    )
    if auth == logout:
        raise ValueError(f"the authentication and logout paths are both {auth}: "
                         "set RAVEN_WLS_LOGOUT_PATH to another")
    return auth, logout


def _allowed_hosts(value: object) -> frozenset[str]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise TypeError("RAVEN_WLS_ALLOWED_HOSTS must be a list of host names")
    try:
        return frozenset(map(allowed_host_name, value))
    except ValueError as exc:
        raise ValueError(f"RAVEN_WLS_ALLOWED_HOSTS: {exc}") from None


def _add_views(app: Flask) -> None:
    @app.context_processor
    def facts() -> dict[str, Any]:
        settings = _settings()
        return {
            "test_count": TEST_USER_COUNT, "current_count": TEST_CURRENT_COUNT,
            "test_password": TEST_PASSWORD, "kid": settings.signing_key.kid,
            "test_users": settings.users.builtin,
        }

    @app.before_request
    def loopback_only() -> None:
        # A web page can point a name of its own at 127.0.0.1 (DNS rebinding);
        # its requests then carry that name, and get nothing here.
        if not _host_allowed(request.environ):
            abort(400, "This test WLS only answers requests addressed to a loopback name "
                       "(127.0.0.1, [::1] or localhost, with any port), so that no web "
                       "page can reach it under a name of its own. The request's Host "
                       f"was {_shorten(request.environ.get('HTTP_HOST', '(none)'))}.")

    @app.before_request
    def readable_query() -> None:
        # Werkzeug cannot read raw query bytes that are not UTF-8 (a 500).
        try:
            request.query_string.decode("utf-8")
        except UnicodeDecodeError:
            abort(400, "The address holds bytes that are not UTF-8 text.")

    @app.before_request
    def readable_form() -> None:
        # ... and reads a form body that is not UTF-8 as an empty form, which
        # would be refused for a reason that is not the real one.
        if request.method == "POST" and request.mimetype == "application/x-www-form-urlencoded":
            try:
                request.get_data(cache=True).decode("utf-8")
            except UnicodeDecodeError:
                abort(400, "The form holds bytes that are not UTF-8 text.")

    settings = _settings_of(app)

    @app.get(settings.authenticate_path, endpoint="authenticate")
    def authenticate() -> ResponseReturnValue:
        asked = read_request(request.args)
        wls_session = current_session()
        if asked.request.iact is False:
            if wls_session is None:
                asked.refuse(Status.INTERACTION_REQUIRED,
                             "the user is not logged in to the WLS and would have to be")
            return _success(asked, wls_session, interacted=False)
        if asked.request.iact or wls_session is None:
            return _login_form(asked, wls_session)
        return _success(asked, wls_session, interacted=False)

    @app.post(settings.authenticate_path)
    def submit() -> ResponseReturnValue:
        form = request.form
        check_csrf(form)  # before anything else: a forged form does nothing
        asked = read_request(MultiDict(
            [(k, v) for k, v in form.items(multi=True) if k not in FORM_FIELDS]
        ))
        if "cancel" in form:  # answered in version 1, whatever was asked, as Raven does
            asked.refuse(Status.CANCELLED, "the user cancelled", ver=1)
        if asked.request.iact is False:
            asked.refuse(Status.INTERACTION_REQUIRED, "iact=no, yet a password was typed")
        user = _settings().users.check_password(form.get("userid", ""), form.get("pwd", ""))
        if user is None:
            return _login_form(asked, current_session(), "Unknown user or wrong password.",
                               userid=form.get("userid", ""))
        return _success(asked, start_session(user), interacted=True)

    @app.get(settings.logout_path, endpoint="logout")
    def logout_page() -> ResponseReturnValue:
        # Only a POST logs out: a link or an image on another site cannot.
        given = request.args.get("return")
        back = return_url(given)
        if back is None and given is None:
            back = _same_origin_referrer()
        wls_session = current_session()
        return _page(
            "logout.html", user=wls_session.user.name if wls_session else None,
            back=back, refused_return=given is not None and back is None,
            csrf_token=csrf_token,  # called only if the page shows the form
        )

    @app.post(settings.logout_path, endpoint="logout_post")
    def logout() -> ResponseReturnValue:
        check_csrf(request.form)
        was = current_session()
        session.pop("wls", None)
        return _page("logged_out.html", user=was.user.name if was else None,
                     back=return_url(request.form.get("return")))

    @app.get("/favicon.ico")
    def favicon() -> ResponseReturnValue:
        return "", 204  # browsers ask; "nothing" beats a 404 in the log

    @app.get("/")
    def index() -> ResponseReturnValue:
        wls_session = current_session()
        now = _now()
        return _page(
            "index.html",
            base_url=request.host_url.rstrip("/"),
            user=wls_session.user.name if wls_session else None,
            life=wls_session.life(now) if wls_session else None,
            extra=sorted(_settings().users.extra.values(), key=lambda u: u.name),
            authenticate=url_for("authenticate"), logout=url_for("logout"),
            app_settings=app_settings(request.host_url.rstrip("/"),
                                      settings.authenticate_path, settings.logout_path),
        )

    @app.errorhandler(NowhereToSend)
    def nowhere(exc: NowhereToSend) -> ResponseReturnValue:
        return _nowhere_page(str(exc))

    @app.errorhandler(Refusal)
    def refused(exc: Refusal) -> ResponseReturnValue:
        return _refusal_answer(exc)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> ResponseReturnValue:
        reason = exc.description
        if exc.code == 404:
            reason = (f"There is no page at {_shorten(request.path, 80)} on this server, "
                      "which is python-raven's local test web login service (a stand-in "
                      "for Raven, for development and testing).")
        page = _page("error.html", exc.code or 500, status=None,
                     status_text=f"{exc.code} {exc.name}", reason=reason,
                     host=None, failed_here=False, not_found=exc.code == 404)
        allow = getattr(exc, "valid_methods", None)
        return (*page, {"Allow": ", ".join(allow)}) if allow else page

    @app.after_request
    def headers(resp: WerkzeugResponse) -> WerkzeugResponse:
        resp.headers["Cache-Control"] = "no-store"
        resp.headers["X-Content-Type-Options"] = "nosniff"
        # Other sites learn nothing; our own pages tell the logout page where from.
        resp.headers["Referrer-Policy"] = "same-origin"
        resp.headers["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
        )
        return resp
