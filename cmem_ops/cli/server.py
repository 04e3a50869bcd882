"""`cmem-ops server start|stop|restart|status|check` and `server api-key create|revoke`."""

from __future__ import annotations

from argparse import Namespace
from typing import TYPE_CHECKING

from ..exit_codes import ExitCode
from . import output

if TYPE_CHECKING:
    from ..lifecycle.keys import KeyCreated
    from ..lifecycle.server import ServerStart, ServerStatus
    from ..probes.base import ProbeResult


def _start_lines(result: ServerStart) -> list[output.Line]:
    from ..render.server import format_checks, format_server_start

    return [*format_checks(result.checks), *format_server_start(result)]


def _or(value: float | None, default: float) -> float:
    return default if value is None else value


def start(args: Namespace) -> int:
    """Start the HTTP server after validating its environment."""
    from ..context import build_context
    from ..lifecycle import server as server_service

    timeout = _or(args.timeout, server_service.START_TIMEOUT_S)
    return output.run("server.start", args.as_json,
                      lambda: server_service.start(build_context(), timeout=timeout, foreground=args.foreground),
                      _start_lines)


def stop(args: Namespace) -> int:
    """Stop the HTTP server cmem-ops started; nothing else is signalled."""
    from ..context import build_context
    from ..lifecycle import server as server_service
    from ..render.server import format_server_stop

    timeout = _or(args.timeout, server_service.STOP_TIMEOUT_S)
    return output.run("server.stop", args.as_json, lambda: server_service.stop(build_context(), timeout=timeout),
                      format_server_stop)


def restart(args: Namespace) -> int:
    """Stop, then start the HTTP server on the same port and queue prefix."""
    from ..context import build_context
    from ..lifecycle import server as server_service

    timeout = _or(args.timeout, server_service.START_TIMEOUT_S)
    return output.run("server.restart", args.as_json,
                      lambda: server_service.restart(build_context(), timeout=timeout), _start_lines)


def status_code(status: ServerStatus) -> ExitCode:
    """0 running and ready, 7 not running, 1 running with a problem."""
    if not status.running:
        return ExitCode.NOT_RUNNING
    return ExitCode.FAILED if status.problem else ExitCode.OK


def status(args: Namespace) -> int:
    """Is our server running, and ready?"""
    from ..context import build_context
    from ..lifecycle import server as server_service
    from ..render.server import format_server_status

    timeout = _or(args.timeout, server_service.PROBE_TIMEOUT_S)
    return output.run("server.status", args.as_json,
                      lambda: server_service.status(build_context(), timeout=timeout), format_server_status,
                      status_code)


def check(args: Namespace) -> int:
    """Validate the server's environment with claude-mem's startup rules; exit 3 on a failed rule."""
    from ..context import build_context
    from ..lifecycle import server as server_service
    from ..lifecycle.stack_config import plan_start_config
    from ..probes.base import Status
    from ..render.server import format_checks

    def action() -> list[ProbeResult]:
        ctx = build_context()
        return server_service.validation(ctx, plan_start_config(ctx))  # a check writes nothing

    def code(results: list[ProbeResult]) -> ExitCode:
        return ExitCode.CONFIG if any(r.status is Status.FAIL for r in results) else ExitCode.OK

    return output.run("server.check", args.as_json, action, lambda results: format_checks(results, problems_only=False),
                      code, lambda results: {"results": results})


def api_key_create(args: Namespace) -> int:
    """Create an API key; the raw key is the output (text, or `data.key` unredacted) unless --key-file."""
    from pathlib import Path

    from ..context import build_context
    from ..lifecycle import keys as keys_service
    from ..redaction import Revealed
    from ..render.server import format_api_key

    key_file = Path(args.key_file) if args.key_file else None

    def action() -> KeyCreated:
        return keys_service.create(build_context(), args.scope or ["memories:read"], team=args.team,
                                   project=args.project, name=args.name, key_file=key_file)

    def data(result: KeyCreated) -> dict[str, object]:
        key = result.key
        # The key is this command's output (claude-mem keeps only its hash): Revealed passes redaction.
        return {"id": key.id, "name": key.name, "team_id": key.team_id, "project_id": key.project_id,
                "scopes": list(key.scopes), "key_file": result.key_file,
                "key": None if result.key_file else Revealed(key.key)}

    return output.run("server.api-key.create", args.as_json, action,
                      lambda result: format_api_key(result.key, result.key_file), to_data=data)


def api_key_revoke(args: Namespace) -> int:
    """Revoke an API key: the server refuses it (403) from its next request on."""
    from ..context import build_context
    from ..lifecycle import keys as keys_service

    return output.run("server.api-key.revoke", args.as_json, lambda: keys_service.revoke(build_context(), args.key_id),
                      lambda revoked: [f"Revoked API key {revoked}."],
                      to_data=lambda revoked: {"id": revoked, "status": "revoked"})
