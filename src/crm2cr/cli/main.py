"""The `crm2cr` Typer app: command groups, and the one place errors are rendered."""

from __future__ import annotations

import sys

import typer

from crm2cr import __version__
from crm2cr.cli import connect, demo, emulate
from crm2cr.cli.output import print_error
from crm2cr.errors import Crm2crError

app = typer.Typer(
    name="crm2cr",
    help="Keep Dynamics 365 marketing lists and CleverReach groups in sync.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(emulate.app, name="emulate")
app.add_typer(demo.app, name="demo")
app.add_typer(connect.app, name="connect")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"crm2cr {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """crm2cr: Dynamics 365 ⇄ CleverReach."""


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app, turn crm2cr errors into a message and an exit code."""
    try:
        code = app(args=argv, standalone_mode=False)
    except Crm2crError as error:
        print_error(error)
        sys.exit(error.exit_code)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except typer.Abort:
        sys.exit(1)
    except typer.TyperException as exc:
        # Usage errors (unknown command, bad option value) show their own message; exit 2.
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        sys.exit(int(getattr(exc, "exit_code", 2)))
    except KeyboardInterrupt:
        sys.exit(130)
    if isinstance(code, int) and code:
        sys.exit(code)
