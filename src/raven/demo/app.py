"""The demo application: python-raven's features as pages you can click.

- ``/protected``: a view behind :class:`raven.flask_glue.AuthDecorator`;
- ``/integration``: Raven next to a site's own login, with the seed's
  hand-written flow (:class:`raven.Request` out, :func:`raven.validate_response`
  back) and a message flashed for every outcome;
- ``/logout``: logging out here, and optionally of the WLS too;
- ``/builder``: build an authentication request and see its URL and code;
- ``/inspect``: paste a ``WLS-Response`` (or arrive with one) and see each
  field and check in words.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

from flask import (
    Blueprint,
    Flask,
    Request,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from jinja2 import BaseLoader, ChoiceLoader, Environment, FileSystemLoader, TemplateNotFound
from werkzeug.exceptions import BadRequest, HTTPException, SecurityError
from werkzeug.wrappers import Response as WerkzeugResponse

from ..checks import validate_response
from ..errors import RequestError, ResponseError
from ..explain import duration, explain, extract, visible
from ..flask_glue import AuthDecorator
from ..flow import State, split_response
from ..protocol import STATUS_CODES, Status
from ..services import DEFAULT_LOCAL_WLS, DEMO, LIVE, WLS, local_wls, wls_from_settings

__all__ = ["auth_decorator", "create_app"]

logger = logging.getLogger("raven.demo")

TEMPLATES = Path(__file__).with_name("templates")
#: The one host name the demo answers to unless configured otherwise.
DEFAULT_HOST = "127.0.0.1"

#: Protects /protected. Its settings come from app.config (RAVEN_*), so one
#: decorator serves every app create_app makes, each with its own WLS.
auth_decorator = AuthDecorator()

bp = Blueprint("demo", __name__)

# The hand-written flow keeps its own state in the session, apart from the
# decorator's: who is logged in, how, and the params tokens sent out.
USER = "user"
METHOD = "login_method"
TOKENS = "integration_tokens"
LOGIN_WLS = "login_wls"
CSRF = "csrf"

_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")
_IACT = {"": None, "yes": True, "no": False}
_WLS_KINDS = ("local", "demo", "live")


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """The demo as a Flask application.

    ``config`` may set any Flask or ``RAVEN_*`` setting; the demo's own
    defaults are ``RAVEN_WLS = "http://127.0.0.1:5001"`` (``raven wls``),
    ``TRUSTED_HOSTS = ["127.0.0.1"]`` and a random ``SECRET_KEY`` (so a
    restart logs everyone out).
    """
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=secrets.token_bytes(32),
        TRUSTED_HOSTS=[DEFAULT_HOST],
        RAVEN_ORIGIN=f"http://{DEFAULT_HOST}:5000",  # as `raven demo` serves it
        SESSION_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=64 * 1024,
        RAVEN_WLS=DEFAULT_LOCAL_WLS,
        RAVEN_DESC="the python-raven demo",
    )
    app.config.update(config or {})
    if not app.config["TRUSTED_HOSTS"]:
        raise ValueError("TRUSTED_HOSTS must name the host(s) the demo is reached at")
    # Flask before 3.1 ignores TRUSTED_HOSTS; the request class works everywhere.
    app.request_class = type(
        "DemoRequest", (Request,), {"trusted_hosts": list(app.config["TRUSTED_HOSTS"])}
    )
    app.after_request(_security_headers)  # before init_app: runs after the glue's
    settings = auth_decorator.init_app(app)  # a bad RAVEN_* setting fails here, not later
    # The hand-written flow's WLS: the decorator's, unless that is Entra ID
    # (the hand-written pages speak Ucam-WebAuth): then the local test WLS.
    app.extensions["raven_demo"] = (
        settings.wls if getattr(settings.wls, "protocol", "") != "oidc"
        else wls_from_settings({"RAVEN_WLS": app.config.get("RAVEN_DEMO_WLS",
                                                            DEFAULT_LOCAL_WLS)}))
    # The glue's refusal pages extend raven/base.html: give them our layout.
    app.jinja_loader = ChoiceLoader([
        FileSystemLoader(TEMPLATES),
        _Renamed(FileSystemLoader(TEMPLATES), {"raven/base.html": "raven_base.html"}),
    ])
    app.register_blueprint(bp)
    app.context_processor(_template_context)
    app.add_template_filter(_utc, "utc")
    app.add_template_filter(_from_now, "from_now")
    app.add_template_filter(duration, "duration")
    # Unprintable characters shown as escapes, whatever the length.
    app.add_template_filter(lambda text: visible(text, limit=len(text)), "visible")
    app.before_request(_refuse_undecodable_query)
    app.register_error_handler(HTTPException, _error_page)
    return app


class _Renamed(BaseLoader):
    """Serves some template names from files with other names."""

    def __init__(self, loader: BaseLoader, names: Mapping[str, str]) -> None:
        self.loader, self.names = loader, dict(names)

    def get_source(self, environment: Environment, template: str) -> Any:
        if template not in self.names:
            raise TemplateNotFound(template)
        return self.loader.get_source(environment, self.names[template])


def configured_wls() -> WLS:
    return current_app.extensions["raven_demo"]  # type: ignore[no-any-return]


# --- the page protected by the decorator ------------------------------------------


@bp.get("/")
def index() -> str:
    # Someone the protected page refuses is offered a log-out, not a link to
    # a 403; to the decorator, they are nobody.
    kept = auth_decorator.stored_login()
    refused = kept if kept is not None and auth_decorator.principal is None else None
    return render_template("index.html", refused=refused)


@bp.get("/protected")
@auth_decorator
def protected() -> str:
    return render_template(
        "protected.html",
        principal=auth_decorator.principal,
        ptags=sorted(auth_decorator.ptags or ()),
        issue=auth_decorator.issue,
        life=auth_decorator.life,
        last=auth_decorator.last,
        expires=auth_decorator.expires,
        expires_all=auth_decorator.expires_all or [],
        limits=_LIMITS,
    )


#: The reasons in AuthDecorator.expires_all, in words.
_LIMITS = {
    "config max life": "the longest login this site allows",
    "wls life": "the end of your session with the WLS",
    "inactive": "after this long without a visit",
}


# --- logging out --------------------------------------------------------------------


@bp.get("/logout")
def logout_page() -> str:
    return render_template("logout.html")


@bp.post("/logout")
def logout() -> WerkzeugResponse:
    """Log out here; with ``wls=yes`` go on to the WLS's logout page too."""
    _check_csrf()
    to_wls = auth_decorator.logout()  # forgets the Raven login in this session
    for key in (USER, METHOD, TOKENS):
        session.pop(key, None)
    if request.form.get("wls") == "yes":
        # The WLS's page still asks for a click: say only what has happened.
        flash("You are logged out of the demo. You were sent on to the WLS's logout page: "
              "your session there lasts until you press its Log out button.", "success")
        return to_wls
    flash("You are logged out of the demo. Your session with the WLS goes on, so a "
          "new login may not ask for a password.", "success")
    return redirect(url_for(".index"), 303)


# --- integration with a site's own login: the seed's hand-written flow --------------


@bp.get("/integration")
def integration() -> str:
    return render_template("integration.html")


@bp.post("/integration/password")
def integration_password() -> Any:
    """The site's own login method; a user name is enough in a demo."""
    _check_csrf()
    name = request.form.get("username", "").strip()
    if not _USERNAME.fullmatch(name):
        # Said at the field, with what was typed kept for correcting.
        return render_template(
            "integration.html", username=request.form.get("username", "")[:200],
            username_error="A user name is 1 to 32 letters, digits, '.', '_' or '-', "
                           "starting with a letter or digit.",
        ), 400
    session[USER], session[METHOD] = name, "username"
    flash(f"Logged in as {name} with a user name: this site's own login, not Raven.",
          "success")
    return redirect(url_for(".integration"), 303)


@bp.get("/integration/login")
def integration_login() -> WerkzeugResponse:
    """Send the browser to the WLS, by hand."""
    # The site's own URL from the origins configured, never a bare Host header.
    url = auth_decorator.own_url(url_for(".integration_response"))
    token = secrets.token_urlsafe(16)
    r = configured_wls().request(url, desc=current_app.config["RAVEN_DESC"], params=token)
    session[TOKENS] = State.load(session.get(TOKENS)).with_token(token).dump()
    return redirect(str(r), 303)


@bp.get("/integration/response")
def integration_response() -> Any:
    """Check what the WLS sent back, and say what happened, whatever it was."""
    values = request.args.getlist("WLS-Response")
    if len(values) != 1:
        return _integration_refused("format", "the address holds no WLS-Response, or several")
    url = auth_decorator.own_url(url_for(".integration_response"))
    wls = configured_wls()
    try:
        # url, issue, and for a success iact and aauth: the seed's checks, in one call.
        r = validate_response(values[0], url, wls=wls)
        # A response works once, and only in the browser that asked for it.
        session[TOKENS] = State.load(session.get(TOKENS)).spend(r.params).dump()
    except ResponseError as exc:
        return _integration_refused(exc.check, str(exc))
    if r.success and "current" not in r.ptags:
        # This site is for current staff and students only (Raven's "current"
        # ptag); a site open to everyone with a Raven account would skip this.
        flash(f"{r.principal} is not a current member of the University "
              "(no 'current' ptag), so this site does not log them in.", "error")
    elif r.success:
        session[USER], session[METHOD], session[LOGIN_WLS] = r.principal, "raven", wls.auth_url
        ptags = ", ".join(sorted(r.ptags)) or "none"
        flash(f"Logged in as {r.principal} with Raven (ptags: {ptags}).", "success")
    elif r.status == Status.CANCELLED:
        flash("You cancelled the Raven login. Nothing has changed.", "info")
    else:
        said = f": {r.msg}" if r.msg else ""
        flash(f"Raven did not log you in: {STATUS_CODES[r.status]} "
              f"(status {int(r.status)}){said}.", "error")
    return redirect(url_for(".integration"), 303)


def _integration_refused(check: str, why: str) -> tuple[str, int]:
    # Tell the user and log it; never retry by ourselves (a redirect loop).
    why = visible(why, 300)
    logger.warning("integration login refused (check %s): %s", check, why)
    flash(f"Raven login refused (check {check}): {why}.", "error")
    return render_template("integration.html"), 400


@bp.get("/integration/secrets")
def integration_secrets() -> str:
    """The seed's ``secrets`` view: only for someone logged in either way."""
    if session.get(USER) is None:
        abort(401, "Log in first, on the integration page, with Raven or a user name.")
    if session.get(METHOD) == "raven" and session.get(LOGIN_WLS) != configured_wls().auth_url:
        # A login belongs to the WLS that made it: one made elsewhere is none here.
        abort(401, "Your Raven login was made through another WLS: log in again.")
    return render_template("secrets.html")


# --- the request builder --------------------------------------------------------------


@bp.get("/builder")
def builder() -> Any:
    args = request.args
    form = {
        "wls": args.get("wls", configured_wls().kind),
        "url": args.get("url", url_for(".inspect", _external=True)),
        **{name: args.get(name, "") for name in ("desc", "msg", "params", "aauth", "iact")},
        "fail": args.get("fail", ""),
    }
    if form["wls"] not in _WLS_KINDS:
        abort(400, "wls must be local, demo or live.")
    if form["iact"] not in _IACT or form["fail"] not in ("", "yes"):
        abort(400, "iact must be yes, no or empty, and fail yes or empty.")
    if "url" not in args:
        return render_template("builder.html", form=form, built=None, error=None)
    wls = _wls_of_kind(form["wls"])
    kwargs: dict[str, Any] = {  # in the order of Request's arguments
        "desc": form["desc"] or None,
        "aauth": form["aauth"] or None,
        "iact": _IACT[form["iact"]],
        "msg": form["msg"] or None,
        "params": form["params"] or None,
        "fail": True if form["fail"] else None,
    }
    try:
        built = wls.request(form["url"], **kwargs)
    except RequestError as exc:
        field = exc.field if exc.field in _BUILDER_FIELDS else None
        return render_template("builder.html", form=form, built=None, error=str(exc),
                               error_field=field), 400
    return render_template(
        "builder.html", form=form, built=built, error=None, wls=wls,
        python=python_call(wls, form["url"], kwargs, built),
    )


#: The builder's fields, by the names of Request's arguments (and the form's ids).
_BUILDER_FIELDS = frozenset({"url", "desc", "msg", "params", "aauth", "iact", "fail"})


def _wls_of_kind(kind: str) -> WLS:
    configured = configured_wls()
    if kind == configured.kind:
        return configured
    return {"live": LIVE, "demo": DEMO}.get(kind) or local_wls(DEFAULT_LOCAL_WLS)


def python_call(wls: WLS, url: str, kwargs: Mapping[str, Any], built: Any) -> str:
    """The Python that builds the same request."""
    module = "raven" if wls.kind == "live" else "raven.demoserver"
    args = [f"url={url!r}"]
    for name, value in kwargs.items():
        if value is None:
            continue
        if name == "aauth":
            value = "{" + ", ".join(repr(t) for t in sorted(built.aauth)) + "}"
            args.append(f"aauth={value}")
        else:
            args.append(f"{name}={value!r}")
    if wls.kind == "local":
        args.append(f"wls_url={wls.auth_url!r}")
    lines = [f"import {module}", "", f"request = {module}.Request("]
    lines += [f"    {arg}," for arg in args]
    lines += [")", "print(str(request))  # redirect the browser here (303)"]
    return "\n".join(lines)


# --- the response inspector -----------------------------------------------------------


@bp.route("/inspect", methods=["GET", "POST"])
def inspect() -> Any:
    """Explain a response: arriving from a WLS (GET), or pasted (POST)."""
    source = request.form if request.method == "POST" else request.args
    configured = configured_wls()
    form = {
        "response": "",
        "trust": source.get("trust", "live" if configured.kind == "live" else "demo"),
        "url": source.get("url", ""),
        "iact": source.get("iact", ""),
        "aauth": source.get("aauth", ""),
        "params": source.get("params", ""),
    }
    if form["trust"] not in ("live", "demo") or form["iact"] not in _IACT:
        abort(400, "trust must be live or demo, and iact yes, no or empty.")
    arrived_at: str | None  # the URL the response came to, if known
    if request.method == "GET":
        values = request.args.getlist("WLS-Response")
        if not values:
            return render_template("inspect.html", form=form, result=None, error=None)
        if len(values) > 1:
            abort(400, "The address holds more than one WLS-Response.")
        text, arrived_at = values[0], _this_url_without_response()
    else:
        pasted = request.form.get("response", "")
        try:
            text, arrived_at = extract(pasted)
        except ValueError as exc:
            why = str(exc)
            return _inspect_form_again(form, pasted, f"{why[:1].upper()}{why[1:]}.")
        if not text:
            return _inspect_form_again(form, pasted, "Paste a WLS-Response to inspect.")
    form["response"] = text
    if not form["url"] and arrived_at:
        form["url"] = arrived_at
    aauth = frozenset(a for a in re.split(r"[,\s]+", form["aauth"]) if a) or None
    result = explain(
        text,
        keys=(LIVE if form["trust"] == "live" else DEMO).keys,
        url=form["url"] or None,
        iact=_IACT[form["iact"]],
        aauth=aauth,
        params=form["params"] or None,
    )
    # Until the signature verifies, the fields are only what the text claims.
    verified = any(c.name == "signature" and c.state == "passed" for c in result.checks)
    notes = [_CLI_FLAG.sub("", note) for note in result.notes]
    page = render_template("inspect.html", form=form, result=result, verified=verified,
                           notes=notes, error=None)
    return page, 200 if result.valid else 400


#: explain()'s notes serve the command line too; a page has no flags to pass.
_CLI_FLAG = re.compile(r" \(--[a-z][a-z-]*\)")


def _inspect_form_again(form: dict[str, str], pasted: str, error: str) -> tuple[str, int]:
    """The form as it was sent, with what is wrong with it (as the builder does)."""
    form["response"] = pasted
    return render_template("inspect.html", form=form, result=None, error=error), 400


def _this_url_without_response() -> str:
    """The URL of this request minus ``WLS-Response``: what a response that
    arrived here should be for, from the site's configured origin."""
    _, rest = split_response(request.query_string)
    return auth_decorator.own_url(request.path, rest)


# --- shared pieces -------------------------------------------------------------------


def _csrf_token() -> str:
    if CSRF not in session:
        session[CSRF] = secrets.token_urlsafe(24)
    return session[CSRF]  # type: ignore[no-any-return]


def _check_csrf() -> None:
    """Forms that change who is logged in must come from our own pages:
    else another site could log a visitor in as someone else."""
    sent = request.form.get("csrf", "")
    expected = session.get(CSRF)
    if not expected or not secrets.compare_digest(sent.encode(), expected.encode()):
        raise BadRequest("This form has expired or did not come from this site. "
                         "Go back, reload the page and try again.")


def _template_context() -> dict[str, Any]:
    try:
        request.host  # noqa: B018
    except SecurityError:  # no links can be built for a host we do not answer to
        host_ok = False
    else:
        host_ok = True
    return {
        "host_ok": host_ok,
        # For the glue's 403 page: a button that logs out here and of the WLS,
        # so that someone else can log in.
        "logout_url": url_for("demo.logout") if host_ok else None,
        "logout_fields": _FullLogoutFields(),
        "wls": configured_wls(),
        "csrf_token": _csrf_token,
        "user": session.get(USER),
        "login_method": session.get(METHOD),
        "raven_principal": auth_decorator.principal,
    }


class _FullLogoutFields:
    """The hidden fields of a full log-out form, as (name, value) pairs. The
    CSRF token is made only when a page shows the form, so other pages set
    no cookie."""

    def __iter__(self) -> Iterator[tuple[str, str]]:
        yield "csrf", _csrf_token()
        yield "wls", "yes"


def _utc(epoch: int | None) -> str:
    if epoch is None:
        return "not given"
    moment = datetime.fromtimestamp(epoch, timezone.utc)
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC"


def _from_now(epoch: int | None) -> str:
    if epoch is None:
        return ""
    delta = round(epoch - datetime.now(timezone.utc).timestamp())
    if not delta:
        return "now"
    return f"in {duration(delta)}" if delta > 0 else f"{duration(delta)} ago"


def _refuse_undecodable_query() -> None:
    # Werkzeug's request.args raises UnicodeDecodeError (a 500) for raw
    # bytes that are not UTF-8; the decorator reads request.args too.
    try:
        request.query_string.decode("utf-8")
    except UnicodeDecodeError:
        abort(400, "The address holds bytes that are not UTF-8 text.")


def _error_page(error: HTTPException) -> Any:
    if error.response is not None:  # the glue's own page (403, 401, ...): keep it
        return error.get_response()
    headers = {}
    if getattr(error, "valid_methods", None):
        headers["Allow"] = ", ".join(error.valid_methods)  # type: ignore[attr-defined]
    right = _right_address() if isinstance(error, SecurityError) else None
    page = render_template("error.html", error=error, right_address=right)
    return page, error.code or 500, headers


_PORT = re.compile(r":(\d{1,5})$")


def _right_address() -> str | None:
    """Where this page is at the address the demo answers to, for someone
    who typed ``localhost`` instead of ``127.0.0.1``: the configured origin
    (else the first trusted host, with the port asked for) and the same
    path; the query is left behind."""
    path = quote(request.script_root + request.path)
    origin = current_app.config.get("RAVEN_ORIGIN")
    if isinstance(origin, (list, tuple)):
        origin = origin[0] if origin else None
    if isinstance(origin, str) and origin:
        return origin.rstrip("/") + path
    trusted = current_app.config.get("TRUSTED_HOSTS") or request.trusted_hosts or []
    hosts = [h for h in trusted if not h.startswith(".")]
    if not hosts:
        return None
    port = _PORT.search(request.environ.get("HTTP_HOST", ""))
    netloc = hosts[0] if ":" not in hosts[0] else f"[{hosts[0]}]"
    if port:
        netloc += port.group(0)
    scheme = request.environ.get("wsgi.url_scheme", "http")
    return f"{scheme}://{netloc}{path}"


def _security_headers(response: WerkzeugResponse) -> WerkzeugResponse:
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Pages may hold a WLS-Response in their address: keep it out of Referer.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    )
    return response
