"""`cmem-ops e2e`: bring up the real stack in a private data dir and run the restart and revoke-key checks."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from ..exit_codes import ExitCode, describe_exit_codes
from ..render.console import render_lines
from . import output

if TYPE_CHECKING:  # the e2e machinery (http.server, psycopg, the steps) loads only when `e2e` runs
    from ..e2e.script import E2eReport, StepResult


def e2e(
    runtime_from: Path | None = typer.Option(None, "--runtime-from", metavar="DATA_DIR",
                                             help="Reuse the claude-mem runtime installed in this data dir "
                                                  "(default: $CMEM_OPS_TEST_RUNTIME_DIR, then yours; else install)."),
    keep: bool = typer.Option(False, "--keep", help="Keep the private data dir afterwards (kept anyway on failure)."),
    as_json: bool = typer.Option(False, "--json", help="Print a versioned JSON envelope at the end."),
) -> None:
    """End to end against the real stack: stack up from nothing, keys, events across worker stop, server restart
    and a queue-store SIGKILL (each completed exactly once), key revocation, a killed worker's stuck job
    recovered, stack down. The worker's LLM is a loopback test double (no internet). PASS/FAIL per step;
    exit 1 on any FAIL. Everything it starts is stopped at the end."""
    from ..e2e.script import run_e2e
    from ..render.e2e import format_step, format_verdict

    err = output.stderr_console()
    out = output.stdout_console()

    def say(message: str) -> None:
        err.print(message, markup=False, highlight=False)

    def report_step(result: StepResult) -> None:
        if not as_json:
            render_lines(out, [format_step(result)])

    def render(report: E2eReport, console: Console) -> None:
        render_lines(console, format_verdict(report))

    output.run("e2e", as_json, lambda: run_e2e(runtime_from=runtime_from, keep=keep, say=say,
                                                report_step=report_step),
               render, lambda r: ExitCode.OK if r.ok else ExitCode.FAILED)


def register(app: typer.Typer) -> None:
    """Add `e2e` to the root command."""
    app.command("e2e", epilog=describe_exit_codes())(e2e)
