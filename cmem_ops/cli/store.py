"""`cmem-ops store ...`: the managed queue store."""

from __future__ import annotations

import typer
from rich.console import Console

from ..context import build_context
from ..exit_codes import ExitCode, describe_exit_codes
from ..lifecycle import store as store_service
from ..lifecycle.store import StoreStatus
from ..render.console import render_lines
from ..render.store import format_binaries, format_start, format_stop, format_store_status
from ..store.binaries import ServerBinary, discover, rank
from ..store.process import StartResult, StopResult
from . import output
from .logs import logs

store_app = typer.Typer(help="The queue store: a private Valkey managed by cmem-ops, or your own URL.",
                        no_args_is_help=True, epilog=describe_exit_codes())

JSON_OPTION = typer.Option(False, "--json", help="Print a versioned JSON envelope instead of text.")


def _status_code(status: StoreStatus) -> ExitCode:
    if not status.running:
        return ExitCode.NOT_RUNNING
    return ExitCode.FAILED if status.problem else ExitCode.OK


@store_app.command()
def start(
    as_json: bool = JSON_OPTION,
    binary: str | None = typer.Option(None, "--binary", help="Run this server binary instead of the best found."),
    new_port: bool = typer.Option(False, "--new-port", help="Choose (and persist) a new private port."),
    timeout: float = typer.Option(15.0, "--timeout", min=1, help="Seconds to wait for PONG."),
) -> None:
    """Start the managed store (a no-op when ours already runs)."""
    def render(result: StartResult, console: Console) -> None:
        render_lines(console, [format_start(result)])

    output.run("store.start", as_json,
               lambda: store_service.start(build_context(), binary=binary, new_port=new_port, timeout=timeout), render)


@store_app.command()
def stop(
    as_json: bool = JSON_OPTION,
    timeout: float = typer.Option(15.0, "--timeout", min=1, help="Seconds before SIGTERM, then SIGKILL."),
) -> None:
    """Stop the managed store: SHUTDOWN (AOF flushed), then SIGTERM, SIGKILL last. Data is kept."""
    def render(result: StopResult, console: Console) -> None:
        render_lines(console, [format_stop(result)])

    output.run("store.stop", as_json,  # a broken settings.json must not block stopping what is proven ours
               lambda: store_service.stop(build_context(tolerate_bad_settings=True), timeout=timeout), render)


@store_app.command()
def restart(
    as_json: bool = JSON_OPTION,
    timeout: float = typer.Option(15.0, "--timeout", min=1, help="Seconds for each of stop and start."),
) -> None:
    """Validate what a start needs, then stop and start the managed store on the same port."""
    def action() -> StartResult:
        return store_service.restart(build_context(), timeout=timeout)

    def render(result: StartResult, console: Console) -> None:
        render_lines(console, [format_start(result)])

    output.run("store.restart", as_json, action, render)


@store_app.command()
def status(as_json: bool = JSON_OPTION,
           timeout: float = typer.Option(2.0, "--timeout", min=0.1, help="Seconds to wait for the store.")) -> None:
    """Mode, flavour and version, address, persistence, eviction policy, pid, uptime, data dir."""
    def render(result: StoreStatus, console: Console) -> None:
        render_lines(console, format_store_status(result))

    output.run("store.status", as_json, lambda: store_service.status(build_context(), timeout=timeout), render,
               _status_code)


@store_app.command()
def binaries(as_json: bool = JSON_OPTION) -> None:
    """List every Valkey/Redis server binary found, where it came from, and which one the store runs (*)."""
    def render(found: list[ServerBinary], console: Console) -> None:
        best = rank(found)
        render_lines(console, format_binaries(found, best[0] if best else None))

    def code(found: list[ServerBinary]) -> ExitCode:
        return ExitCode.OK if rank(found) else ExitCode.MISSING

    def action() -> list[ServerBinary]:
        ctx = build_context()
        return discover(ctx.paths, ctx.runner)

    output.run("store.binaries", as_json, action, render, code)


@store_app.command("logs")
def store_logs(
    lines: int = typer.Option(50, "-n", "--lines", min=0, help="How many lines to show."),
    follow_: bool = typer.Option(False, "-f", "--follow", help="Keep printing new lines."),
    since: str | None = typer.Option(None, "--since", help="Only logs from this date on (YYYY-MM-DD)."),
) -> None:
    """The queue store's logs: the same as `cmem-ops logs store`."""
    logs("store", lines, follow_, since)
