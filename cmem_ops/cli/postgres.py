"""`cmem-ops postgres ...`: the managed Postgres cluster claude-mem stores its data in."""

from __future__ import annotations

import typer
from rich.console import Console

from ..context import build_context
from ..exit_codes import ExitCode, describe_exit_codes
from ..lifecycle import postgres as pg_service
from ..lifecycle.postgres import PgStatus
from ..render.postgres import format_pg_status, render_lines
from . import output

postgres_app = typer.Typer(
    help="Postgres for claude-mem: a private cluster on a loopback port managed by cmem-ops, or your own URL.",
    no_args_is_help=True, epilog=describe_exit_codes())

JSON_OPTION = typer.Option(False, "--json", help="Print a versioned JSON envelope instead of text.")


def _status_code(status: PgStatus) -> ExitCode:
    if not status.running:
        return ExitCode.NOT_RUNNING
    return ExitCode.FAILED if status.problem else ExitCode.OK


def _render(status: PgStatus, console: Console) -> None:
    render_lines(console, format_pg_status(status))


@postgres_app.command(epilog=describe_exit_codes())
def start(
    as_json: bool = JSON_OPTION,
    timeout: float = typer.Option(60.0, "--timeout", min=1, help="Seconds to wait for initdb and the server."),
) -> None:
    """Start the managed cluster (the first start runs initdb and creates database claude_mem); a no-op when up."""
    output.run("postgres.start", as_json, lambda: pg_service.start(build_context(), timeout=timeout), _render,
               _status_code)


@postgres_app.command(epilog=describe_exit_codes())
def stop(
    as_json: bool = JSON_OPTION,
    timeout: float = typer.Option(30.0, "--timeout", min=1, help="Seconds to wait for a fast shutdown."),
) -> None:
    """Stop the managed cluster (fast shutdown) when it is provably ours; data is kept. External URLs are untouched."""
    def code(status: PgStatus) -> ExitCode:
        return ExitCode.FAILED if status.mode == "managed" and status.running else ExitCode.OK

    output.run("postgres.stop", as_json, lambda: pg_service.stop(build_context(), timeout=timeout), _render, code)


@postgres_app.command(epilog=describe_exit_codes())
def status(as_json: bool = JSON_OPTION) -> None:
    """Mode, running, redacted URL, port, pid, version and data dir of claude-mem's Postgres."""
    output.run("postgres.status", as_json, lambda: pg_service.status(build_context()), _render, _status_code)
