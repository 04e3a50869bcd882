"""`cmem-ops matrix ...`: the compatibility matrix across Redis 6.2/7/8, Valkey 8/9 and Dragonfly."""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from ..context import build_context
from ..errors import UsageError
from ..exit_codes import ExitCode, describe_exit_codes
from ..matrix.provision import Mode, Provision, provision
from ..matrix.report import write_report
from ..matrix.result import MatrixReport
from ..matrix.run import MatrixOptions, run_matrix
from ..matrix.targets import Target, load_targets, select_targets
from ..matrix.workflow import render_workflow
from ..render.console import render_lines
from ..render.matrix import format_plan, render_report
from . import output

matrix_app = typer.Typer(
    help="Compatibility matrix: run the store probes, the BullMQ smoke and Node<->Python interop against "
         "every supported server (native binaries, else Docker images; a target with neither is skipped).",
    epilog=describe_exit_codes() + " With --strict, a skipped target exits 4.",
    invoke_without_command=True,
)

JSON_OPTION = typer.Option(False, "--json", help="Print a versioned JSON envelope instead of text.")
TARGETS_OPTION = typer.Option(None, "--targets", help="Comma-separated targets (default: all): valkey-9.1,redis-6.2")
NATIVE_OPTION = typer.Option(False, "--native-only", help="Only native server binaries; never Docker.")
DOCKER_OPTION = typer.Option(False, "--docker-only", help="Only Docker images (compose/matrix.yml).")


def _targets(names: str | None) -> tuple[Target, ...]:
    return select_targets(load_targets(), None if names is None else names.split(","))


def _mode(native_only: bool, docker_only: bool) -> Mode:
    if native_only and docker_only:
        raise UsageError("--native-only and --docker-only exclude each other",
                         hint="pass one of them, or neither (native first, then Docker)")
    return Mode.NATIVE if native_only else Mode.DOCKER if docker_only else Mode.AUTO


@matrix_app.callback(invoke_without_command=True)
def matrix(
    ctx: typer.Context,
    targets: str | None = TARGETS_OPTION,
    native_only: bool = NATIVE_OPTION,
    docker_only: bool = DOCKER_OPTION,
    as_json: bool = JSON_OPTION,
    report: Path | None = typer.Option(None, "--report", help="Also write it to PATH (.json: JSON, else markdown)."),
    strict: bool = typer.Option(False, "--strict", help="A skipped target fails the run (exit 4); for CI."),
    no_interop: bool = typer.Option(False, "--no-interop", help="Skip the Node<->Python interop legs."),
    timeout: float = typer.Option(30.0, "--timeout", min=5, help="Seconds for each target's store probes."),
) -> None:
    """Run the matrix (the default), or a subcommand: plan, workflow."""
    if ctx.invoked_subcommand is not None:
        return
    err = output.stderr_console()

    def action() -> MatrixReport:
        chosen = _targets(targets)
        options = MatrixOptions(mode=_mode(native_only, docker_only), strict=strict, probe_timeout=timeout,
                                interop=not no_interop)
        result = run_matrix(chosen, options, dict(os.environ), build_context().runner,
                            lambda msg: err.print(f"matrix: {escape(msg)}", highlight=False, soft_wrap=True))
        if report is not None:
            write_report(result, report)
            err.print(f"matrix: report written to {escape(str(report))}", highlight=False)
        return result

    output.run("matrix", as_json, action, render_report, lambda r: r.exit_code, lambda r: r.to_data())


@matrix_app.command("plan", epilog=describe_exit_codes())
def plan(
    targets: str | None = TARGETS_OPTION,
    native_only: bool = NATIVE_OPTION,
    docker_only: bool = DOCKER_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Show where each target's server would come from (or why it would be skipped); starts nothing."""
    def action() -> list[Provision]:
        ctx = build_context()
        return provision(ctx.paths, ctx.runner, _targets(targets), _mode(native_only, docker_only), dict(os.environ))

    def render(plans: list[Provision], console: Console) -> None:
        render_lines(console, format_plan(plans))

    def data(plans: list[Provision]) -> list[dict[str, object]]:
        return [{"target": p.target.name, "kind": p.kind, "source": p.source, "location": p.location,
                 "reason": p.reason, "hint": p.hint, "pull": p.pull} for p in plans]

    output.run("matrix.plan", as_json, action, render, lambda _: ExitCode.OK, data)


@matrix_app.command("workflow", epilog=describe_exit_codes())
def workflow(
    out: Path | None = typer.Option(None, "--output", "-o", help="Write here (e.g. ci/matrix/github-actions.yml)."),
    check: bool = typer.Option(False, "--check", help="Exit 1 when --output differs from the generated text."),
) -> None:
    """Generate the GitHub Actions workflow (one job per target, the official image as a service)."""
    with output.guard():
        text = render_workflow(load_targets())
        if check and out is None:
            raise UsageError("--check needs --output",
                             hint="cmem-ops matrix workflow --check -o ci/matrix/github-actions.yml")
    if out is None:
        typer.echo(text, nl=False)
        return
    if check:
        current = out.read_text(encoding="utf-8") if out.is_file() else None
        if current != text:
            typer.echo(f"{out} is out of date; regenerate it: cmem-ops matrix workflow -o {out}", err=True)
            raise typer.Exit(int(ExitCode.FAILED))
        typer.echo(f"{out} is up to date", err=True)
        return
    out.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {out}", err=True)
