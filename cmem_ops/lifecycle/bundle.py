"""Processes of claude-mem's server bundle that cmem-ops starts: spawn with an identity, find ours, stop ours.

Identity. claude-mem's own pid files cannot be trusted (its worker deletes the HTTP server's
`.server-beta.pid` when it stops), so cmem-ops keeps one record per process under <data>/run/
(`server.json`, `worker-1.json`, ...): pid, start time (/proc/<pid>/stat field 22), and a random
token. The token is passed as an extra argument, `--cmem-ops-token=<hex>`, which the bundle ignores
(its `start` only looks for --daemon, its `worker start` only at the first two words) and which
shows verbatim in /proc/<pid>/cmdline under both bun and node (neither rewrites its argv). The
environment is not used: /proc/<pid>/environ is unreadable for other users and frozen at exec.
A record is trusted only when the pid is alive, not a zombie, started at the recorded time and
carries the token: a pid reused by an unrelated process is never signalled.

Logs. Each process's stdout/stderr goes to logs/<component>-YYYY-MM-DD.log (the worker prints one
`worker-running` line there); claude-mem itself logs to the shared logs/claude-mem-YYYY-MM-DD.log.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from subprocess import Popen
from typing import Protocol

from ..errors import ProcessError
from ..paths import Paths, ensure_private_dir, private_lock
from ..pidfile import PidRecord, identify, read_pidfile, read_proc, write_pidfile
from ..runner import Runner, build_env
from ..supervisor import terminate

TOKEN_FLAG = "--cmem-ops-token="
SERVER = "server"
WORKER_PREFIX = "worker-"
CLAUDE_MEM_LOG = "claude-mem"


class BundleRuntime(Protocol):
    """What is needed of runtime.Runtime: the argv and its environment, the bundle path and version."""

    @property
    def bundle(self) -> Path: ...

    @property
    def version(self) -> str: ...

    def argv(self, *args: str) -> list[str]: ...

    def env(self) -> dict[str, str]: ...


@dataclass(frozen=True)
class Spawned:
    """A process just started: its record, its Popen (for exit checks), its log and where the log began."""

    record: PidRecord
    child: Popen[bytes]
    log_file: Path
    log_offset: int


def record_path(paths: Paths, component: str) -> Path:
    """run/<component>.json: cmem-ops' own identity record of that process."""
    return paths.run_dir / f"{component}.json"


def worker_component(index: int) -> str:
    """worker-1, worker-2, ... (the names `cmem-ops status` reads)."""
    return f"{WORKER_PREFIX}{index}"


def worker_index(component: str) -> int | None:
    """1 for worker-1; None for anything else (pure)."""
    tail = component.removeprefix(WORKER_PREFIX)
    return int(tail) if component.startswith(WORKER_PREFIX) and tail.isdigit() else None


def worker_components(paths: Paths) -> list[str]:
    """Every worker with a record under run/, by index."""
    if not paths.run_dir.is_dir():
        return []
    found = [(worker_index(p.stem), p.stem) for p in paths.run_dir.glob(f"{WORKER_PREFIX}*.json")]
    return [name for index, name in sorted((i, n) for i, n in found if i is not None)]


def read_record(paths: Paths, component: str) -> PidRecord | None:
    """The record of `component` (alive or not), or None."""
    return read_pidfile(record_path(paths, component))


def running_record(paths: Paths, component: str) -> PidRecord | None:
    """The record of `component` when its process is alive and proven ours, else None."""
    record = read_record(paths, component)
    if record is None or identify(record) is None:
        return None
    return record


def build_argv(runtime: BundleRuntime, args: Sequence[str], token: str) -> list[str]:
    """The bundle argv with the identity token appended (pure)."""
    return runtime.argv(*args, f"{TOKEN_FLAG}{token}")


def log_files(paths: Paths, component_log: str) -> list[Path]:
    """The logs worth showing when `component_log` fails: claude-mem's shared log, then the process's own."""
    return paths.log_files(CLAUDE_MEM_LOG)[-1:] + paths.log_files(component_log)[-1:]


@contextmanager
def lifecycle_lock(paths: Paths, *, create: bool = True) -> Iterator[None]:
    """Serialise starts and stops of the server and workers across cmem-ops processes.

    A stop passes `create=False`: with no run dir there is no record to act on, and nothing is created.
    """
    with private_lock(paths.run_dir / ".lifecycle.lock", create=create):
        yield


def new_token() -> str:
    """A fresh identity token."""
    return secrets.token_hex(8)


def make_record(pid: int, token: str, component: str, runtime: BundleRuntime, port: int | None,
                extra: dict[str, object]) -> PidRecord:
    """The record for a live `pid` (its start time read now)."""
    info = read_proc(pid)
    return PidRecord(pid=pid, start_id=info.start_id if info else "", token=token, component=component, port=port,
                     binary=str(runtime.bundle), started_at=time.time(),
                     extra={"version": runtime.version, **extra})


def spawn(paths: Paths, runner: Runner, runtime: BundleRuntime, component: str, args: Sequence[str],
          env: Mapping[str, str], *, log_stem: str, port: int | None = None,
          extra: dict[str, object] | None = None) -> Spawned:
    """Start the bundle with `args` detached (own session), output to its dated log; write its record."""
    for directory in (paths.run_dir, paths.logs_dir):
        ensure_private_dir(directory)
    token = new_token()
    log_file = paths.log_file(log_stem)
    with open(log_file, "ab") as log:
        os.chmod(log_file, 0o600)
        offset = log.tell()
        child = runner.spawn_detached(build_argv(runtime, args, token), log=log, env={**runtime.env(), **env},
                                      cwd=paths.data_dir)
    record = make_record(child.pid, token, component, runtime, port, {**(extra or {}), "log": str(log_file)})
    write_pidfile(record_path(paths, component), record)
    return Spawned(record, child, log_file, offset)


def exec_foreground(paths: Paths, runtime: BundleRuntime, component: str, args: Sequence[str],
                    env: Mapping[str, str], *, port: int | None = None, extra: dict[str, object] | None = None
                    ) -> None:
    """Replace this process with the bundle (for systemd `Type=simple`): same pid, same start time.

    The record is written for our own pid before the exec; exec keeps the pid and the /proc start time,
    and the token lands in the new command line, so the record proves identity afterwards. Never returns.
    """
    ensure_private_dir(paths.run_dir)
    token = new_token()
    argv = build_argv(runtime, args, token)
    write_pidfile(record_path(paths, component), make_record(os.getpid(), token, component, runtime, port,
                                                             {**(extra or {}), "log": "foreground (stdout)"}))
    os.chdir(paths.data_dir)
    try:
        # Not a subprocess: the process image is replaced, so Runner (which spawns children) does not apply.
        os.execve(argv[0], argv, build_env({**runtime.env(), **env}))
    except OSError as exc:
        record_path(paths, component).unlink(missing_ok=True)
        raise ProcessError(f"cannot run {argv[0]}: {exc.strerror or exc}",
                           hint="reinstall the runtime: cmem-ops server install") from None


def stop_component(paths: Paths, component: str, grace_s: float) -> tuple[str, int | None]:
    """Stop `component` when its record proves it is ours: (how it ended, pid). Removes the record."""
    path = record_path(paths, component)
    record = read_pidfile(path)
    if record is None:
        if path.exists():
            path.unlink()
            return "unreadable record removed; nothing signalled", None
        return "not running", None
    if identify(record) is None:
        path.unlink(missing_ok=True)
        return f"not running (stale record for pid {record.pid} removed; nothing signalled)", record.pid
    how = terminate(record, grace_s=grace_s)
    path.unlink(missing_ok=True)
    return how, record.pid


def abandon(paths: Paths, record: PidRecord) -> None:
    """A start that failed: stop what we spawned (if it still runs) and drop its record."""
    if identify(record) is not None:
        terminate(record, grace_s=3.0, kill_s=5.0)
    record_path(paths, record.component).unlink(missing_ok=True)


def uptime_s(record: PidRecord) -> int | None:
    """Seconds since the record's process started (from the record's wall-clock start)."""
    return int(time.time() - record.started_at) if record.started_at else None
