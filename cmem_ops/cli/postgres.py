"""`cmem-ops postgres ...`: the managed Postgres cluster claude-mem stores its data in."""

from __future__ import annotations

from argparse import Namespace
from typing import TYPE_CHECKING

from ..exit_codes import ExitCode
from . import output

if TYPE_CHECKING:
    from ..lifecycle.postgres import PgStatus


def status_code(status: PgStatus) -> ExitCode:
    """0 running and healthy, 7 not running, 1 running with a problem."""
    if not status.running:
        return ExitCode.NOT_RUNNING
    return ExitCode.FAILED if status.problem else ExitCode.OK


def _render(status: PgStatus) -> list[str]:
    from ..render.postgres import format_pg_status

    return format_pg_status(status)


def start(args: Namespace) -> int:
    """Start the managed cluster (initdb on the first start); a no-op when up."""
    from ..context import build_context
    from ..lifecycle import postgres as pg_service

    return output.run("postgres.start", args.as_json, lambda: pg_service.start(build_context(), timeout=args.timeout),
                      _render, status_code)


def stop(args: Namespace) -> int:
    """Stop the managed cluster when it is provably ours; data is kept."""
    from ..context import build_context
    from ..lifecycle import postgres as pg_service

    def code(status: PgStatus) -> ExitCode:
        return ExitCode.FAILED if status.mode == "managed" and status.running else ExitCode.OK

    return output.run("postgres.stop", args.as_json, lambda: pg_service.stop(build_context(), timeout=args.timeout),
                      _render, code)


def status(args: Namespace) -> int:
    """Mode, running, redacted URL, port, pid, version and data dir."""
    from ..context import build_context
    from ..lifecycle import postgres as pg_service

    return output.run("postgres.status", args.as_json, lambda: pg_service.status(build_context()), _render,
                      status_code)
