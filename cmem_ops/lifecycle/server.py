"""The claude-mem HTTP server process: start (detached or --foreground), stop, restart, status.

start: runtime installed -> config resolved and pinned -> environment validated (claude-mem's rules)
-> queue store and Postgres answer -> port free -> spawn `bundle start` with generation disabled ->
wait, against one deadline, for /healthz 200 and /v1/info (Postgres initialized, BullMQ queue manager
active); if the child exits first, fail at once with the log tail. Identity: see bundle.py.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from enum import StrEnum

from ..claudemem.api import ApiClient, info_prefix, info_ready
from ..claudemem.env import StackConfig, build_server_env
from ..claudemem.validation import validate_server_env
from ..context import Context
from ..errors import ConflictError, OpsError
from ..http_client import Failure, HttpError
from ..paths import Paths
from ..pidfile import identify, read_proc
from ..probes.base import ProbeResult
from ..store.ports import port_answers
from ..supervisor import wait_ready
from ..wait import Deadline
from . import bundle
from .bundle import SERVER, lifecycle_lock
from .prestart import (
    check_dependencies,
    check_queue_store,
    child_env,
    is_docker,
    prepare,
)
from .stack_config import load_config

START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 20.0
PROBE_TIMEOUT_S = 2.0
CLAUDE_MEM_PIDFILE = ".server-beta.pid"


class Outcome(StrEnum):
    STARTED = "started"
    ALREADY_RUNNING = "already-running"
    STOPPED = "stopped"
    NOT_RUNNING = "not-running"


@dataclass(frozen=True)
class ServerStart:
    """What `cmem-ops server start` did."""

    outcome: Outcome
    pid: int
    url: str
    prefix: str
    version: str
    elapsed_ms: float
    checks: tuple[ProbeResult, ...] = ()


@dataclass(frozen=True)
class ServerStop:
    """What `cmem-ops server stop` did."""

    outcome: Outcome
    pid: int | None
    how: str


@dataclass(frozen=True)
class ServerStatus:
    """The HTTP server as cmem-ops sees it: our process, its health, what /v1/info says."""

    running: bool
    pid: int | None
    url: str | None
    healthy: bool | None = None
    ready: bool | None = None
    info: str | None = None
    prefix: str | None = None
    version: str | None = None
    uptime_s: int | None = None
    claude_mem_pidfile: str | None = None
    problem: str | None = None
    hint: str | None = None


def validation(ctx: Context, cfg: StackConfig) -> list[ProbeResult]:
    """claude-mem's startup rules over the exact environment the HTTP process would get."""
    return validate_server_env(child_env(ctx, build_server_env(cfg)), docker=is_docker(ctx))


def http_ready(client: ApiClient, deadline: Deadline) -> bool:
    """One readiness poll: /healthz 200 and /v1/info ready (each bounded by the deadline)."""
    budget = max(min(PROBE_TIMEOUT_S, deadline.remaining()), 0.05)
    try:
        if client.healthz(timeout=budget).status != 200:
            return False
        info = client.info(timeout=max(min(PROBE_TIMEOUT_S, deadline.remaining()), 0.05))
    except HttpError:
        return False
    return info.status == 200 and info_ready(info.body)[0]


def start(ctx: Context, *, timeout: float = START_TIMEOUT_S, foreground: bool = False) -> ServerStart:
    """Start our HTTP server (a no-op when ours already answers); with `foreground`, exec it in this process."""
    t0 = time.monotonic()
    deadline = Deadline.after(timeout)
    ready = prepare(ctx, "server", validation)
    ctx, cfg, checks, runtime = ready.ctx, ready.cfg, ready.checks, ready.runtime
    client = ApiClient(cfg.base_url)
    with lifecycle_lock(ctx.paths):
        existing = bundle.running_record(ctx.paths, SERVER)
        if existing is not None and foreground:
            raise ConflictError(f"the server already runs outside this unit (pid {existing.pid})",
                                hint="cmem-ops server stop   (then let the service manager start it)")
        if existing is not None:
            if existing.port == cfg.port and http_ready(client, Deadline.after(PROBE_TIMEOUT_S * 2)):
                return ServerStart(Outcome.ALREADY_RUNNING, existing.pid, cfg.base_url, cfg.prefix,
                                   str((existing.extra or {}).get("version", runtime.version)),
                                   (time.monotonic() - t0) * 1000, tuple(checks))
            raise ConflictError(f"our server (pid {existing.pid}) runs but does not answer as configured on "
                                f"{cfg.base_url}", hint="cmem-ops server restart")
        check_dependencies(cfg)
        foreign = foreign_claude_mem_server(ctx.paths)
        if foreign is not None:
            raise ConflictError(f"claude-mem's own pid file names a running server not started by cmem-ops "
                                f"({foreign}); claude-mem's `start` would exit without starting another",
                                hint="stop it with the same runtime: bun --no-install <bundle> stop   "
                                     "(or `claude-mem server stop`), then cmem-ops server start")
        if port_answers(cfg.host, cfg.port):
            raise ConflictError(f"port {cfg.port} already answers on {cfg.host}: {describe_listener(cfg)}; it is "
                                "not a server cmem-ops started (claude-mem's `start` would exit silently)",
                                hint=f"stop whatever listens there (ss -ltnp 'sport = :{cfg.port}'), or remove "
                                     f"CLAUDE_MEM_SERVER_PORT from {ctx.paths.settings_file} to pick a new port")
        env = build_server_env(cfg)
        extra: dict[str, object] = {"prefix": cfg.prefix, "interpreter": runtime.interpreter}
        if foreground:
            bundle.exec_foreground(ctx.paths, runtime, SERVER, ["start"], env, port=cfg.port, extra=extra)
        spawned = bundle.spawn(ctx.paths, ctx.runner, runtime, SERVER, ["start"], env, log_stem=SERVER,
                               port=cfg.port, extra=extra)
        try:
            wait_ready(f"the claude-mem server (pid {spawned.record.pid})",
                       lambda: http_ready(client, deadline), spawned.child.poll, deadline,
                       bundle.log_files(ctx.paths, SERVER),
                       timeout_hint="read the logs: cmem-ops logs claude-mem -n 50; cmem-ops logs server")
        except BaseException:
            bundle.abandon(ctx.paths, spawned.record)
            raise
    return ServerStart(Outcome.STARTED, spawned.record.pid, cfg.base_url, cfg.prefix, runtime.version,
                       (time.monotonic() - t0) * 1000, tuple(checks))


def describe_listener(cfg: StackConfig) -> str:
    """What answers on the server port, for conflict messages (never raises)."""
    try:
        resp = ApiClient(cfg.base_url).healthz(timeout=1.0)
    except HttpError:
        return "a program that does not answer HTTP"
    if resp.status == 200 and resp.body.get("status") == "ok":
        return f"a claude-mem server ({resp.body.get('runtime', 'unknown runtime')})"
    return f"an HTTP server answering /healthz with {resp.status}"


def stop(ctx: Context, *, timeout: float = STOP_TIMEOUT_S) -> ServerStop:
    """Stop our HTTP server (SIGTERM to its group, SIGKILL after `timeout`); anything not ours is left alone."""
    with lifecycle_lock(ctx.paths, create=False):
        how, pid = bundle.stop_component(ctx.paths, SERVER, grace_s=timeout)
    if how in ("terminated", "killed"):
        _remove_stale_claude_mem_pidfiles(ctx.paths, pid)
        return ServerStop(Outcome.STOPPED, pid, how)
    return ServerStop(Outcome.NOT_RUNNING, pid, how)


def restart(ctx: Context, *, timeout: float = START_TIMEOUT_S) -> ServerStart:
    """Stop (if running) and start again on the same port and prefix."""
    stop(ctx, timeout=STOP_TIMEOUT_S)
    return start(ctx.reload(), timeout=timeout)


def _remove_stale_claude_mem_pidfiles(paths: Paths, pid: int | None) -> None:
    """After a SIGKILL claude-mem's own pid files still name the dead server; remove them only when they do."""
    pidfile = paths.data_dir / CLAUDE_MEM_PIDFILE
    try:
        named = int(json.loads(pidfile.read_text(encoding="utf-8")).get("pid"))
    except (OSError, ValueError, TypeError, AttributeError):
        return
    if pid is not None and named == pid:
        for name in (CLAUDE_MEM_PIDFILE, ".server-beta.port", ".server-beta.runtime.json"):
            (paths.data_dir / name).unlink(missing_ok=True)


def foreign_claude_mem_server(paths: Paths) -> str | None:
    """`pid N, port P` when claude-mem's .server-beta.pid names a live bundle process that is not ours, else None."""
    try:
        data = json.loads((paths.data_dir / CLAUDE_MEM_PIDFILE).read_text(encoding="utf-8"))
        pid = int(data.get("pid"))
    except (OSError, ValueError, TypeError, AttributeError):
        return None
    info = read_proc(pid)
    if info is None or info.zombie or "server-service" not in info.cmdline:
        return None  # gone or reused: claude-mem itself ignores such a file (its start token no longer matches)
    return f"pid {pid}, port {data.get('port')}"


def claude_mem_pidfile_state(paths: Paths, pid: int | None) -> str:
    """'present' (names our pid), 'missing', or 'names pid N' (pure over the file)."""
    try:
        named = json.loads((paths.data_dir / CLAUDE_MEM_PIDFILE).read_text(encoding="utf-8")).get("pid")
    except FileNotFoundError:
        return "missing"
    except (OSError, ValueError, AttributeError):
        return "unreadable"
    return "present" if pid is not None and named == pid else f"names pid {named}"


def status(ctx: Context, *, timeout: float = PROBE_TIMEOUT_S) -> ServerStatus:
    """Our record first (claude-mem's pid files may have been deleted by its worker), then HTTP; never raises
    for the server itself."""
    record = bundle.read_record(ctx.paths, SERVER)
    alive = record is not None and identify(record) is not None
    try:
        cfg = load_config(ctx)
    except OpsError as exc:
        return ServerStatus(alive, record.pid if alive and record else None, None, problem=exc.message,
                            hint=exc.hint)
    port = record.port if alive and record and record.port else cfg.port
    url = StackConfig(cfg.data_dir, None, None, cfg.prefix, cfg.host, port).base_url if port else None
    if not alive or record is None:
        note = None
        if port and port_answers(cfg.host, port):
            note = (f"{url} answers, but not from a server cmem-ops started ({describe_listener(cfg)})")
        return ServerStatus(False, None, url, problem=note or ("not started by cmem-ops" if record is None
                            else f"not running (last pid {record.pid})"),
                            hint="cmem-ops server start   (or cmem-ops stack up)")
    extra = record.extra or {}
    base = dict(running=True, pid=record.pid, url=url, version=str(extra.get("version") or "") or None,
                uptime_s=bundle.uptime_s(record),
                claude_mem_pidfile=claude_mem_pidfile_state(ctx.paths, record.pid))
    client = ApiClient(url or cfg.base_url)
    try:
        health = client.healthz(timeout=timeout)
    except HttpError as exc:
        return ServerStatus(healthy=False, problem=f"GET /healthz: {exc.detail}",
                            hint="cmem-ops server restart; read cmem-ops logs claude-mem", **base)  # type: ignore[arg-type]
    if health.status != 200:
        return ServerStatus(healthy=False, problem=f"GET /healthz answered {health.status}",
                            hint="read the log: cmem-ops logs claude-mem -n 50", **base)  # type: ignore[arg-type]
    try:
        info = client.info(timeout=timeout)
    except HttpError as exc:
        if exc.kind is Failure.TIMEOUT:
            cause, hint = info_hang_cause(cfg)
            return ServerStatus(healthy=True, ready=False, problem=f"GET /v1/info hangs: {cause}", hint=hint,
                                **base)  # type: ignore[arg-type]
        return ServerStatus(healthy=True, ready=False, problem=f"GET /v1/info: {exc.detail}",
                            hint="read the log: cmem-ops logs claude-mem -n 50", **base)  # type: ignore[arg-type]
    ready, summary = info_ready(info.body)
    return ServerStatus(healthy=True, ready=ready, info=summary, prefix=info_prefix(info.body),
                        problem=None if ready else summary,
                        hint=None if ready else "cmem-ops doctor", **base)  # type: ignore[arg-type]


def info_hang_cause(cfg: StackConfig) -> tuple[str, str]:
    """Why /v1/info hangs: it waits on the queue store. Say so when the store does not answer (never raises)."""
    try:
        check_queue_store(cfg, timeout=1.0)
    except OpsError as exc:
        return (f"the queue store (Valkey) does not answer, and /v1/info waits for it: {exc.message}",
                exc.hint or "cmem-ops store start")
    return "the queue store answers, but the server does not", "cmem-ops server restart"
