"""Text views of `cmem-ops stack up|down|status` (pure `format_*`)."""

from __future__ import annotations

from ..lifecycle.stack import StackDown, StackStatus, StackUp, Step
from .postgres import format_pg_status
from .server import format_server_status, format_worker_report
from .store import format_store_status


def format_step(step: Step) -> str:
    """`  queue store   started   812 ms  managed, pid 123, port 2345` (pure)."""
    return f"  {step.part:<12} {step.outcome:<16} {step.elapsed_ms:>8.0f} ms  {step.detail}"


def format_stack_up(result: StackUp) -> list[str]:
    """Each step in start order, then where the server is (pure)."""
    lines = ["Stack up:", *(format_step(s) for s in result.steps)]
    lines.append(f"Ready in {result.elapsed_ms / 1000:.2f} s: {result.server.url} "
                 f"(queue prefix {result.server.prefix}, {result.workers.running} worker"
                 f"{'s' if result.workers.running != 1 else ''}).")
    return lines


def format_stack_down(result: StackDown) -> list[str]:
    """Each step in stop order (pure)."""
    return ["Stack down:", *(format_step(s) for s in result.steps),
            f"Done in {result.elapsed_ms / 1000:.2f} s; data kept."]


def format_stack_status(status: StackStatus) -> list[str]:
    """Runtime, store, Postgres, server, workers, then the problems with their fixes (pure)."""
    lines = [f"Runtime: claude-mem {status.runtime}" if status.runtime else "Runtime: not installed"]
    lines += format_store_status(status.store)
    lines += format_pg_status(status.postgres)
    lines += format_server_status(status.server)
    lines += format_worker_report(status.workers, empty="Workers: none started by cmem-ops")
    if status.problems:
        lines.append("Problems:")
        lines += [f"  - {p}" for p in status.problems]
    else:
        lines.append("Stack: healthy")
    return lines
