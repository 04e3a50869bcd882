"""`cmem-ops server install`: the claude-mem server runtime. `server_app` is the `server` command group."""

from __future__ import annotations

import typer
from rich.console import Console

from ..context import build_context
from ..exit_codes import describe_exit_codes
from ..render.runtime import format_install, render_lines
from ..runtime.install import DEFAULT_VERSION, RuntimeInstall, run_install
from . import output

server_app = typer.Typer(help="The claude-mem server runtime: install it, run the HTTP server and the worker.",
                         no_args_is_help=True, epilog=describe_exit_codes())

JSON_OPTION = typer.Option(False, "--json", help="Print a versioned JSON envelope instead of text.")


def install_command(
    version: str = typer.Option(DEFAULT_VERSION, "--version", help="The claude-mem npm version to install."),
    timeout: float = typer.Option(600.0, "--timeout", min=10, help="Seconds for the whole install."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Install claude-mem's server (npm, pinned) and bun privately under the data dir; a no-op when present."""
    err = output.stderr_console()

    def action() -> RuntimeInstall:
        return run_install(build_context(), version, lambda msg: err.print(msg, markup=False, highlight=False),
                           timeout)

    def render(result: RuntimeInstall, console: Console) -> None:
        render_lines(console, format_install(result))

    output.run("server.install", as_json, action, render)


server_app.command("install", epilog=describe_exit_codes())(install_command)
