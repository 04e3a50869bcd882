"""The `cmem-ops` command tree."""

from __future__ import annotations

import typer
from rich.console import Console

from .. import __version__
from ..context import build_context
from ..doctor.suite import DoctorOptions
from ..exit_codes import ExitCode, describe_exit_codes
from ..lifecycle import up as up_service
from ..lifecycle.up import UpResult
from ..render.console import print_status_lines, render_lines
from ..render.doctor import format_report
from ..render.store import format_store_status
from . import doctor as doctor_cli
from . import e2e as e2e_cli
from . import metrics as metrics_cli
from . import output
from . import server as server_cli
from .install import install_cmd, uninstall_cmd
from .jobs import jobs_app
from .matrix import matrix_app
from .postgres import postgres_app
from .server_install import server_app
from .stack import stack_app
from .store import store_app
from .worker import worker_app

app = typer.Typer(
    name="cmem-ops",
    help="Make claude-mem's server stack just work: a managed Valkey queue store, probes, lifecycle.",
    epilog=describe_exit_codes(),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(store_app, name="store")
app.add_typer(matrix_app, name="matrix")
app.add_typer(server_app, name="server")
app.add_typer(postgres_app, name="postgres")
server_cli.register(server_app)
app.add_typer(worker_app, name="worker")
app.add_typer(stack_app, name="stack")
app.add_typer(jobs_app, name="jobs")
doctor_cli.register(app)
e2e_cli.register(app)
metrics_cli.register(app)
app.command("install", epilog=describe_exit_codes())(install_cmd)
app.command("uninstall", epilog=describe_exit_codes())(uninstall_cmd)

JSON_OPTION = typer.Option(False, "--json", help="Print a versioned JSON envelope instead of text.")


def _version_callback(value: bool) -> None:
    if value:
        print(f"cmem-ops {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version_callback, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """cmem-ops: setup, health checks and lifecycle for claude-mem's server runtime."""


@app.command(epilog=describe_exit_codes())
def up(
    as_json: bool = JSON_OPTION,
    timeout: float = typer.Option(15.0, "--timeout", min=1, help="Seconds to wait for the store, and for the doctor."),
    no_smoke: bool = typer.Option(False, "--no-smoke", help="Skip the doctor's BullMQ smoke job."),
) -> None:
    """Ensure the queue store (start the managed Valkey, or check the configured URL), then run the doctor."""
    err = output.stderr_console()

    def action() -> UpResult:
        return up_service.up(build_context(), DoctorOptions(timeout=timeout, smoke=not no_smoke),
                             lambda msg: err.print(msg, markup=False), timeout=timeout)

    def render(result: UpResult, console: Console) -> None:
        render_lines(console, format_store_status(result.store))
        console.print()
        print_status_lines(console, format_report(result.doctor))

    def data(result: UpResult) -> dict[str, object]:
        return {"store": result.store, "doctor": result.doctor.to_data()}

    output.run("up", as_json, action, render, lambda r: r.doctor.exit_code, data)


def run_app() -> int:
    """Run the typer app; returns the exit code."""
    try:
        app(standalone_mode=True)
    except SystemExit as exc:
        return int(exc.code) if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return int(ExitCode.OK)
