"""`cmem-ops jobs stuck|recover`: generation jobs left `processing` by a killed worker."""

from __future__ import annotations

import typer
from rich.console import Console

from ..context import build_context
from ..exit_codes import ExitCode, describe_exit_codes
from ..jobs import recover as jobs_service
from ..jobs.recover import RecoveryReport, StuckReport
from ..render.console import render_lines
from ..render.jobs import format_recovery, format_stuck
from . import output

JSON_OPTION = typer.Option(False, "--json", help="Print a versioned JSON envelope instead of text.")
EPILOG = describe_exit_codes()

jobs_app = typer.Typer(help="Generation jobs: find the ones stuck `processing` and recover them.",
                       no_args_is_help=True, epilog=EPILOG)


@jobs_app.command(epilog=EPILOG)
def stuck(
    min_age: float = typer.Option(10.0, "--min-age", min=0, help="Seconds a lock-less job must be processing."),
    as_json: bool = JSON_OPTION,
) -> None:
    """List jobs processing in Postgres and say which are stuck (no live BullMQ lock); exit 1 when any is."""
    def render(report: StuckReport, console: Console) -> None:
        render_lines(console, format_stuck(report))

    output.run("jobs.stuck", as_json, lambda: jobs_service.detect(build_context(), min_age_s=min_age), render,
               lambda r: ExitCode.FAILED if r.stuck else ExitCode.OK,
               lambda r: {"jobs": list(r.jobs), "stuck": len(r.stuck), "commands": jobs_service.format_commands(r)})


@jobs_app.command(epilog=EPILOG)
def recover(
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the commands; change nothing."),
    wait: float = typer.Option(15.0, "--wait", min=0, help="Seconds to wait for the retried jobs to finish."),
    min_age: float = typer.Option(10.0, "--min-age", min=0, help="Seconds a lock-less job must be processing."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Recover stuck jobs: delete the BullMQ lock of a worker proven dead, then cancel and retry each job."""
    def render(report: RecoveryReport, console: Console) -> None:
        render_lines(console, format_recovery(report))

    def code(report: RecoveryReport) -> ExitCode:
        return ExitCode.FAILED if any(not o.ok for o in report.outcomes) else ExitCode.OK

    output.run("jobs.recover", as_json,
               lambda: jobs_service.recover(build_context(), dry_run=dry_run, wait_s=wait, min_age_s=min_age),
               render, code)
