"""`cmem-ops server start|stop|restart|status|check` and `server api-key create|revoke`, on the `server` group."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from ..context import build_context
from ..exit_codes import ExitCode, describe_exit_codes
from ..lifecycle import keys as keys_service
from ..lifecycle import server as server_service
from ..lifecycle.keys import KeyCreated
from ..lifecycle.server import ServerStart, ServerStatus, ServerStop
from ..lifecycle.stack_config import ensure_config
from ..probes.base import ProbeResult, Status
from ..render.console import print_status_lines, render_lines
from ..render.server import (
    format_api_key,
    format_checks,
    format_server_start,
    format_server_status,
    format_server_stop,
)
from . import output

JSON_OPTION = typer.Option(False, "--json", help="Print a versioned JSON envelope instead of text.")
EPILOG = describe_exit_codes()

api_key_app = typer.Typer(help="API keys in the server's Postgres (not the npx CLI's SQLite).",
                          no_args_is_help=True, epilog=EPILOG)


def _render_start(result: ServerStart, console: Console) -> None:
    print_status_lines(console, format_checks(result.checks))
    render_lines(console, format_server_start(result))


def start(
    as_json: bool = JSON_OPTION,
    foreground: bool = typer.Option(False, "--foreground",
                                    help="Run in this process (exec), for systemd Type=simple; logs to stdout."),
    timeout: float = typer.Option(server_service.START_TIMEOUT_S, "--timeout", min=1,
                                  help="Seconds to wait for /healthz and /v1/info."),
) -> None:
    """Start the HTTP server (generation off: workers run apart); needs the queue store and Postgres up.

    Validates the environment with claude-mem's own startup rules first, and refuses with the fix.
    """
    output.run("server.start", as_json,
               lambda: server_service.start(build_context(), timeout=timeout, foreground=foreground), _render_start)


def stop(
    as_json: bool = JSON_OPTION,
    timeout: float = typer.Option(server_service.STOP_TIMEOUT_S, "--timeout", min=1,
                                  help="Seconds after SIGTERM before SIGKILL."),
) -> None:
    """Stop the HTTP server cmem-ops started (found by its own identity record); nothing else is signalled."""
    def render(result: ServerStop, console: Console) -> None:
        render_lines(console, format_server_stop(result))

    output.run("server.stop", as_json, lambda: server_service.stop(build_context(), timeout=timeout), render)


def restart(
    as_json: bool = JSON_OPTION,
    timeout: float = typer.Option(server_service.START_TIMEOUT_S, "--timeout", min=1,
                                  help="Seconds to wait for the new server."),
) -> None:
    """Stop, then start the HTTP server on the same port and queue prefix."""
    output.run("server.restart", as_json, lambda: server_service.restart(build_context(), timeout=timeout),
               _render_start)


def status_code(status: ServerStatus) -> ExitCode:
    """0 running and ready, 7 not running, 1 running with a problem."""
    if not status.running:
        return ExitCode.NOT_RUNNING
    return ExitCode.FAILED if status.problem else ExitCode.OK


def status(
    as_json: bool = JSON_OPTION,
    timeout: float = typer.Option(server_service.PROBE_TIMEOUT_S, "--timeout", min=0.1,
                                  help="Seconds for each HTTP request."),
) -> None:
    """Is our server running (by cmem-ops' own record, right even after claude-mem's pid files vanish), and ready?"""
    def render(result: ServerStatus, console: Console) -> None:
        render_lines(console, format_server_status(result))

    output.run("server.status", as_json, lambda: server_service.status(build_context(), timeout=timeout), render,
               status_code)


def check(as_json: bool = JSON_OPTION) -> None:
    """Validate the server's environment with claude-mem's startup rules (pins port and prefix; starts nothing)."""
    def action() -> list[ProbeResult]:
        ctx = build_context()
        cfg = ensure_config(ctx)
        return server_service.validation(ctx.reload(), cfg)

    def render(results: list[ProbeResult], console: Console) -> None:
        print_status_lines(console, format_checks(results, problems_only=False))

    def code(results: list[ProbeResult]) -> ExitCode:
        return ExitCode.CONFIG if any(r.status is Status.FAIL for r in results) else ExitCode.OK

    output.run("server.check", as_json, action, render, code, lambda results: {"results": results})


def api_key_create(
    scope: list[str] = typer.Option(["memories:read"], "--scope",
                                    help="Scopes, comma-separated or repeated: memories:read, memories:write."),
    team: str | None = typer.Option(None, "--team", help="Team id (with --project; default: the local-hook team)."),
    project: str | None = typer.Option(None, "--project", help="Project id (with --team)."),
    name: str | None = typer.Option(None, "--name", help="A label (echoed back; claude-mem does not store it)."),
    key_file: Path | None = typer.Option(None, "--key-file", help="Write the raw key to this file (0600) "
                                         "instead of printing it; the JSON envelope never carries it."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Create an API key in the server's Postgres (the npx CLI writes to SQLite, where the server never looks)."""
    def action() -> KeyCreated:
        return keys_service.create(build_context(), scope, team=team, project=project, name=name, key_file=key_file)

    def render(result: KeyCreated, console: Console) -> None:
        render_lines(console, format_api_key(result.key, result.key_file))

    def data(result: KeyCreated) -> dict[str, object]:
        key = result.key
        return {"id": key.id, "name": key.name, "team_id": key.team_id, "project_id": key.project_id,
                "scopes": list(key.scopes), "key_file": result.key_file, "key": key.key}

    output.run("server.api-key.create", as_json, action, render, to_data=data)


def api_key_revoke(
    key_id: str = typer.Argument(..., help="The key's id (printed by create), not the key itself."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Revoke an API key: the server refuses it (403) from its next request on."""
    def render(revoked: str, console: Console) -> None:
        render_lines(console, [f"Revoked API key {revoked}."])

    output.run("server.api-key.revoke", as_json, lambda: keys_service.revoke(build_context(), key_id), render,
               to_data=lambda revoked: {"id": revoked, "status": "revoked"})


def register(server_app: typer.Typer) -> None:
    """Add the lifecycle and api-key commands to the `server` group (which `server install` also lives on)."""
    server_app.command("start", epilog=EPILOG)(start)
    server_app.command("stop", epilog=EPILOG)(stop)
    server_app.command("restart", epilog=EPILOG)(restart)
    server_app.command("status", epilog=EPILOG)(status)
    server_app.command("check", epilog=EPILOG)(check)
    api_key_app.command("create", epilog=EPILOG)(api_key_create)
    api_key_app.command("revoke", epilog=EPILOG)(api_key_revoke)
    server_app.add_typer(api_key_app, name="api-key")
