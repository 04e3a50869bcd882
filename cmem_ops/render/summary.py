"""Text of `cmem-ops status` (pure)."""

from __future__ import annotations

from ..lifecycle.summary import ProcessLine, StackSummary
from .store import format_persistence


def _process(line: ProcessLine) -> str:
    if line.running:
        where = f" on {line.address}" if line.address else ""
        return f"running{where} (pid {line.pid})"
    return line.note or "not running"


def format_summary(summary: StackSummary) -> list[str]:
    """Worker / Server / Queue / Store / Persistence / Policy, like claude-mem's planned status."""
    lines = []
    if summary.workers:
        for worker in summary.workers:
            label = "Worker" if worker.component == "worker" else f"Worker {worker.component.removeprefix('worker-')}"
            lines.append(f"{label}: {_process(worker)}")
    else:
        lines.append("Worker: not started by cmem-ops")
    lines.append(f"Server: {_process(summary.server)}")
    if summary.problem:
        lines.append(f"Problem: {summary.problem}")
        return lines
    queue = "BullMQ" if summary.queue_engine == "bullmq" else summary.queue_engine
    lines.append(f"Queue: {queue}" + (f" (prefix {summary.queue_prefix})" if summary.queue_prefix else ""))
    store = summary.store
    if store is None:
        lines.append("Store: none (sqlite queue)")
        return lines
    where = f"{store.host}:{store.port}" if store.host else "(not configured)"
    if store.running and store.flavour:
        lines += [f"Store: {store.mode} {store.flavour} {store.version} on {where}",
                  f"Persistence: {format_persistence(store)}",
                  f"Policy: {store.maxmemory_policy or 'unknown'}"]
        if store.problem:  # it answers, but cannot hold the queue (a replica, a cluster node, a Sentinel)
            lines += [f"Problem: {store.problem}", f"Fix: {store.hint}"]
    else:
        lines.append(f"Store: {store.mode} on {where}, {store.problem or 'not running'}")
        if store.hint:
            lines.append(f"Fix: {store.hint}")
    return lines


def summary_ok(summary: StackSummary) -> bool:
    """True when the queue store (if any) answers and no setting is broken."""
    if summary.problem:
        return False
    return summary.store is None or (summary.store.running and not summary.store.problem)
