"""PID files that prove identity: a pid is trusted only when its start time and token still match.

A record holds the pid, the process start identity (Linux: field 22 of /proc/<pid>/stat, the
start time in clock ticks; elsewhere: `ps -o lstart`) and a random token the process was started
with and that shows in its command line. A stale file whose pid now belongs to another process
fails the check, so nothing that is not ours is ever signalled.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NamedTuple

from .paths import write_private_file

PROC_ROOT = Path("/proc")


class ProcInfo(NamedTuple):
    """What the OS says about a live pid."""

    pid: int
    start_id: str
    cmdline: str
    zombie: bool
    state: str = "?"  # one letter of /proc/<pid>/stat: R S D T t Z X ...

    @property
    def stopped(self) -> bool:
        """True when the process is stopped by a signal (SIGSTOP/SIGTSTP: state T) or traced (t)."""
        return self.state in ("T", "t")


class PidRecord(NamedTuple):
    """Our record of a process we started."""

    pid: int
    start_id: str
    token: str
    component: str
    port: int | None = None
    binary: str | None = None
    started_at: float | None = None
    extra: dict[str, Any] | None = None


def read_proc(pid: int, proc_root: Path = PROC_ROOT) -> ProcInfo | None:
    """Describe live `pid`, or None when no such process exists."""
    if pid <= 0:
        return None
    if proc_root.is_dir():
        return _read_linux_proc(pid, proc_root)
    return _read_ps(pid)


def read_environ(pid: int, proc_root: Path = PROC_ROOT) -> dict[str, str] | None:
    """The environment `pid` was started with (/proc/PID/environ), or None when it cannot be read.

    It may hold secrets: callers judge it and print none of its values.
    """
    try:
        raw = (proc_root / str(pid) / "environ").read_bytes()
    except OSError:  # gone, not ours (EACCES), or no /proc
        return None
    pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    return {key.decode("utf-8", "replace"): value.decode("utf-8", "replace") for key, value in pairs}


def _read_linux_proc(pid: int, proc_root: Path) -> ProcInfo | None:
    base = proc_root / str(pid)
    try:
        stat = (base / "stat").read_text()
        cmdline = (base / "cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    except OSError:  # ESRCH while the process exits
        return None
    # comm (field 2) may hold spaces and parens: split after the last ')'.
    fields = stat[stat.rfind(")") + 2:].split()
    state, start_ticks = fields[0], fields[19]
    text = cmdline.replace(b"\0", b" ").decode("utf-8", "replace").strip()
    return ProcInfo(pid=pid, start_id=f"ticks:{start_ticks}", cmdline=text, zombie=state in ("Z", "X"), state=state)


def _read_ps(pid: int) -> ProcInfo | None:
    from .errors import OpsError
    from .runner import SubprocessRunner  # macOS/BSD only: keep subprocess off Linux's import path

    try:
        out = SubprocessRunner().run(["ps", "-o", "stat=,lstart=,command=", "-p", str(pid)], timeout=5)
    except OpsError:
        return None
    line = out.stdout.strip()
    if not out.ok or not line:
        return None
    parts = line.split(None, 6)  # stat, then lstart is 5 words: Mon Nov 23 12:00:00 2026
    if len(parts) < 6:
        return None
    return ProcInfo(pid=pid, start_id="lstart:" + " ".join(parts[1:6]),
                    cmdline=parts[6] if len(parts) > 6 else "", zombie=parts[0].startswith("Z"), state=parts[0][:1])


def identify(record: PidRecord, proc_root: Path = PROC_ROOT) -> ProcInfo | None:
    """Return the live process when `record` still describes it (same start, token in cmdline), else None."""
    info = read_proc(record.pid, proc_root)
    if info is None or info.zombie:
        return None
    if info.start_id != record.start_id:
        return None
    if record.token and record.token not in info.cmdline:
        return None
    return info


def describe_pid(pid: int, proc_root: Path = PROC_ROOT) -> str:
    """A short description of whatever holds `pid` now, for messages."""
    info = read_proc(pid, proc_root)
    if info is None:
        return f"pid {pid} is not running"
    return f"pid {pid} is now `{info.cmdline[:80] or '?'}`"


def write_pidfile(path: Path, record: PidRecord) -> None:
    """Write `record` as JSON, atomically, mode 0600 (not fsynced: a crash that loses it took the process too)."""
    write_private_file(path, json.dumps(record._asdict(), indent=2) + "\n", durable=False)


def read_pidfile(path: Path) -> PidRecord | None:
    """Read a record; None when the file is absent or unreadable as ours (it is then stale)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return PidRecord(
            pid=int(data["pid"]), start_id=str(data["start_id"]), token=str(data.get("token", "")),
            component=str(data.get("component", "")), port=data.get("port"), binary=data.get("binary"),
            started_at=data.get("started_at"), extra=data.get("extra"),
        )
    except (OSError, ValueError, KeyError, TypeError, json.JSONDecodeError):  # absent, a directory, garbage
        return None
