"""`cmem-ops stack up|down|status`: queue store, Postgres, HTTP server and workers, in order."""

from __future__ import annotations

import typer
from rich.console import Console

from ..context import build_context
from ..exit_codes import ExitCode, describe_exit_codes
from ..lifecycle import stack as stack_service
from ..lifecycle.stack import StackDown, StackStatus, StackUp
from ..render.console import print_status_lines, render_lines
from ..render.server import format_checks
from ..render.stack import format_stack_down, format_stack_status, format_stack_up
from . import output

JSON_OPTION = typer.Option(False, "--json", help="Print a versioned JSON envelope instead of text.")
EPILOG = describe_exit_codes()

stack_app = typer.Typer(help="The whole server stack: queue store -> Postgres -> HTTP server -> workers.",
                        no_args_is_help=True, epilog=EPILOG)


@stack_app.command(epilog=EPILOG)
def up(
    workers: int = typer.Option(1, "--workers", min=1, help="Ensure workers 1..N run."),
    timeout: float = typer.Option(stack_service.UP_TIMEOUT_S, "--timeout", min=5, help="Seconds for the whole start."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Validate settings, then start (or check) the queue store, Postgres, the server, the workers.

    Parts already running are kept; external store and database URLs are checked, never started.
    Needs the runtime: cmem-ops server install.
    """
    err = output.stderr_console()

    def action() -> StackUp:
        return stack_service.up(build_context(), workers=workers, timeout=timeout,
                                say=lambda msg: err.print(f"starting {msg}", markup=False, highlight=False))

    def render(result: StackUp, console: Console) -> None:
        print_status_lines(console, format_checks(result.checks))
        render_lines(console, format_stack_up(result))

    output.run("stack.up", as_json, action, render)


@stack_app.command(epilog=EPILOG)
def down(
    timeout: float = typer.Option(30.0, "--timeout", min=1, help="Seconds per part before it is killed."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Stop workers, server, Postgres and the queue store, in that order: only what cmem-ops owns. Data is kept."""
    def render(result: StackDown, console: Console) -> None:
        render_lines(console, format_stack_down(result))

    output.run("stack.down", as_json, lambda: stack_service.down(build_context(), timeout=timeout), render)


@stack_app.command(epilog=EPILOG)
def status(
    timeout: float = typer.Option(2.0, "--timeout", min=0.1, help="Seconds per request to each part."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Every part of the stack, and what is wrong with the fix. Exit 0 only when all of it runs."""
    def render(result: StackStatus, console: Console) -> None:
        render_lines(console, format_stack_status(result))

    def code(result: StackStatus) -> ExitCode:
        return ExitCode.OK if result.healthy else ExitCode.NOT_RUNNING

    output.run("stack.status", as_json, lambda: stack_service.status(build_context(), timeout=timeout), render, code)
