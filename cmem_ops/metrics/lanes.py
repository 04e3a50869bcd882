"""claude-mem's two BullMQ queue lanes, read by counts only: jobs per state, oldest waiting job, live workers.

Every read is O(1) in the number of jobs (LLEN, ZCARD, LINDEX -1, ZRANGE 0 0, HGET), so a lane with
100,000 waiting jobs costs what an empty one does. Key layout and state names are BullMQ 5's own
(`Queue.getJobCounts()` / `exportPrometheusMetrics()`):

    <prefix>:<queue>:wait | active | paused            lists (new jobs LPUSHed, taken from the right)
    <prefix>:<queue>:prioritized | delayed | completed | failed | waiting-children   sorted sets
    <prefix>:<queue>:<job id>                          the job hash (`timestamp`: ms when it was added)

A BullMQ Worker names its blocking connection `<prefix>:<base64(queue name)>` (plus `:w:<name>` when
the worker has a name); `Queue.getWorkers()` counts the CLIENT LIST entries with that name, and so
do we. Nothing here imports prometheus_client: `cmem-ops status` uses this module.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterable
from typing import NamedTuple

from ..claudemem.env import KEY_WORKER_PORT, default_prefix, sanitize_prefix
from ..resp import Reply, RespError
from ..settings import Settings
from ..store_client import StoreConnection

EVENT_QUEUE = "server_beta_generate_event"
SUMMARY_QUEUE = "server_beta_generate_summary"
QUEUES = (EVENT_QUEUE, SUMMARY_QUEUE)

# BullMQ's state names (as getJobCounts() reports them) -> (key suffix, kind of key).
STATES: dict[str, tuple[str, str]] = {
    "active": ("active", "list"),
    "completed": ("completed", "zset"),
    "delayed": ("delayed", "zset"),
    "failed": ("failed", "zset"),
    "paused": ("paused", "list"),
    "prioritized": ("prioritized", "zset"),
    "waiting": ("wait", "list"),
    "waiting-children": ("waiting-children", "zset"),
}
# States whose jobs are ready to run and waiting for a worker.
READY_STATES = ("waiting", "paused", "prioritized")
LEGACY_MARKER = b"0:"  # BullMQ < 5 kept a marker entry at the tail of `wait`


class LaneStats(NamedTuple):
    """One queue lane as BullMQ sees it; `workers` is None when CLIENT LIST is not allowed."""

    queue: str
    counts: dict[str, int]
    oldest_waiting_age_s: float | None
    workers: int | None

    @property
    def waiting(self) -> int:
        """Jobs ready to run and not yet taken by a worker (waiting + paused + prioritized)."""
        return sum(self.counts.get(s, 0) for s in READY_STATES)

    @property
    def label(self) -> str:
        """The short lane name: `event` or `summary`."""
        return lane_label(self.queue)


def queue_prefix(settings: Settings) -> str:
    """The prefix claude-mem's processes use: the pinned one, else claude-mem's own default."""
    pinned = settings.queue_prefix
    if pinned:
        return sanitize_prefix(pinned)
    return default_prefix(settings.get(KEY_WORKER_PORT), os.getuid() if hasattr(os, "getuid") else 0)


def lane_label(queue: str) -> str:
    """`server_beta_generate_event` -> `event` (pure)."""
    return queue.removeprefix("server_beta_generate_")


def state_key(prefix: str, queue: str, state: str) -> str:
    """The Redis key that holds `state` of `queue` (pure)."""
    return f"{prefix}:{queue}:{STATES[state][0]}"


def worker_client_name(prefix: str, queue: str) -> str:
    """The CLIENT SETNAME a BullMQ Worker of `queue` uses: `<prefix>:<base64 queue>` (pure)."""
    return f"{prefix}:{base64.b64encode(queue.encode()).decode()}"


def parse_client_names(client_list: str) -> list[str]:
    """The `name=` field of every line of CLIENT LIST output ('' for unnamed clients) (pure)."""
    names = []
    for line in client_list.splitlines():
        fields = dict(part.partition("=")[::2] for part in line.split(" ") if "=" in part)
        if "id" in fields:
            names.append(fields.get("name", ""))
    return names


def count_workers(names: Iterable[str], prefix: str, queue: str) -> int:
    """How many clients are BullMQ workers of `queue`, by BullMQ's own rule in getWorkers() (pure)."""
    base = worker_client_name(prefix, queue)
    return sum(1 for n in names if n == base or n.startswith(base + ":w:"))


def job_age_s(timestamp: bytes | None, now_ms: float) -> float | None:
    """Seconds since a job's `timestamp` field (ms), None when it is missing or not a number (pure)."""
    if not timestamp:
        return None
    try:
        return max(now_ms - float(timestamp), 0.0) / 1000.0
    except ValueError:
        return None


def format_age(seconds: float | None) -> str:
    """`42 s`, `3 min 5 s`, `2 h 10 min`; `-` for None (pure)."""
    if seconds is None:
        return "-"
    s = int(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s"
    return f"{s // 3600} h {s % 3600 // 60} min"


def read_client_names(conn: StoreConnection) -> list[str] | None:
    """CLIENT LIST names, or None when the server refuses CLIENT LIST (ACL, managed services)."""
    try:
        return parse_client_names(conn.text("CLIENT", "LIST"))
    except RespError:
        return None


def _raise_errors(replies: list[Reply]) -> list[Reply]:
    for reply in replies:
        if isinstance(reply, RespError):
            raise reply
    return replies


def plan_reads(prefix: str, queue: str) -> list[tuple[str | int, ...]]:
    """The count commands of one lane, one per state, then the tails of wait/paused and the prioritized head (pure).

    The tail LINDEX doubles as the legacy-marker check of BullMQ < 5 and as the oldest job's id.
    """
    reads: list[tuple[str | int, ...]] = [
        ("LLEN" if kind == "list" else "ZCARD", state_key(prefix, queue, state)) for state, (_, kind) in STATES.items()]
    reads += [("LINDEX", state_key(prefix, queue, "waiting"), -1), ("LINDEX", state_key(prefix, queue, "paused"), -1),
              ("ZRANGE", state_key(prefix, queue, "prioritized"), 0, 0)]
    return reads


def parse_reads(replies: list[Reply]) -> tuple[dict[str, int], list[str]]:
    """Counts by state and the candidate oldest job ids from the replies to plan_reads (pure)."""
    counts = {state: reply if isinstance(reply, int) else 0 for state, reply in zip(STATES, replies, strict=False)}
    wait_tail, paused_tail, head = replies[len(STATES):len(STATES) + 3]
    ids = []
    for state, tail in (("waiting", wait_tail), ("paused", paused_tail)):
        if isinstance(tail, bytes):
            if tail.startswith(LEGACY_MARKER):
                counts[state] = max(counts[state] - 1, 0)
            else:
                ids.append(tail.decode("utf-8", "replace"))
    if isinstance(head, list):
        ids += [x.decode("utf-8", "replace") for x in head if isinstance(x, bytes)]
    return counts, ids


class LaneReplies(NamedTuple):
    """The parsed count replies of every lane: per queue, counts by state and its candidate oldest job ids."""

    prefix: str
    queues: tuple[str, ...]
    parsed: list[tuple[dict[str, int], list[str]]]


def plan_lane_reads(prefix: str, queues: tuple[str, ...] = QUEUES) -> list[tuple[str | int, ...]]:
    """plan_reads() of every lane, one after the other, in `queues` order (pure)."""
    return [command for queue in queues for command in plan_reads(prefix, queue)]


def parse_lane_reads(prefix: str, queues: tuple[str, ...], replies: list[Reply]) -> LaneReplies:
    """The replies to plan_lane_reads() split per lane and parsed; ValueError when some are missing (pure)."""
    width = len(plan_reads(prefix, queues[0])) if queues else 0
    if len(replies) != width * len(queues):
        raise ValueError(f"{len(replies)} replies to {width * len(queues)} lane reads")
    return LaneReplies(prefix, queues, [parse_reads(replies[i * width:(i + 1) * width]) for i in range(len(queues))])


def plan_stamp_reads(lanes: LaneReplies) -> list[tuple[str | int, ...]]:
    """HGET <job> timestamp of each lane's candidate oldest jobs, in lane order; empty when none wait (pure)."""
    return [("HGET", f"{lanes.prefix}:{queue}:{job_id}", "timestamp")
            for queue, (_, ids) in zip(lanes.queues, lanes.parsed, strict=True) for job_id in ids]


def build_lane_stats(lanes: LaneReplies, stamps: list[Reply], names: list[str] | None, now_ms: float
                     ) -> list[LaneStats]:
    """Every lane's LaneStats from its counts, the replies to plan_stamp_reads() and the CLIENT LIST names
    (None: workers unknown) (pure)."""
    owners = [i for i, (_, ids) in enumerate(lanes.parsed) for _ in ids]
    ages: dict[int, list[float]] = {}
    for i, stamp in zip(owners, stamps, strict=True):
        age = job_age_s(stamp if isinstance(stamp, bytes) else None, now_ms)
        if age is not None:
            ages.setdefault(i, []).append(age)
    return [LaneStats(q, counts, max(ages[i]) if i in ages else None,
                      None if names is None else count_workers(names, lanes.prefix, q))
            for i, (q, (counts, _)) in enumerate(zip(lanes.queues, lanes.parsed, strict=True))]


def read_lanes(conn: StoreConnection, prefix: str, now_ms: float, queues: tuple[str, ...] = QUEUES
               ) -> list[LaneStats]:
    """Every lane in two pipelined round trips plus one CLIENT LIST (RESP and socket errors propagate)."""
    names = read_client_names(conn)
    lanes = parse_lane_reads(prefix, queues, _raise_errors(conn.pipeline(*plan_lane_reads(prefix, queues))))
    stamp_reads = plan_stamp_reads(lanes)
    stamps = _raise_errors(conn.pipeline(*stamp_reads)) if stamp_reads else []
    return build_lane_stats(lanes, stamps, names, now_ms)
