"""The whole stack in order: `up` = settings validated -> queue store -> Postgres -> HTTP server -> workers;
`down` in reverse; `status` of every part.

A part cmem-ops does not own (an external queue-store URL, an external database) is checked on the way
up and never stopped on the way down. Every step is timed, for `stack up`'s report and the benchmark.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from ..claudemem.validation import validate_preflight
from ..context import Context
from ..errors import OpsError, ProcessError
from ..probes.base import ProbeResult
from ..runtime.locate import find_runtime
from ..settings import RedisMode
from ..store.process import StopOutcome
from . import postgres as pg_service
from . import server as server_service
from . import store as store_service
from . import worker as worker_service
from .postgres import PgStatus
from .prestart import is_docker, refuse_invalid, require_runtime
from .server import ServerStart, ServerStatus, ServerStop
from .store import StoreStatus
from .worker import WorkerReport

UP_TIMEOUT_S = 120.0
STORE_TIMEOUT_S = 15.0
POSTGRES_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Step:
    """One part brought up or down: what happened to it and how long it took."""

    part: str
    outcome: str
    detail: str
    elapsed_ms: float


@dataclass(frozen=True)
class StackUp:
    """What `stack up` did, step by step, and the resulting server and workers."""

    steps: tuple[Step, ...]
    server: ServerStart
    workers: WorkerReport
    checks: tuple[ProbeResult, ...]
    elapsed_ms: float


@dataclass(frozen=True)
class StackDown:
    """What `stack down` did, step by step (reverse order)."""

    steps: tuple[Step, ...]
    elapsed_ms: float


@dataclass(frozen=True)
class StackStatus:
    """Every part's state; `healthy` when all of them run and answer."""

    store: StoreStatus
    postgres: PgStatus
    server: ServerStatus
    workers: WorkerReport
    runtime: str | None
    problems: tuple[str, ...] = field(default_factory=tuple)

    @property
    def healthy(self) -> bool:
        return not self.problems


class _Timer:
    def __init__(self) -> None:
        self.steps: list[Step] = []

    @contextmanager
    def step(self, part: str) -> Iterator[list[str]]:
        """Time one part; the body appends [outcome, detail] to the yielded list."""
        t0 = time.monotonic()
        out: list[str] = []
        yield out
        outcome, detail = [*out, "done", ""][:2]
        self.steps.append(Step(part, outcome, detail, round((time.monotonic() - t0) * 1000, 1)))


def preflight(ctx: Context) -> list[ProbeResult]:
    """The rules that hold before the store and database exist (engine, auth mode, Docker), from settings."""
    env = {key: value for key in ("CLAUDE_MEM_AUTH_MODE", "CLAUDE_MEM_ALLOW_LOCAL_DEV_BYPASS")
           if (value := ctx.settings.get(key))}
    env["CLAUDE_MEM_QUEUE_ENGINE"] = ctx.settings.queue_engine.value
    return validate_preflight(env, docker=is_docker(ctx))


def up(ctx: Context, *, workers: int = 1, timeout: float = UP_TIMEOUT_S,
       say: Callable[[str], None] = lambda _msg: None) -> StackUp:
    """Bring the stack up in order; each part that already runs is kept. Raises at the first part that fails."""
    t0 = time.monotonic()
    timer = _Timer()
    with timer.step("settings") as out:
        refuse_invalid("stack", preflight(ctx))
        require_runtime(ctx)
        rules = " (Docker rules)" if is_docker(ctx) else ""
        out += ["validated", f"runtime installed; queue engine and auth mode valid{rules}"]
    say("queue store...")
    with timer.step("queue store") as out:
        mode = ctx.settings.redis_mode
        if mode is RedisMode.MANAGED:
            started = store_service.start(ctx, timeout=STORE_TIMEOUT_S)
            out += [started.outcome.value, f"managed, pid {started.pid}, port {started.port}"]
        else:
            store = store_service.up(ctx, timeout=STORE_TIMEOUT_S)
            out += ["checked", f"{store.mode} {store.url} (not ours: never stopped)"]
    ctx = ctx.reload()
    say("postgres...")
    with timer.step("postgres") as out:
        pg = pg_service.start(ctx, timeout=POSTGRES_TIMEOUT_S)
        if not pg.running or pg.problem:
            raise ProcessError(f"Postgres ({pg.mode}, {pg.url}) is not usable: {pg.problem or 'not running'}",
                               hint=pg.hint or "cmem-ops postgres status")
        managed = pg.mode is pg_service.PgMode.MANAGED
        owner = f"managed, pid {pg.pid}" if managed else "external (not ours: never stopped)"
        out += ["ready", f"{owner}, port {pg.port}"]
    ctx = ctx.reload()
    say("server...")
    with timer.step("server") as out:
        started_server = server_service.start(ctx, timeout=max(timeout - (time.monotonic() - t0), 5.0))
        out += [started_server.outcome.value, f"pid {started_server.pid}, {started_server.url}, "
                                              f"prefix {started_server.prefix}"]
    ctx = ctx.reload()
    say("workers...")
    with timer.step("workers") as out:
        report = worker_service.start(ctx, count=workers, timeout=max(timeout - (time.monotonic() - t0), 5.0))
        fresh = sum(1 for w in report.workers if w.outcome == "started")
        out += ["started" if fresh else "already-running",
                ", ".join(f"{w.component} pid {w.pid}" for w in report.workers if w.running)]
    checks = tuple(started_server.checks) + tuple(c for c in report.checks if c.name == "provider")
    return StackUp(tuple(timer.steps), started_server, report, checks, round((time.monotonic() - t0) * 1000, 1))


def down(ctx: Context, *, timeout: float = 30.0) -> StackDown:
    """Stop workers, server, Postgres, queue store (only the parts cmem-ops owns); data is kept.

    Every part is attempted even when an earlier one fails; the first failure is raised at the end.
    """
    t0 = time.monotonic()
    timer = _Timer()
    errors: list[OpsError] = []

    def attempt(part: str, action: Callable[[], tuple[str, str]]) -> None:
        with timer.step(part) as out:
            try:
                out += list(action())
            except OpsError as exc:
                errors.append(exc)
                out += ["failed", exc.message]

    def workers() -> tuple[str, str]:
        report = worker_service.stop(ctx, timeout=timeout)
        stopped = [w for w in report.workers if w.outcome == "stopped"]
        return ("stopped" if stopped else "not-running",
                ", ".join(f"{w.component} pid {w.pid} {w.note}" for w in stopped) or "no worker of ours ran")

    def server() -> tuple[str, str]:
        result: ServerStop = server_service.stop(ctx, timeout=timeout)
        return result.outcome.value, f"pid {result.pid} {result.how}" if result.pid else result.how

    def postgres() -> tuple[str, str]:
        before = pg_service.status(ctx)
        if before.mode is not pg_service.PgMode.MANAGED:
            return "kept", f"external {before.url}: cmem-ops never stops it"
        if not before.running:
            return "not-running", "the managed cluster was not running"
        after = pg_service.stop(ctx, timeout=timeout)
        if after.running:
            raise ProcessError(f"the managed Postgres (pid {after.pid}) is still running", hint=after.hint)
        return "stopped", f"pid {before.pid}; data kept in {before.data_dir}"

    def store() -> tuple[str, str]:
        result = store_service.stop(ctx, timeout=timeout)
        if ctx.settings.redis_mode is not RedisMode.MANAGED:
            return "kept", result.message
        outcome = "stopped" if result.outcome is StopOutcome.STOPPED else "not-running"
        return outcome, result.message

    attempt("workers", workers)
    attempt("server", server)
    attempt("postgres", postgres)
    attempt("queue store", store)
    if errors:
        raise errors[0]
    return StackDown(tuple(timer.steps), round((time.monotonic() - t0) * 1000, 1))


def status(ctx: Context, *, timeout: float = 2.0) -> StackStatus:
    """Every part, never raising for a part being down."""
    runtime = find_runtime(ctx.paths)
    store = store_service.status(ctx, timeout=timeout)
    try:
        pg = pg_service.status(ctx)
    except OpsError as exc:
        pg = PgStatus(pg_service.PgMode.UNKNOWN, False, None, None, None, None, None, exc.message, exc.hint)
    srv = server_service.status(ctx, timeout=timeout)
    workers = worker_service.status(ctx)
    problems = []
    if runtime is None:
        problems.append("the claude-mem runtime is not installed: cmem-ops server install")
    if not store.running or store.problem:
        problems.append(f"queue store: {store.problem or 'not running'}")
    if not pg.running or pg.problem:
        problems.append(f"postgres: {pg.problem or 'not running'}")
    if not srv.running or srv.problem:
        problems.append(f"server: {srv.problem or 'not running'}")
    if workers.running == 0:
        problems.append("no worker of ours runs: queued events are not processed (cmem-ops worker start)")
    else:
        problems += [f"{w.component}: {w.note}" for w in workers.workers if not w.running]
    return StackStatus(store, pg, srv, workers, f"{runtime.version} ({runtime.interpreter})" if runtime else None,
                       tuple(problems))

