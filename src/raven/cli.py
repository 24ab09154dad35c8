"""The ``raven`` command: development tools for Raven-protected applications.

Each tool is a subcommand of :func:`main`. Errors end the command with one
line on stderr and a non-zero exit status, never a traceback (set
``RAVEN_DEBUG=1`` to see one when something unexpected breaks).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar
from urllib.parse import unquote_plus

import click

import raven._check  # noqa: F401  (first: a clear error if 'raven' is another package)

from . import __version__
from .protocol import MAX_RESPONSE_LENGTH

if TYPE_CHECKING:  # imported where used, so that `raven --help` stays quick
    from _typeshed.wsgi import WSGIApplication

    from .explain import Explanation
    from .keys import LoadedKey
    from .wls.server import LiveServer

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_HOST = "127.0.0.1"
WLS_PORT = 5001


class RavenGroup(click.Group):
    """A command group whose failures are one clear line, not a traceback."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            result = super().main(args, prog_name, complete_var, False, **extra)
        except click.UsageError as exc:
            hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
            _die(f"{exc.format_message()}{hint}", exc.exit_code)
        except click.ClickException as exc:
            _die(exc.format_message(), exc.exit_code)
        except click.Abort:
            _die("aborted", 1)
        except Exception as exc:  # a part not installed, or a bug: say what, briefly
            from ._needs import missing_part, needs

            part = missing_part(exc) if isinstance(exc, ImportError) else None
            if part is not None:
                argv = list(args[0]) if args and args[0] is not None else sys.argv[1:]
                command = next((a for a in argv if not a.startswith("-")), None)
                _die(needs(f"'raven {command}'" if command else "the raven command", part), 1)
            if os.environ.get("RAVEN_DEBUG"):
                raise
            _die(f"unexpected {type(exc).__name__}: {exc} (RAVEN_DEBUG=1 shows the traceback)", 1)
        sys.exit(result if isinstance(result, int) else 0)


def _die(message: str, code: int) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


@click.group(cls=RavenGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="raven")
def main() -> None:
    """Develop and test web applications that log people in with Raven."""


# --- pieces shared by commands that run a server -------------------------------

def server_options(default_port: int) -> Callable[[F], F]:
    """``--host``, ``--port`` and ``--allow-non-loopback`` for a server command."""

    def decorate(f: F) -> F:
        f = click.option(
            "--allow-non-loopback", is_flag=True,
            help="Allow a --host other machines can reach. Do not: this is a test tool.",
        )(f)
        f = click.option(
            "--port", type=click.IntRange(0, 65535), default=default_port,
            show_default=True, help="Port to listen on (0 picks a free one).",
        )(f)
        f = click.option(
            "--host", default=DEFAULT_HOST, show_default=True,
            help="Address to listen on; loopback only unless --allow-non-loopback.",
        )(f)
        return f

    return decorate


def bind_server(
    app: WSGIApplication, host: str, port: int, allow_non_loopback: bool,
    option: str = "--port",
) -> LiveServer:
    """Bind a :class:`raven.wls.server.LiveServer`, or fail with one line
    naming the ``option`` that chooses another port."""
    from .wls.server import LiveServer, NotLoopbackError

    try:
        return LiveServer(app, host, port, allow_non_loopback=allow_non_loopback, quiet=False)
    except NotLoopbackError as exc:
        raise click.ClickException(f"{exc} (or pass --allow-non-loopback)") from None
    except OSError as exc:
        hint = f"; choose another with {option} (0 picks a free one)" if port else ""
        raise click.ClickException(
            f"cannot listen on {host} port {port}: {exc.strerror or exc}{hint}"
        ) from None


TESTING_ONLY = "For development and testing only: never protect anything real with it."


# --- raven wls --------------------------------------------------------------------

@main.command()
@server_options(WLS_PORT)
@click.option(
    "--user", "users", multiple=True, metavar="NAME:PASSWORD[:PTAGS]",
    help="Add a user (repeatable); PTAGS is comma-separated, e.g. alice:pw:current. "
    "End with ':' if the password holds a ':'.",
)
@click.option(
    "--session-lifetime", type=click.IntRange(min=1), default=7200, show_default=True,
    metavar="SECONDS", help="How long a login to the WLS itself lasts.",
)
@click.option(
    "--key", "key_file", type=click.Path(dir_okay=False), metavar="PEM",
    help="Sign with this test private key instead of the published demo key (kid 901).",
)
@click.option("--kid", help="The key id of --key.")
@click.option(
    "--test-users/--no-test-users", default=None,
    help="Whether test0001-test0500 can log in. They can, unless both --key and "
    "--user are given (a WLS of your own).",
)
@click.option(
    "--path", "auth_path", default="/auth/authenticate.html", show_default=True,
    metavar="PATH", help="Where requests go, e.g. /society/authenticate for a second WLS.",
)
@click.option(
    "--logout-path", metavar="PATH",
    help="The logout page [default: next to --path: logout.html, or logout].",
)
@click.option(
    "--allow-host", "allowed_hosts", multiple=True, metavar="NAME",
    help="Also answer requests addressed to this host name (repeatable); only "
    "loopback names are answered otherwise.",
)
def wls(
    host: str, port: int, allow_non_loopback: bool, users: tuple[str, ...],
    session_lifetime: int, key_file: str | None, kid: str | None,
    test_users: bool | None, auth_path: str, logout_path: str | None,
    allowed_hosts: tuple[str, ...],
) -> None:
    """Run the local test web login service, which answers like Raven's demo server.

    Users test0001 to test0500 have password 'test'; test0001 to test0400
    carry ptag 'current' (with both --key and --user, only your own users
    exist unless --test-users). Point an application at it with
    RAVEN_WLS="http://127.0.0.1:5001".
    """
    from .keys import SigningKey
    from .wls import create_app, parse_user_spec
    from .wls.app import allowed_host_name, app_settings, check_path, logout_path_for

    config: dict[str, Any] = {"RAVEN_WLS_SESSION_LIFETIME": session_lifetime}
    try:
        config["RAVEN_WLS_ALLOWED_HOSTS"] = [allowed_host_name(h) for h in allowed_hosts]
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--allow-host") from None
    try:
        config["RAVEN_WLS_USERS"] = [parse_user_spec(spec) for spec in users]
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--user") from None
    if (key_file is None) != (kid is None):
        raise click.UsageError("--key and --kid go together")
    if test_users is None:  # a key and users of its own: nothing built in
        test_users = not (key_file and users)
    if not test_users and not users:
        raise click.UsageError("--no-test-users leaves nobody to log in: add --user")
    config["RAVEN_WLS_TEST_USERS"] = test_users
    if key_file is not None and kid is not None:  # both or neither, checked above
        try:
            with open(key_file, "rb") as fh:
                config["RAVEN_WLS_SIGNING_KEY"] = SigningKey.from_pem(fh.read(), kid)
        except (OSError, ValueError, TypeError) as exc:
            raise click.ClickException(f"cannot use {key_file} as a test key: {exc}") from None
    logout_path = logout_path or logout_path_for(auth_path)
    for option, path in (("--path", auth_path), ("--logout-path", logout_path)):
        try:
            check_path(path)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint=option) from None
    if auth_path == logout_path:
        raise click.UsageError(f"--path and --logout-path are both {auth_path}")
    config["RAVEN_WLS_AUTHENTICATE_PATH"] = auth_path
    config["RAVEN_WLS_LOGOUT_PATH"] = logout_path
    app, provider = with_local_provider(create_app(config))
    server = bind_server(app, host, port, allow_non_loopback)
    auth_url = server.url + auth_path
    click.echo(f"python-raven test WLS. {TESTING_ONLY}")
    click.echo(f"  Listening on   {server.url}/   (Ctrl+C stops it)")
    click.echo(f"  Requests to    {auth_url}")
    click.echo(f"  Logout page    {server.url}{logout_path}")
    settings = app_settings(server.url, auth_path, logout_path)
    click.echo("  Apps use       " + " ".join(f'{k}="{v}"' for k, v in settings.items()))
    if test_users:
        click.echo("  Test users     test0001-test0500, password 'test' "
                   "(test0001-test0400 are 'current')")
    else:
        names = ", ".join(dict.fromkeys(u.name for u in config["RAVEN_WLS_USERS"]))
        click.echo(f"  Users          {names} (test0001-test0500 are off; --test-users adds them)")
    if provider is None:
        click.echo("  Entra ID       not served: pip install 'ucam-raven[entra]' adds the local "
                   "OpenID provider")
    else:
        from .oidc.testprovider import site_settings

        click.echo(f"  Entra ID       {server.url}/{provider}/v2.0/.well-known/"
                   "openid-configuration, the same users")
        click.echo("  Apps use       " + " ".join(
            f'{k}="{v}"' for k, v in site_settings(server.url).items()))
    sys.stdout.flush()
    server.serve_forever()
    click.echo("Stopped.")


def with_local_provider(wls_app: Any) -> tuple[Any, str | None]:
    """The test WLS, and beside it, under the University's tenant id, the
    local OpenID provider (when the entra extra is installed): one server
    for both kinds of login service. The tenant id, or None."""
    try:
        from .oidc import jws
        from .oidc.provider import CAMBRIDGE_TENANT
        from .oidc.testprovider import create_app
    except ImportError:
        return wls_app, None
    if not jws.available():  # without the entra extra: the test WLS alone
        return wls_app, None
    provider_app = create_app({"RAVEN_OIDC_TENANT": CAMBRIDGE_TENANT})
    prefix = "/" + CAMBRIDGE_TENANT

    def both(environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        ours = path == prefix or path.startswith(prefix + "/")
        return (provider_app if ours else wls_app)(environ, start_response)

    return both, CAMBRIDGE_TENANT


# --- raven oidc -------------------------------------------------------------------

OIDC_PORT = 5002


@main.command()
@server_options(OIDC_PORT)
@click.option(
    "--user", "users", multiple=True, metavar="NAME:PASSWORD[:PTAGS]",
    help="Add a user (repeatable), as for raven wls; a NAME with @ is the whole UPN "
    "(e.g. ab123@cantab.ac.uk), and ptag current puts the user in the staff group.",
)
@click.option("--tenant", default=None, metavar="ID",
              help="The tenant id in paths and tokens [default: the University's].")
@click.option("--no-groups", is_flag=True,
              help="Leave the groups claim out, as for a registration without group claims.")
def oidc(host: str, port: int, allow_non_loopback: bool, users: tuple[str, ...],
         tenant: str | None, no_groups: bool) -> None:
    """Run a local OpenID provider shaped like the University's Entra ID tenant.

    The test WLS's users log in with the same form (test0001-test0200 staff,
    test0201-test0400 students, test0401-test0500 alumni). Point a site at it
    with the settings it prints.
    """
    from .oidc.provider import CAMBRIDGE_TENANT
    from .oidc.testprovider import create_app, site_settings
    from .wls import parse_user_spec

    config: dict[str, Any] = {"RAVEN_OIDC_TENANT": tenant or CAMBRIDGE_TENANT,
                              "RAVEN_OIDC_GROUPS_CLAIM": not no_groups}
    try:
        config["RAVEN_WLS_USERS"] = [parse_user_spec(spec) for spec in users]
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--user") from None
    try:
        app = create_app(config)
    except (TypeError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    server = bind_server(app, host, port, allow_non_loopback)
    tenant_id = config["RAVEN_OIDC_TENANT"]
    click.echo(f"python-raven test OpenID provider. {TESTING_ONLY}")
    click.echo(f"  Listening on   {server.url}/   (Ctrl+C stops it)")
    click.echo(f"  Discovery      {server.url}/{tenant_id}/v2.0/.well-known/openid-configuration")
    settings = site_settings(server.url, tenant_id)
    click.echo("  Apps use       " + " ".join(f'{k}="{v}"' for k, v in settings.items()))
    click.echo("  Test users     test0001-test0500, password 'test' (0001-0200 staff, "
               "0201-0400 students: 'current'; 0401-0500 alumni)")
    if no_groups:
        click.echo("  Tokens carry no groups claim (--no-groups)")
    sys.stdout.flush()
    server.serve_forever()
    click.echo("Stopped.")


# --- raven demo -------------------------------------------------------------------

DEMO_PORT = 5000


@main.command()
@server_options(DEMO_PORT)
@click.option(
    "--wls-port", type=click.IntRange(0, 65535), default=WLS_PORT, show_default=True,
    help="Port for the local test WLS (0 picks a free one).",
)
@click.option("--entra", is_flag=True,
              help="Log in to the protected page through the local OpenID provider "
              "(Entra ID's shape) instead of the test WLS; needs the entra extra.")
def demo(host: str, port: int, allow_non_loopback: bool, wls_port: int, entra: bool) -> None:
    """Run the demo application and the local test WLS, wired to each other.

    Open the address it prints and log in as test0001, password 'test'.
    No network is needed. Logins last until the demo stops, unless
    RAVEN_DEMO_SECRET_KEY is set in the environment.
    """
    from .demo import create_app as create_demo
    from .wls import create_app as create_wls

    if port == wls_port and port != 0:
        raise click.UsageError("--port and --wls-port must differ")
    running = None if entra or not wls_port else _running_test_wls(host, wls_port)
    wls_server = None
    if running is None:
        wls_app, provider = with_local_provider(create_wls())
        if entra and provider is None:
            raise click.ClickException("--entra needs the local OpenID provider: "
                                       "pip install 'ucam-raven[entra]'")
        wls_server = bind_server(wls_app, host, wls_port, allow_non_loopback, "--wls-port")
        wls_url = wls_server.url
    else:
        wls_url = running
    try:
        apps: list[Any] = []  # the app needs its own origin, known once bound
        demo_server = bind_server(
            lambda environ, start: apps[0](environ, start), host, port, allow_non_loopback
        )
        config: dict[str, Any] = {
            "RAVEN_WLS": wls_url, "TRUSTED_HOSTS": [host],
            "RAVEN_ORIGIN": demo_server.url,
        }
        if entra:
            from .oidc.testprovider import site_settings

            config.update(site_settings(wls_url), RAVEN_DEMO_WLS=wls_url)
        if os.environ.get("RAVEN_DEMO_SECRET_KEY"):
            config["SECRET_KEY"] = os.environ["RAVEN_DEMO_SECRET_KEY"]
        apps.append(create_demo(config))
    except BaseException:
        if wls_server is not None:
            wls_server.stop()
        raise
    click.echo(f"python-raven demo. {TESTING_ONLY}")
    stops = "both servers" if wls_server is not None else "the demo"
    click.echo(f"  Open           {demo_server.url}/   (Ctrl+C stops {stops})")
    if wls_server is not None:
        click.echo(f"  Test WLS       {wls_url}/")
    else:
        click.echo(f"  Test WLS       {wls_url}/   (already running: used as it is, "
                   "and left running)")
    click.echo("  Test users     test0001-test0500, password 'test' "
               "(test0001-test0400 are 'current')")
    if entra:
        click.echo("  Entra ID       the protected page logs in through the local OpenID "
                   "provider beside the test WLS")
    click.echo(f"  Use {host} in the address, not another name for it (such as localhost): "
               "the demo answers to that name only")
    sys.stdout.flush()
    if wls_server is not None:
        wls_server.start()
    try:
        demo_server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        demo_server.stop()
        if wls_server is not None:
            wls_server.stop()
    click.echo("Stopped.")


def _running_test_wls(host: str, port: int) -> str | None:
    """The base URL of a test WLS already serving at ``host:port`` (say a
    ``raven wls`` in another terminal) that the demo can use: one that logs
    test0001 in and signs with the demo key. None if nothing like it is there."""
    import http.client
    from urllib.parse import parse_qs, urlencode, urlsplit

    from .checks import validate_response
    from .demoserver import Response as DemoResponse
    from .errors import ResponseError
    from .origin import is_loopback_host
    from .services import AUTHENTICATE_PATH

    if not is_loopback_host(host):
        return None  # only ever probe this machine
    netloc = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    back = f"http://{netloc}/probe"  # never visited: the answer is only read
    query = urlencode({"ver": "3", "url": back})
    connection = http.client.HTTPConnection(host, port, timeout=2)
    try:  # the login form first: its anti-forgery token and cookie
        connection.request("GET", f"{AUTHENTICATE_PATH}?{query}")
        page = connection.getresponse()
        # Every cookie the page set (the form's own among them), as a browser sends them.
        cookie = "; ".join(c.split(";", 1)[0] for c in page.msg.get_all("Set-Cookie") or [])
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.read(65536).decode(
            "utf-8", "replace"))
        if token is None or not cookie:
            return None
        form = urlencode({"ver": "3", "url": back, "userid": "test0001", "pwd": "test",
                          "csrf_token": token.group(1)})
        connection.request("POST", AUTHENTICATE_PATH, form,
                           {"Content-Type": "application/x-www-form-urlencoded",
                            "Cookie": cookie})
        answer = connection.getresponse()
        location = answer.getheader("Location") or ""
        answer.read()
    except (OSError, http.client.HTTPException):
        return None  # nothing listening, or not speaking HTTP
    finally:
        connection.close()
    values = parse_qs(urlsplit(location).query).get("WLS-Response", [])
    if answer.status != 303 or len(values) != 1:
        return None
    try:
        r = validate_response(values[0], back, response_class=DemoResponse)
    except ResponseError:
        return None
    if not (r.success and r.principal == "test0001" and "current" in r.ptags):
        return None
    return f"http://{netloc}"


# --- raven request ------------------------------------------------------------------

def _wls_option_choice(demo: bool, wls_url: str | None) -> str:
    """The authentication URL a request goes to."""
    from .protocol import RAVEN_AUTH, RAVEN_DEMO_AUTH
    from .services import auth_url_for

    if demo and wls_url is not None:
        raise click.UsageError("--demo and --wls-url are alternatives: give one")
    if wls_url is not None:
        try:
            return auth_url_for(wls_url)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--wls-url") from None
    return RAVEN_DEMO_AUTH if demo else RAVEN_AUTH


@main.command("request")
@click.argument("url")
@click.option("--desc", help="What the site is, shown by the WLS.")
@click.option("--msg", help="Why a login is needed now, shown by the WLS.")
@click.option("--params", help="Data the WLS returns unchanged in its response.")
@click.option("--aauth", metavar="TYPES", help="Acceptable authentication types, e.g. pwd.")
@click.option("--iact", type=click.Choice(["yes", "no"]),
              help="yes: the user must type a password now; no: must not be asked.")
@click.option("--fail", is_flag=True, help="Ask the WLS to show errors itself.")
@click.option("--ver", type=click.Choice(["1", "2", "3"]), default="3", show_default=True,
              help="Protocol version to ask for.")
@click.option("--demo", is_flag=True, help="Send it to Raven's demo server.")
@click.option("--wls-url", metavar="URL",
              help="Send it to any WLS: its authentication URL, or its root such as "
                   "http://127.0.0.1:5001 (the local test WLS).")
def request_command(
    url: str, desc: str | None, msg: str | None, params: str | None, aauth: str | None,
    iact: str | None, fail: bool, ver: str, demo: bool, wls_url: str | None,
) -> None:
    """Print the authentication request URL for a response to come back to URL.

    It goes to live Raven unless --demo or --wls-url says otherwise. Send a
    browser there; the WLS answers at URL with WLS-Response appended, which
    'raven decode' explains.
    """
    from .errors import RequestError
    from .request import Request

    auth_url = _wls_option_choice(demo, wls_url)
    try:
        built = Request(
            url, wls_url=auth_url, desc=desc, aauth=aauth,
            iact=None if iact is None else iact == "yes", msg=msg, params=params,
            fail=fail or None, ver=int(ver),
        )
    except RequestError as exc:
        hint = f"--{exc.field}" if exc.field and exc.field != "url" else "URL"
        raise click.BadParameter(str(exc), param_hint=hint) from None
    click.echo(str(built))


# --- reading a response -------------------------------------------------------------

#: What ``-`` reads at most: a whole response and a line ending. More is
#: refused unread, never taken into memory.
STDIN_LIMIT = MAX_RESPONSE_LENGTH + 2
_RAW_RESPONSE_START = ("1!", "2!", "3!")
#: In a raw response '%' only ever starts '%21' (for '!') or '%25' (for '%').
_NOT_RAW_ESCAPE = re.compile(r"%(?!2[15])")


def _read_response_text(string: str, what: str) -> str:
    """``string``, or standard input if it is ``-``, within the size of a
    real response."""
    if string == "-":
        with click.open_file("-", "rb") as stdin:
            data = stdin.read(STDIN_LIMIT + 1)
        if len(data) > STDIN_LIMIT:
            raise click.BadParameter(
                f"standard input holds more than {STDIN_LIMIT} bytes; a WLS-Response is at "
                f"most {MAX_RESPONSE_LENGTH} characters", param_hint=what)
        try:
            string = data.decode("utf-8")
        except UnicodeDecodeError:
            raise click.BadParameter("standard input is not UTF-8 text",
                                     param_hint=what) from None
    text = string.strip()
    if len(text) > MAX_RESPONSE_LENGTH:
        raise click.BadParameter(
            f"{len(text)} characters; a WLS-Response is at most {MAX_RESPONSE_LENGTH}",
            param_hint=what)
    return text


def _could_be_raw(text: str) -> bool:
    return text.startswith(_RAW_RESPONSE_START) and not _NOT_RAW_ESCAPE.search(text)


def _find_response(string: str, what: str) -> tuple[str, str | None, str | None]:
    """The response in ``string`` (see :func:`_read_response_text`), the URL
    it arrived at if known, and a note if it had to be percent-decoded."""
    from .explain import extract

    text = _read_response_text(string, what)
    try:
        found, arrived_at = extract(text)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=what) from None
    if not found:
        raise click.BadParameter("no response given", param_hint=what)
    if found == text and not _could_be_raw(found):
        decoded = unquote_plus(found)
        if _could_be_raw(decoded):
            return decoded, arrived_at, (
                "The value was still percent-encoded, as copied from an address bar; "
                "it was decoded once.")
    return found, arrived_at, None


# --- raven decode -------------------------------------------------------------------

@main.command()
@click.argument("string")
@click.option("--demo", is_flag=True,
              help="Trust the demo key (kid 901): for Raven's demo server or a test WLS.")
@click.option("--key", "key_path", type=click.Path(), metavar="PATH",
              help="Trust this key file (PEM public key or certificate), or the key files "
              "of a directory (pubkeyN, pubkeyN.pem, pubkeyN.crt).")
@click.option("--kid", help="The key id of --key, if its name is not pubkeyN.")
@click.option("--url", help="The URL the request was sent from; the response must be for it.")
@click.option("--params", help="The params the request sent; the response must carry them.")
@click.option("--iact", type=click.Choice(["yes", "no"]), help="The iact the application needs.")
@click.option("--aauth", metavar="TYPES", help="Authentication types the application accepts.")
@click.option("--max-age", type=click.FloatRange(min=0), default=20, show_default=True,
              metavar="SECONDS", help="How old the response may be (plus 5 s of clock skew).")
def decode(
    string: str, demo: bool, key_path: str | None, kid: str | None, url: str | None,
    params: str | None, iact: str | None, aauth: str | None, max_age: float,
) -> int:
    """Parse, verify and explain a WLS-Response: every field, every check.

    STRING is the response, or the URL (or query string) it arrived on, as
    copied from an address bar or a log; a response still percent-encoded
    is decoded once. '-' reads it from standard input. Quote it: it
    contains '!'. Live Raven's key (kid 2) is trusted unless --demo or --key
    says otherwise.

    Exit status 0 only if the response is valid (a valid response may still
    say the login failed, e.g. a cancel).
    """
    from .explain import explain
    from .keys import DEMO_KEYS, LIVE_KEYS

    if demo and key_path is not None:
        raise click.UsageError("--demo and --key are alternatives: give one")
    if key_path is not None:
        keys = {k.kid: k.key for k in _key_files(key_path, kid, "--key")}
        source = f"the key(s) of {key_path}"
    elif kid is not None:
        raise click.UsageError("--kid goes with --key")
    else:
        keys = DEMO_KEYS if demo else LIVE_KEYS
        source = "Raven's demo key (kid 901)" if demo else "live Raven's key (kid 2)"
    text, arrived_at, note = _find_response(string, "STRING")
    result = explain(
        text, keys=keys, url=url if url is not None else arrived_at,
        iact=None if iact is None else iact == "yes",
        aauth=None if aauth is None else [a for a in aauth.replace(" ", ",").split(",") if a],
        params=params, max_age=max_age,
    )
    if note:
        click.echo(note)
    _print_explanation(result, source)
    return 0 if result.valid else 1


def _key_files(path: str, kid: str | None, option: str) -> list[LoadedKey]:
    """The keys of a directory or file, as :func:`raven.keys.describe_keys`
    lists them, or a one-line failure."""
    from .errors import KeyLoadError
    from .keys import describe_keys, kid_from_filename, load_key_file

    try:
        if os.path.isdir(path):
            if kid is not None:
                raise click.UsageError("--kid is for a key file; a directory names its own")
            return describe_keys(path)
        if kid is None and kid_from_filename(path) is None and os.path.isfile(path):
            raise click.UsageError(
                f"{option} {path}: give --kid, the key's number, or name the file pubkeyN "
                "(or pubkeyN.pem, pubkeyN.crt)")
        return [load_key_file(path, kid)]
    except KeyLoadError as exc:
        raise click.ClickException(str(exc)) from None


# --- raven keys ---------------------------------------------------------------------

@main.command("keys")
@click.argument("path", required=False)
@click.option("--kid", help="The key id of a key file whose name is not pubkeyN.")
@click.option("--live", is_flag=True, help="Show live Raven's key (kid 2), shipped with this "
              "package.")
@click.option("--demo", is_flag=True, help="Show the demo key (kid 901), shipped with this "
              "package.")
@click.option("--check", "response", metavar="RESPONSE",
              help="Say whether this WLS-Response's signature verifies with these keys, and "
              "with which kid; '-' reads it from standard input.")
def keys_command(
    path: str | None, kid: str | None, live: bool, demo: bool, response: str | None,
) -> int:
    """List the keys of PATH: kid, size, exponent, fingerprint and file.

    PATH is a key directory, as mod_ucam_webauth's AAKeyDir (files pubkeyN
    or pubkeyN.pem holding a PEM public key, pubkeyN.crt a PEM
    certificate), or one such file. Each key is checked as an application
    loading it would check it. With --check, also say whether RESPONSE is
    signed by one of them: exit status 0 only if its signature verifies.
    Use it to confirm a new key before a rollover.
    """
    if live + demo + (path is not None) != 1:
        raise click.UsageError("give one of PATH, --live or --demo")
    if kid is not None and path is None:
        raise click.UsageError("--kid goes with a key file PATH")
    listed = _key_files(path, kid, "PATH") if path is not None else _shipped_keys(live)
    # Read the response before printing anything, so a bad one is one line.
    found = None if response is None else _find_response(response, "--check")
    _print_keys(listed)
    if found is None:
        return 0
    text, _, note = found
    click.echo("")
    if note:
        click.echo(note)
    verified, verdict = _check_signature(text, listed)
    click.echo(verdict)
    return 0 if verified else 1


def _shipped_keys(live: bool) -> list[LoadedKey]:
    from .keys import DEMO_KEYS, DEMO_KID, LIVE_KEYS, LIVE_KID, LoadedKey

    if live:
        return [LoadedKey(LIVE_KID, LIVE_KEYS[LIVE_KID], "shipped: live Raven", "public key")]
    return [LoadedKey(DEMO_KID, DEMO_KEYS[DEMO_KID], "shipped: the demo key", "public key")]


def _print_keys(listed: list[LoadedKey]) -> None:
    from .explain import visible
    from .keys import DEMO_KEYS, DEMO_KID

    rows = [("KID", "BITS", "EXPONENT", "FINGERPRINT (SHA-256)", "FILE")]
    rows += [(k.kid, str(k.bits), str(k.exponent), k.fingerprint,
              visible(k.source) + (" (certificate)" if k.form == "certificate" else ""))
             for k in listed]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row[:4], widths, strict=True)]
        click.echo("  ".join([*cells, row[4]]))
    demo = DEMO_KEYS[DEMO_KID].public_numbers()
    for k in listed:
        if k.key.public_numbers() == demo:
            click.echo(f"Note: kid {k.kid} is the published demo key. Anything it signs proves "
                       "nothing: only test setups may trust it.")


def _check_signature(text: str, listed: list[LoadedKey]) -> tuple[bool, str]:
    """Whether ``text`` is signed by one of ``listed``, and a sentence saying so."""
    from .errors import MalformedResponseError, ResponseError, SignatureError, UnknownKeyError
    from .explain import visible
    from .response import Response

    by_kid = {k.kid: k for k in listed}
    kid = text.rsplit("!", 2)[-2] if text.count("!") >= 2 else ""
    try:
        parsed = Response(text, keys={k.kid: k.key for k in listed})
    except UnknownKeyError:
        return False, (f"Does not verify: the response is signed with kid {visible(kid, 20)}, "
                       f"which is not among these keys (kids {', '.join(by_kid)}).")
    except SignatureError:
        return False, (f"Does not verify: the signature does not match the key of kid {kid} "
                       f"({by_kid[kid].fingerprint[:16]}...). Either that key is not the one "
                       "that signed it, or the response was altered.")
    except MalformedResponseError as exc:
        if exc.signature_verified:
            return True, (f"Verifies with kid {kid} ({visible(by_kid[kid].source)}), though "
                          f"the response breaks a field rule: {visible(str(exc), 300)}")
        return False, f"Cannot check: {visible(str(exc), 300)}"
    except ResponseError as exc:
        return False, f"Cannot check: {visible(str(exc), 300)}"
    if not parsed.signed:
        return False, (f"Cannot check: the response is not signed (status {int(parsed.status)}), "
                       "so it says nothing about keys.")
    entry = by_kid[parsed.kid or ""]
    return True, (f"Verifies with kid {entry.kid} ({visible(entry.source)}, "
                  f"fingerprint {entry.fingerprint[:16]}...).")


def _print_explanation(result: Explanation, source: str) -> None:
    width = min(24, max((len(f.raw) for f in result.fields), default=0))
    click.echo(f"Checked against {source}.")
    click.echo("")
    click.echo("Fields")
    for f in result.fields:
        click.echo(f"  {f.name:<10} {f.raw or '(empty)':<{width}}  {f.meaning}".rstrip())
    click.echo("")
    click.echo("Checks")
    for c in result.checks:
        state = "FAILED" if c.state == "failed" else c.state
        click.echo(f"  {state:<12} {c.name:<11} {c.title}: {c.detail}")
    for note in result.notes:
        click.echo("")
        click.echo(note)
    click.echo("")
    click.echo(result.verdict)
