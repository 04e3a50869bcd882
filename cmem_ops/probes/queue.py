"""Queue health: a backlog nobody works on, failed jobs, Postgres/BullMQ divergence.

    backlog <lane>   FAIL when jobs wait longer than the threshold and no live worker serves the lane
                     (the fix starts workers); WARN when they wait that long despite workers (add more),
                     or wait at all with no worker yet; OK otherwise, with the lane's counts. When worker
                     processes run but none serves the lane (claude-mem's worker registers no BullMQ
                     worker while generation is disabled: no provider or no API key in its environment),
                     the verdict says so and the fix is the provider, not "start workers" (IdleWorkers)
    failed jobs      WARN when BullMQ holds failed jobs in either lane
    divergence       WARN when sampled jobs disagree between Postgres and BullMQ (metrics/generation.py)

Jobs stuck `processing` are judged by the server group's `stuck jobs` check (probes/stack.py).
Every read is a count (metrics/lanes.py), so the check costs the same with 100,000 jobs waiting.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import NamedTuple

from ..claudemem.validation import check_provider
from ..context import Context
from ..errors import ConfigError
from ..metrics.generation import read_generation
from ..metrics.lanes import LaneStats, format_age, queue_prefix, read_lanes
from ..resp import RespError
from ..settings import QueueEngine, RedisMode
from ..store_client import open_store
from .base import Group, ProbeResult, Status, Stopwatch
from .ownership import proven_ours

BACKLOG_MAX_AGE_S = 120.0  # CMEM_OPS_BACKLOG_MAX_AGE_S overrides
KEY_MAX_AGE = "CMEM_OPS_BACKLOG_MAX_AGE_S"
START_WORKERS = "cmem-ops worker start"
RECOVER = "cmem-ops jobs recover"


def _result(name: str, target: str, status: Status, summary: str, hint: str | None = None,
            data: dict[str, object] | None = None) -> ProbeResult:
    return ProbeResult(name, target, status, summary, hint=hint, group=Group.QUEUE, data=dict(data or {}))


def format_counts(lane: LaneStats) -> str:
    """`waiting 3, active 1, failed 0` (pure)."""
    return f"waiting {lane.waiting}, active {lane.counts.get('active', 0)}, failed {lane.counts.get('failed', 0)}"


class QueueFixes(NamedTuple):
    """The commands a queue verdict names as its fix, for the stack it judges ({count}: workers wanted)."""

    start_workers: str
    more_workers: str
    recover: str
    worker_logs: str


NATIVE_FIXES = QueueFixes(START_WORKERS, "cmem-ops worker start --count {count}", RECOVER,
                          "cmem-ops logs worker -n 100")


class IdleWorkers(NamedTuple):
    """Worker processes (or containers) that run while CLIENT LIST shows no BullMQ worker, and why."""

    running: int
    why: str
    fix: str


def judge_idle_workers(running: int, env: Mapping[str, str] | None, restart: str, logs: str) -> IdleWorkers | None:
    """Why `running` live workers may serve no lane, from their real environment `env` (None: unread) (pure).

    claude-mem's worker starts and logs that it runs, but registers no BullMQ worker while generation is
    disabled, i.e. without a provider and its API key; then the fix is the provider, then `restart`.
    """
    if running <= 0:
        return None
    if env is not None:
        provider = check_provider(env)
        if provider.status is not Status.OK:
            return IdleWorkers(running, provider.summary, f"{provider.hint}, then: {restart}")
    return IdleWorkers(running, "none has registered a BullMQ worker (read its log for why)", logs)


def judge_lane(lane: LaneStats, target: str, max_age_s: float, idle: IdleWorkers | None = None,
               fixes: QueueFixes = NATIVE_FIXES) -> ProbeResult:
    """The backlog verdict on one lane; `idle`: worker processes run although none serves a lane (pure)."""
    name = f"backlog {lane.label}"
    age = lane.oldest_waiting_age_s or 0.0
    data: dict[str, object] = {"queue": lane.queue, "counts": dict(lane.counts),
                               "oldest_waiting_age_s": lane.oldest_waiting_age_s, "workers": lane.workers}
    workers = "workers unknown (CLIENT LIST refused)" if lane.workers is None else \
        f"{lane.workers} worker{'s' if lane.workers != 1 else ''}"
    summary = f"{format_counts(lane)}; oldest {format_age(lane.oldest_waiting_age_s)}; {workers}"
    if lane.waiting == 0:
        return _result(name, target, Status.OK, summary, data=data)
    if lane.workers == 0 and idle is not None:
        status = Status.FAIL if age > max_age_s else Status.WARN
        return _result(name, target, status, f"{lane.waiting} job(s) waiting, the oldest for {format_age(age)}; "
                       f"{idle.running} worker process{'es' if idle.running != 1 else ''} run but none serves "
                       f"this lane: {idle.why}", idle.fix, data)
    if lane.workers == 0:
        if age > max_age_s:
            return _result(name, target, Status.FAIL, f"{lane.waiting} job(s) waiting, the oldest for "
                           f"{format_age(age)}, and no live worker: nothing will process them", fixes.start_workers,
                           data)
        return _result(name, target, Status.WARN, f"{summary}: no live worker yet", fixes.start_workers, data)
    if age > max_age_s:
        more = fixes.more_workers.format(count=(lane.workers or 1) + 1)
        return _result(name, target, Status.WARN, f"{summary}: the oldest job waits longer than "
                       f"{format_age(max_age_s)} (one job per lane per worker process)", more, data)
    return _result(name, target, Status.OK, summary, data=data)


def judge_failed(lanes: list[LaneStats], target: str, fixes: QueueFixes = NATIVE_FIXES) -> ProbeResult:
    """WARN when any lane holds failed jobs (pure)."""
    failed = {lane.label: lane.counts.get("failed", 0) for lane in lanes}
    if not any(failed.values()):
        return _result("failed jobs", target, Status.OK, "no failed job in BullMQ", data={"failed": failed})
    text = ", ".join(f"{n} in {label}" for label, n in failed.items() if n)
    return _result("failed jobs", target, Status.WARN, f"BullMQ holds failed jobs: {text}",
                   f"{fixes.recover}   (and read why: {fixes.worker_logs})", {"failed": failed})


def judge_divergence(divergent: int, checked: int, error: str | None, target: str,
                     fixes: QueueFixes = NATIVE_FIXES) -> ProbeResult:
    """WARN when sampled jobs disagree between Postgres and BullMQ (pure)."""
    if error:
        return ProbeResult("divergence", target, Status.SKIP, f"not checked: {error}", group=Group.QUEUE,
                           required=False)
    if divergent:
        return _result("divergence", target, Status.WARN, f"{divergent} of {checked} sampled jobs disagree "
                       "between Postgres and BullMQ", fixes.recover, {"divergent": divergent, "checked": checked})
    return _result("divergence", target, Status.OK, f"Postgres and BullMQ agree on {checked} sampled jobs",
                   data={"divergent": 0, "checked": checked})


def max_age(ctx: Context) -> float:
    """The backlog threshold in seconds (CMEM_OPS_BACKLOG_MAX_AGE_S, default 120)."""
    raw = ctx.settings.env.get(KEY_MAX_AGE)
    try:
        return float(raw) if raw else BACKLOG_MAX_AGE_S
    except ValueError:
        return BACKLOG_MAX_AGE_S


def probe_queue(ctx: Context, database_url: str | None, budget: float, idle: IdleWorkers | None = None
                ) -> list[ProbeResult]:
    """Backlog per lane, failed jobs and divergence (when `database_url` is known); SKIP without a store.
    `idle`: our worker processes that run (judge_idle_workers), for the verdict on a lane nobody serves."""
    sw = Stopwatch()
    try:
        if ctx.settings.queue_engine is QueueEngine.SQLITE:
            return [ProbeResult("queue", "sqlite", Status.SKIP, "the queue engine is sqlite", group=Group.QUEUE,
                                required=False)]
        target = ctx.settings.redis_target()
        managed = ctx.settings.redis_mode is RedisMode.MANAGED
    except ConfigError as exc:
        return [ProbeResult("queue", "settings", Status.SKIP, f"not checked: {exc.message}", group=Group.QUEUE)]
    prefix = queue_prefix(ctx.settings)
    label = f"prefix {prefix}"
    if target is None:
        return [ProbeResult("queue", label, Status.SKIP, "no queue store is configured", group=Group.QUEUE)]
    try:
        with open_store(target, max(min(budget, 2.0), 0.1)) as conn:
            if managed and not proven_ours(ctx.paths, target, conn):  # managed means ours: read nothing else
                return [ProbeResult("queue", label, Status.SKIP, f"not checked: the server on {target.address} "
                                    "is not the managed store (the store group names it)", group=Group.QUEUE)]
            lanes = read_lanes(conn, prefix, time.time() * 1000)
            generation = read_generation(database_url, conn, prefix, max(min(budget, 5.0), 0.5))
    except (OSError, RespError) as exc:
        return [ProbeResult("queue", label, Status.SKIP, f"the queue store did not answer: {exc}",
                            group=Group.QUEUE)]
    threshold = max_age(ctx)
    results = [judge_lane(lane, label, threshold, idle) for lane in lanes]
    results.append(judge_failed(lanes, label))
    if generation is not None:
        results.append(judge_divergence(generation.divergent, generation.checked, generation.error, label))
    return [r.timed(sw.ms) for r in results]
