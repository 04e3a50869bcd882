"""`cmem-ops worker start|stop|status`: claude-mem's generation workers."""

from __future__ import annotations

from argparse import Namespace
from typing import TYPE_CHECKING

from ..exit_codes import ExitCode
from . import output

if TYPE_CHECKING:
    from ..lifecycle.worker import WorkerReport


def start(args: Namespace) -> int:
    """Start workers 1..N with the server's pinned queue prefix (or one in the foreground)."""
    from ..context import build_context
    from ..lifecycle import worker as worker_service
    from ..render.server import format_checks, format_worker_report

    timeout = worker_service.START_TIMEOUT_S if args.timeout is None else args.timeout

    def render(report: WorkerReport) -> list[output.Line]:
        return [*format_checks(report.checks), *format_worker_report(report)]

    return output.run("worker.start", args.as_json,
                      lambda: worker_service.start(build_context(), count=args.count, timeout=timeout,
                                                   scale_down=not args.foreground, foreground=args.foreground,
                                                   index=args.index), render)


def stop(args: Namespace) -> int:
    """Stop our workers (all, or those above --count)."""
    from ..context import build_context
    from ..lifecycle import worker as worker_service
    from ..render.server import format_worker_report

    timeout = worker_service.STOP_TIMEOUT_S if args.timeout is None else args.timeout
    return output.run("worker.stop", args.as_json,
                      lambda: worker_service.stop(build_context(), timeout=timeout, count=args.count),
                      lambda report: format_worker_report(report, empty="No worker of ours was running."))


def status(args: Namespace) -> int:
    """Every worker cmem-ops started; exit 7 unless at least --count (default 1) run."""
    from ..context import build_context
    from ..lifecycle import worker as worker_service
    from ..render.server import format_worker_report

    def code(report: WorkerReport) -> ExitCode:
        return ExitCode.OK if report.running >= (args.count or 1) else ExitCode.NOT_RUNNING

    return output.run("worker.status", args.as_json, lambda: worker_service.status(build_context()),
                      format_worker_report, code)
