"""The ``raven`` command: development tools for Raven-protected applications.

Each tool is a subcommand of :func:`main`. Errors end the command with one
line on stderr and a non-zero exit status, never a traceback (set
``RAVEN_DEBUG=1`` to see one when something unexpected breaks).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from . import __version__

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_HOST = "127.0.0.1"
WLS_PORT = 5001


class RavenGroup(click.Group):
    """A command group whose failures are one clear line, not a traceback."""

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            result = super().main(*args, standalone_mode=False, **kwargs)
        except click.UsageError as exc:
            hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
            _die(f"{exc.format_message()}{hint}", exc.exit_code)
        except click.ClickException as exc:
            _die(exc.format_message(), exc.exit_code)
        except click.Abort:
            _die("aborted", 1)
        except Exception as exc:  # a bug: say what, briefly
            if os.environ.get("RAVEN_DEBUG"):
                raise
            _die(f"unexpected {type(exc).__name__}: {exc} (RAVEN_DEBUG=1 shows the traceback)", 1)
        sys.exit(result if isinstance(result, int) else 0)


def _die(message: str, code: int) -> None:
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


def bind_server(app: Any, host: str, port: int, allow_non_loopback: bool) -> Any:
    """Bind a :class:`raven.wls.server.LiveServer`, or fail with one line."""
    from .wls.server import LiveServer, NotLoopbackError

    try:
        return LiveServer(app, host, port, allow_non_loopback=allow_non_loopback, quiet=False)
    except NotLoopbackError as exc:
        raise click.ClickException(f"{exc} (or pass --allow-non-loopback)") from None
    except OSError as exc:
        raise click.ClickException(
            f"cannot listen on {host} port {port}: {exc.strerror or exc}"
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
def wls(
    host: str, port: int, allow_non_loopback: bool, users: tuple[str, ...],
    session_lifetime: int, key_file: str | None, kid: str | None,
) -> None:
    """Run the local test web login service, which answers like Raven's demo server.

    Users test0001 to test0500 have password 'test'; test0001 to test0400
    carry ptag 'current'. Point an application at it with
    RAVEN_WLS="http://127.0.0.1:5001".
    """
    from .keys import SigningKey
    from .wls import AUTHENTICATE_PATH, create_app, parse_user_spec

    config: dict[str, Any] = {"RAVEN_WLS_SESSION_LIFETIME": session_lifetime}
    try:
        config["RAVEN_WLS_USERS"] = [parse_user_spec(spec) for spec in users]
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--user") from None
    if (key_file is None) != (kid is None):
        raise click.UsageError("--key and --kid go together")
    if key_file is not None:
        try:
            with open(key_file, "rb") as fh:
                config["RAVEN_WLS_SIGNING_KEY"] = SigningKey.from_pem(fh.read(), kid)
        except (OSError, ValueError, TypeError) as exc:
            raise click.ClickException(f"cannot use {key_file} as a test key: {exc}") from None
    server = bind_server(create_app(config), host, port, allow_non_loopback)
    click.echo(f"python-raven test WLS. {TESTING_ONLY}")
    click.echo(f"  Listening on   {server.url}/   (Ctrl+C stops it)")
    click.echo(f"  Requests to    {server.url}{AUTHENTICATE_PATH}")
    click.echo(f"  Apps use       RAVEN_WLS=\"{server.url}\"")
    click.echo("  Test users     test0001-test0500, password 'test' "
               "(test0001-test0400 are 'current')")
    sys.stdout.flush()
    server.serve_forever()
    click.echo("Stopped.")
