"""`cmem-ops doctor`, `status` and `logs`."""

from __future__ import annotations

import typer
from rich.console import Console

from ..context import build_context
from ..doctor.report import DoctorReport
from ..doctor.suite import DoctorOptions, run_doctor
from ..errors import UsageError
from ..exit_codes import ExitCode, describe_exit_codes
from ..logs import files_since, follow, tail_lines
from ..probes.base import Group
from ..render.console import print_status_lines
from ..render.doctor import format_report
from . import output
from .quick import status_main

JSON_OPTION = typer.Option(False, "--json", help="Print a versioned JSON envelope instead of text.")

# component -> the dated log files it writes (logs/<stem>-YYYY-MM-DD.log)
LOG_STEMS = {"store": "redis", "server": "server", "worker": "worker", "postgres": "postgres",
             "claude-mem": "claude-mem"}


def parse_only(values: list[str] | None) -> frozenset[Group] | None:
    """--only store,postgres (repeatable, comma-separated) -> groups (raises UsageError on an unknown one)."""
    if not values:
        return None
    groups = set()
    for value in values:
        for name in filter(None, (v.strip() for v in value.split(","))):
            try:
                groups.add(Group(name))
            except ValueError:
                raise UsageError(f"--only {name!r} is not one of store, postgres, server, files",
                                 hint="cmem-ops doctor --only store") from None
    return frozenset(groups)


def doctor_data(report: DoctorReport) -> dict[str, object]:
    """The `data` of doctor's JSON envelope."""
    return {"results": list(report.results), "counts": report.counts, "elapsed_ms": report.elapsed_ms,
            "timeout_s": report.timeout_s, "exit_code": int(report.exit_code)}


def doctor(
    as_json: bool = JSON_OPTION,
    only: list[str] = typer.Option(None, "--only", help="Check only these groups: store, postgres, server, files."),
    timeout: float = typer.Option(15.0, "--timeout", min=0.5, help="Deadline for the whole run, in seconds."),
    no_smoke: bool = typer.Option(False, "--no-smoke", help="Skip the BullMQ smoke job."),
    client: str = typer.Option("auto", "--client", help="BullMQ client for the smoke: auto, node or python."),
) -> None:
    """Check every layer (queue store, Postgres, server HTTP, files) and print the fix for each problem.

    Checks run concurrently under one deadline. Required checks decide the exit code: 0 when none
    failed, 1 otherwise. Warnings never fail the run.
    """
    def action() -> DoctorReport:
        if client not in ("auto", "node", "python"):
            raise UsageError(f"--client {client!r} is not one of auto, node, python", hint="cmem-ops doctor")
        options = DoctorOptions(only=parse_only(only), timeout=timeout, smoke=not no_smoke, client=client)
        return run_doctor(build_context(tolerate_bad_settings=True), options)

    def render(report: DoctorReport, console: Console) -> None:
        print_status_lines(console, format_report(report))

    output.run("doctor", as_json, action, render, lambda r: r.exit_code, doctor_data)


def status(
    as_json: bool = JSON_OPTION,
    timeout: float = typer.Option(1.0, "--timeout", min=0.1, help="Seconds to wait for the queue store."),
) -> None:
    """One screen: Worker / Server / Queue / Store / Persistence / Policy. Fast enough for a shell prompt."""
    raise typer.Exit(status_main(as_json, timeout))


def logs(
    component: str = typer.Argument("store", help="store, server, worker, postgres or claude-mem (the shared log)."),
    lines: int = typer.Option(50, "-n", "--lines", min=0, help="How many lines to show."),
    follow_: bool = typer.Option(False, "-f", "--follow", help="Keep printing new lines (Ctrl-C stops)."),
    since: str | None = typer.Option(None, "--since", help="Only logs from this date on (YYYY-MM-DD)."),
) -> None:
    """Show a component's dated logs (logs/<name>-YYYY-MM-DD.log) across day boundaries."""
    with output.guard():
        if component not in LOG_STEMS:
            raise UsageError(f"no logs for {component!r}; choose one of {', '.join(LOG_STEMS)}",
                             hint="cmem-ops logs store -n 50")
        paths = build_context().paths
        since_day = output.parse_date(since)
    stem = LOG_STEMS[component]
    files = files_since(paths.log_files(stem), since_day)
    if not files and not follow_:
        typer.echo(f"no {component} logs under {paths.logs_dir} yet", err=True)
        raise typer.Exit(int(ExitCode.NOT_RUNNING))
    for line in tail_lines(files, lines):
        typer.echo(line)
    if follow_:
        try:
            for line in follow(lambda: files_since(paths.log_files(stem), since_day)):
                typer.echo(line)
        except KeyboardInterrupt:
            pass


def register(app: typer.Typer) -> None:
    """Add doctor, status and logs to the root command."""
    epilog = describe_exit_codes()
    app.command(epilog=epilog)(doctor)
    app.command(epilog=epilog)(status)
    app.command(epilog=epilog)(logs)
