"""The one-screen stack summary of `cmem-ops status`: Worker / Server / Queue / Store / Persistence / Policy.

Kept light on purpose (no typer, rich or psycopg on this path): it runs in shell prompts.
"""

from __future__ import annotations

import threading
import time
from typing import NamedTuple

from ..context import Context
from ..errors import ConfigError
from ..metrics.lanes import LaneStats, queue_prefix, read_lanes
from ..pidfile import identify, read_pidfile
from ..probes.ownership import proven_ours
from ..resp import RespError
from ..settings import QueueEngine, RedisMode
from ..store_client import open_store
from . import store as store_service
from .store import StoreStatus


class ProcessLine(NamedTuple):
    """A process cmem-ops keeps an identity record for."""

    component: str
    running: bool
    pid: int | None
    address: str | None
    note: str | None = None


class StackSummary(NamedTuple):
    """Everything `cmem-ops status` shows."""

    server: ProcessLine
    workers: tuple[ProcessLine, ...]
    queue_engine: str
    queue_prefix: str | None
    store: StoreStatus | None
    problem: str | None = None
    lanes: tuple[LaneStats, ...] = ()


def process_line(ctx: Context, component: str) -> ProcessLine:
    """State of `component` from cmem-ops' own identity record under run/ (never from claude-mem's pid files)."""
    record = read_pidfile(ctx.paths.run_dir / f"{component}.json")
    if record is None:
        return ProcessLine(component, False, None, None, "not started by cmem-ops")
    alive = identify(record) is not None
    address = f"127.0.0.1:{record.port}" if record.port else None
    return ProcessLine(component, alive, record.pid if alive else None, address,
                       None if alive else f"not running (last pid {record.pid})")


def summarize(ctx: Context, timeout: float = 1.0) -> StackSummary:
    """Collect the summary; a broken setting becomes `problem`, never an exception."""
    server = process_line(ctx, "server")
    workers = tuple(process_line(ctx, p.stem) for p in sorted(ctx.paths.run_dir.glob("worker*.json"))) \
        if ctx.paths.run_dir.is_dir() else ()
    lanes: list[tuple[LaneStats, ...]] = []
    reader: threading.Thread | None = None
    try:
        engine = ctx.settings.queue_engine
        prefix = ctx.settings.queue_prefix
        if engine is QueueEngine.BULLMQ:
            # The lane counts need their own connection: read them while the store status is read,
            # so `status` pays one round-trip time for both, not two.
            reader = threading.Thread(target=lambda: lanes.append(read_queue_lanes(ctx, timeout)),
                                      name="status-lanes", daemon=True)
            reader.start()
        store = store_service.status(ctx, timeout=timeout) if engine is QueueEngine.BULLMQ else None
    except ConfigError as exc:
        return StackSummary(server, workers, "unknown", None, None, problem=f"{exc.message} ({exc.hint})")
    # Lanes are shown only for a store that answered its status read: one that is stopped (SIGSTOP), not
    # answering or not ours is not waited for (the reader is a daemon thread), so `status` stays fast.
    answered = store is not None and store.running and store.version is not None
    if reader is not None and answered:
        reader.join(timeout + 0.5)
    return StackSummary(server, workers, engine.value, prefix, store, lanes=lanes[0] if lanes and answered else ())


def read_queue_lanes(ctx: Context, timeout: float) -> tuple[LaneStats, ...]:
    """Both lanes by counts (metrics/lanes.py); () when the store cannot be read now."""
    try:
        target = ctx.settings.redis_target()
        if target is None:
            return ()
        managed = ctx.settings.redis_mode is RedisMode.MANAGED
        with open_store(target, timeout) as conn:
            if managed and not proven_ours(ctx.paths, target, conn):
                return ()  # managed means ours: a foreign server on the port is read no further
            return tuple(read_lanes(conn, queue_prefix(ctx.settings), time.time() * 1000))
    except (OSError, RespError, ConfigError):
        return ()
