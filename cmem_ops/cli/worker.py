"""`cmem-ops worker start|stop|status`: claude-mem's generation workers."""

from __future__ import annotations

import typer
from rich.console import Console

from ..context import build_context
from ..exit_codes import ExitCode, describe_exit_codes
from ..lifecycle import worker as worker_service
from ..lifecycle.worker import WorkerReport
from ..render.console import print_status_lines, render_lines
from ..render.server import format_checks, format_worker_report
from . import output

JSON_OPTION = typer.Option(False, "--json", help="Print a versioned JSON envelope instead of text.")
EPILOG = describe_exit_codes()

worker_app = typer.Typer(help="claude-mem's generation workers: consume the BullMQ queues, call the LLM provider.",
                         no_args_is_help=True, epilog=EPILOG)


@worker_app.command(epilog=EPILOG)
def start(
    count: int = typer.Option(1, "--count", min=1, help="Run workers 1..N (the others are stopped)."),
    foreground: bool = typer.Option(False, "--foreground",
                                    help="Run one worker in this process (exec), for systemd Type=simple."),
    index: int = typer.Option(1, "--index", min=1, help="With --foreground: which worker this is (worker-N)."),
    timeout: float = typer.Option(worker_service.START_TIMEOUT_S, "--timeout", min=1,
                                  help="Seconds to wait for every worker to report running."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Start workers with the server's pinned queue prefix; a no-op for those already running."""
    def render(report: WorkerReport, console: Console) -> None:
        print_status_lines(console, format_checks(report.checks))
        render_lines(console, format_worker_report(report))

    output.run("worker.start", as_json,
               lambda: worker_service.start(build_context(), count=count, timeout=timeout, scale_down=not foreground,
                                            foreground=foreground, index=index), render)


@worker_app.command(epilog=EPILOG)
def stop(
    count: int | None = typer.Option(None, "--count", min=0, help="Keep workers 1..N; stop the rest (default: all)."),
    timeout: float = typer.Option(worker_service.STOP_TIMEOUT_S, "--timeout", min=1,
                                  help="Seconds for an active job to finish before SIGKILL."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Stop our workers (SIGTERM lets an active job finish); the HTTP server keeps running and stays tracked."""
    def render(report: WorkerReport, console: Console) -> None:
        render_lines(console, format_worker_report(report, empty="No worker of ours was running."))

    output.run("worker.stop", as_json,
               lambda: worker_service.stop(build_context(), timeout=timeout, count=count), render)


@worker_app.command(epilog=EPILOG)
def status(
    count: int | None = typer.Option(None, "--count", min=1, help="Exit 7 unless at least N workers run."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Every worker cmem-ops started: running and ours, or not."""
    def render(report: WorkerReport, console: Console) -> None:
        render_lines(console, format_worker_report(report))

    def code(report: WorkerReport) -> ExitCode:
        wanted = count or 1
        return ExitCode.OK if report.running >= wanted else ExitCode.NOT_RUNNING

    output.run("worker.status", as_json, lambda: worker_service.status(build_context()), render, code)
