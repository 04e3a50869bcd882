"""Text of `cmem-ops status` (pure)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lifecycle.summary import ProcessLine, StackSummary
from ..metrics.lanes import LaneStats, format_age
from .store import format_address, format_persistence

if TYPE_CHECKING:
    from ..lifecycle.watch import LaneRate  # only --watch needs it: plain `status` stays lighter


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
    where = format_address(store.host, store.port)
    if store.running and store.flavour:
        lines += [f"Store: {store.mode} {store.flavour} {store.version} on {where}",
                  f"Persistence: {format_persistence(store)}",
                  f"Policy: {store.maxmemory_policy or 'unknown'}"]
        if store.problem:  # it answers, but cannot hold the queue (a replica, a cluster node, a Sentinel)
            lines += [f"Problem: {store.problem}", f"Fix: {store.hint}"]
        lines += [format_lane(lane) for lane in summary.lanes]
    else:
        state = store.problem or "not running"
        lines.append(f"Store: {store.mode} on {where}, {state}" if store.host
                     else f"Store: {store.mode}, {state} ({where})")
        if store.hint:
            lines.append(f"Fix: {store.hint}")
    return lines


def format_lane(lane: LaneStats, rate: str = "") -> str:
    """`Lane event: waiting 3 / active 1 / failed 0, oldest 2 min 5 s, 1 worker` (pure)."""
    workers = "workers unknown" if lane.workers is None else f"{lane.workers} worker{'s' if lane.workers != 1 else ''}"
    return (f"Lane {lane.label}: waiting {lane.waiting} / active {lane.counts.get('active', 0)} / failed "
            f"{lane.counts.get('failed', 0)}, oldest {format_age(lane.oldest_waiting_age_s)}, {workers}{rate}")


def summary_ok(summary: StackSummary) -> bool:
    """True when the queue store (if any) answers and no setting is broken."""
    if summary.problem:
        return False
    return summary.store is None or (summary.store.running and not summary.store.problem)


def format_rate(rate: LaneRate | None) -> str:
    """`, 2.5 done/s, backlog -1.0/s`; while the first reading has no rate yet, `, rates next second` (pure)."""
    if rate is None:
        return ", rates next second"
    return f", {rate.done_per_s:.1f} done/s, backlog {rate.waiting_per_s:+.1f}/s"


def format_watch(summary: StackSummary, rates: dict[str, LaneRate], at: float) -> list[str]:
    """The --watch screen: a clock line, then the status lines with each lane's rates (pure)."""
    import time

    lines = [f"cmem-ops status --watch   {time.strftime('%H:%M:%S', time.localtime(at))}   (Ctrl-C to quit)", ""]
    lanes = {format_lane(lane): lane for lane in summary.lanes}
    for line in format_summary(summary):
        lane = lanes.get(line)
        lines.append(format_lane(lane, format_rate(rates.get(lane.queue))) if lane else line)
    return lines
