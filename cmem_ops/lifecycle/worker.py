"""claude-mem's generation workers (`bundle worker start`, no HTTP): start N, stop all, status.

A worker is ready when it prints `{"status":"worker-running",...,"pid":<its pid>}` to its log.
Workers get the same pinned queue prefix as the HTTP server (through the environment), so both
read the same BullMQ queues. Stopping one waits for its active job (BullMQ closes gracefully);
after the grace time it is killed, which leaves that job `processing` (see `cmem-ops jobs recover`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..claudemem.env import StackConfig, build_worker_env
from ..claudemem.validation import validate_worker_env
from ..context import Context
from ..errors import ConflictError, UsageError
from ..pidfile import identify, read_environ
from ..probes.base import ProbeResult
from ..supervisor import wait_ready
from ..wait import Deadline
from . import bundle
from .bundle import Spawned, lifecycle_lock, worker_component, worker_components
from .prestart import check_dependencies, child_env, is_docker, prepare

if TYPE_CHECKING:
    from ..probes.queue import IdleWorkers

START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0
READY_MARK = '"worker-running"'
WORKER_LOG = "worker"


@dataclass(frozen=True)
class WorkerLine:
    """One worker: started / already running / stopped / not running."""

    component: str
    outcome: str
    pid: int | None
    running: bool
    prefix: str | None = None
    version: str | None = None
    uptime_s: int | None = None
    elapsed_ms: float | None = None
    note: str | None = None


@dataclass(frozen=True)
class WorkerReport:
    """What a worker command did or found, one line per worker."""

    workers: tuple[WorkerLine, ...]
    elapsed_ms: float
    checks: tuple[ProbeResult, ...] = ()

    @property
    def running(self) -> int:
        return sum(1 for w in self.workers if w.running)


def validation(ctx: Context, cfg: StackConfig) -> list[ProbeResult]:
    """claude-mem's rules (plus a provider) over the exact environment a worker would get."""
    return validate_worker_env(child_env(ctx, build_worker_env(cfg)), docker=is_docker(ctx))


def log_says_running(log_file: Path, offset: int, pid: int) -> bool:
    """True when the worker `pid` printed its worker-running line after `offset` in `log_file`."""
    try:
        with open(log_file, "rb") as fh:
            fh.seek(offset)
            text = fh.read().decode("utf-8", "replace")
    except OSError:
        return False
    return any(READY_MARK in line and f'"pid":{pid}' in line.replace(" ", "") for line in text.splitlines())


def start(ctx: Context, *, count: int = 1, timeout: float = START_TIMEOUT_S, scale_down: bool = False,
          foreground: bool = False, index: int = 1) -> WorkerReport:
    """Ensure workers 1..count run (starting the missing ones together); with `scale_down`, stop the others.

    With `foreground`, exec worker `index` in this process instead (for systemd).
    """
    if count < 1 or index < 1:
        raise UsageError("--count and --index must be at least 1", hint="cmem-ops worker start --count 1")
    t0 = time.monotonic()
    deadline = Deadline.after(timeout)
    ready = prepare(ctx, "worker", validation)
    ctx, cfg, checks, runtime = ready.ctx, ready.cfg, ready.checks, ready.runtime
    env = build_worker_env(cfg)
    extra: dict[str, object] = {"prefix": cfg.prefix, "interpreter": runtime.interpreter}
    lines: list[WorkerLine] = []
    with lifecycle_lock(ctx.paths):
        wanted = [index] if foreground else list(range(1, count + 1))
        missing = []
        for i in wanted:
            name = worker_component(i)
            record = bundle.running_record(ctx.paths, name)
            if record is not None:
                lines.append(WorkerLine(name, "already-running", record.pid, True,
                                        str((record.extra or {}).get("prefix") or "") or None,
                                        str((record.extra or {}).get("version") or "") or None,
                                        bundle.uptime_s(record)))
            else:
                missing.append(name)
        if missing:
            check_dependencies(cfg)
        if foreground:
            if not missing:
                raise ConflictError(f"worker {index} already runs outside this unit (pid {lines[0].pid})",
                                    hint=f"cmem-ops worker stop --count {index - 1}   (or pick another --index)")
            bundle.exec_foreground(ctx.paths, runtime, missing[0], ["worker", "start"], env, extra=extra)
        spawned: list[Spawned] = []
        try:
            for name in missing:
                spawned.append(bundle.spawn(ctx.paths, ctx.runner, runtime, name, ["worker", "start"], env,
                                            log_stem=WORKER_LOG, extra=extra))
            for item in spawned:
                pid = item.record.pid
                wait_ready(f"claude-mem worker {item.record.component} (pid {pid})",
                           lambda item=item: log_says_running(item.log_file, item.log_offset,  # type: ignore[misc]
                                                              item.record.pid),
                           item.child.poll, deadline, bundle.log_files(ctx.paths, WORKER_LOG),
                           timeout_hint="read the logs: cmem-ops logs worker; cmem-ops logs claude-mem -n 50")
                lines.append(WorkerLine(item.record.component, "started", pid, True, cfg.prefix, runtime.version,
                                        0, (time.monotonic() - t0) * 1000))
        except BaseException:
            for item in spawned:
                bundle.abandon(ctx.paths, item.record)
            raise
        if scale_down:
            for name in worker_components(ctx.paths):
                index_of = bundle.worker_index(name)
                if index_of is not None and index_of > count:
                    how, last_pid = bundle.stop_component(ctx.paths, name, grace_s=STOP_TIMEOUT_S)
                    stopped = how in ("terminated", "killed")
                    lines.append(WorkerLine(name, "stopped" if stopped else "not-running", last_pid, False,
                                            note=how))
    lines.sort(key=lambda w: bundle.worker_index(w.component) or 0)
    return WorkerReport(tuple(lines), (time.monotonic() - t0) * 1000, tuple(checks))


def stop(ctx: Context, *, timeout: float = STOP_TIMEOUT_S, count: int | None = None) -> WorkerReport:
    """Stop our workers (all, or only those numbered above `count`); anything not ours is left alone."""
    t0 = time.monotonic()
    lines = []
    with lifecycle_lock(ctx.paths, create=False):
        for name in worker_components(ctx.paths):
            index = bundle.worker_index(name)
            if count is not None and index is not None and index <= count:
                continue
            how, pid = bundle.stop_component(ctx.paths, name, grace_s=timeout)
            stopped = how in ("terminated", "killed")
            lines.append(WorkerLine(name, "stopped" if stopped else "not-running", pid, False, note=how))
    return WorkerReport(tuple(lines), (time.monotonic() - t0) * 1000)


def status(ctx: Context) -> WorkerReport:
    """Every worker cmem-ops has a record of: alive and ours, or not."""
    t0 = time.monotonic()
    lines = []
    for name in worker_components(ctx.paths):
        record = bundle.read_record(ctx.paths, name)
        if record is None:
            lines.append(WorkerLine(name, "not-running", None, False, note="unreadable record"))
            continue
        alive = identify(record) is not None
        extra = record.extra or {}
        lines.append(WorkerLine(name, "running" if alive else "not-running", record.pid if alive else None, alive,
                                str(extra.get("prefix") or "") or None, str(extra.get("version") or "") or None,
                                bundle.uptime_s(record) if alive else None,
                                note=None if alive else f"not running (last pid {record.pid})"))
    return WorkerReport(tuple(lines), (time.monotonic() - t0) * 1000)


def idle_workers(ctx: Context) -> IdleWorkers | None:
    """Our live workers, judged from the environment the first one really runs with (for the backlog verdict:
    claude-mem's worker runs but serves no lane while generation is disabled)."""
    from ..probes.queue import NATIVE_FIXES, judge_idle_workers  # the queue probes' imports: only for the doctor

    pids = [w.pid for w in status(ctx).workers if w.running and w.pid]
    environ = read_environ(pids[0]) if pids else None
    # claude-mem reads its environment first, then settings.json: judge what it sees
    env = None if environ is None else {**{k: str(v) for k, v in ctx.settings.file_values.items()}, **environ}
    return judge_idle_workers(len(pids), env, restart="cmem-ops worker stop && cmem-ops worker start",
                              logs=NATIVE_FIXES.worker_logs)
