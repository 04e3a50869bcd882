"""Stop one of our servers without losing an acknowledged write: SIGCONT, SHUTDOWN, then signals.

Order: a stopped process (state T) first gets SIGCONT, or nothing else we send can reach it;
then SHUTDOWN with our password (it flushes and fsyncs the AOF and writes the final RDB); then
SIGTERM to its group, SIGKILL last.

A full disk. SHUTDOWN then fails ("Errors trying to SHUTDOWN", or MISCONF) because the final RDB
snapshot (`save 60 1`) cannot be written, and SIGTERM fails the same way. `SHUTDOWN NOSAVE` skips
only that snapshot; it still flushes and fsyncs the AOF. The store runs `appendonly yes` with
`appendfsync everysec`: the reply to a write is sent only after beforeSleep() has write(2)n the
command to the AOF file, so every acknowledged write is in the AOF *unless* that write(2) failed.
When it fails (ENOSPC), Valkey/Redis keep the unwritten commands in the AOF buffer, answer later
writes with MISCONF, and retry every loop; the commands whose write failed were already
acknowledged. So NOSAVE loses nothing acknowledged exactly when INFO's `aof_buffer_length` is 0:
the RDB it skips is a compaction of what the AOF already holds. With a non-empty buffer we refuse
to stop and leave the server running, retrying its AOF write: after the user frees space, the
buffer drains and `store stop` succeeds with everything kept. We never send SIGKILL to a server
that answers and refused to stop for that reason.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import NamedTuple

from ..errors import ProcessError
from ..resp import RespError, parse_info
from ..store_client import open_store
from ..supervisor import terminate, wait_gone
from ..wait import Deadline, poll
from .identity import ServerProcess
from .state import COMPONENT, managed_target

_REFUSALS = ("MISCONF", "ERRORS TRYING TO SHUTDOWN")


class NosaveVerdict(NamedTuple):
    """Whether `SHUTDOWN NOSAVE` keeps every acknowledged write, and why (pure result)."""

    safe: bool
    why: str


def judge_nosave(info: dict[str, str]) -> NosaveVerdict:
    """Decide from INFO persistence whether skipping the final RDB loses an acknowledged write (pure)."""
    if info.get("aof_enabled") != "1":
        return NosaveVerdict(False, "the AOF is off, so the final RDB snapshot is the only copy of recent writes")
    pending = info.get("aof_buffer_length", "")
    if not pending.isdigit():
        return NosaveVerdict(False, "the server does not report aof_buffer_length, so we cannot prove the AOF "
                                    "holds every acknowledged write")
    if int(pending) > 0:
        return NosaveVerdict(False, f"{pending} bytes of acknowledged writes are not yet in the AOF "
                                    f"(aof_last_write_status:{info.get('aof_last_write_status', '?')})")
    return NosaveVerdict(True, "every acknowledged write is already in the AOF (aof_buffer_length:0); only the "
                               "final RDB snapshot is skipped")


def free_bytes(directory: Path) -> int | None:
    """Bytes available to us on the filesystem of `directory`, or None when it cannot be read."""
    try:
        st = os.statvfs(directory)
    except OSError:
        return None
    return st.f_bavail * st.f_frsize


LOW_SPACE = 16 * 1024 * 1024  # below this the final snapshot (and the AOF) cannot be trusted to fit


def describe_cause(data_dir: Path, free: int | None) -> str:
    """Why a save failed, as far as the filesystem tells: a full disk, or something else in the log (pure)."""
    if free is not None and free < LOW_SPACE:
        return f"the disk is full ({free} bytes free): free disk space on {data_dir} (df -h {data_dir})"
    return (f"it cannot write its snapshot in {data_dir} ({free if free is not None else '?'} bytes free): "
            "read why in the log (cmem-ops store logs -n 20)")


def resume(server: ServerProcess, deadline: Deadline) -> bool:
    """SIGCONT a stopped server and wait (bounded) until it runs; True when we had to."""
    if not server.stopped:
        return False
    try:
        os.kill(server.pid, signal.SIGCONT)
    except ProcessLookupError:
        return True
    from ..pidfile import read_proc

    def running() -> bool:
        info = read_proc(server.pid)
        return info is None or not info.stopped

    poll(running, Deadline.after(min(deadline.remaining(), 2.0)), what=f"pid {server.pid} to continue")
    return True


def _shutdown(port: int, password: str, *args: str) -> str | None:
    """Send SHUTDOWN [args]; the server's refusal text, or None when it closed the connection (stopping)."""
    try:
        with open_store(managed_target(port, password), 2.0) as conn:
            conn.command("SHUTDOWN", *args)
    except RespError as exc:
        return str(exc)
    except OSError:
        return None
    return None


def _persistence(port: int, password: str) -> dict[str, str]:
    try:
        with open_store(managed_target(port, password), 2.0) as conn:
            return parse_info(conn.text("INFO", "persistence"))
    except (OSError, RespError):
        return {}


def stop_server(server: ServerProcess, password: str | None, data_dir: Path, deadline: Deadline) -> str:
    """Stop `server` (proven ours by the caller) and return how; raise when stopping would lose writes."""
    how = []
    if resume(server, deadline):
        how.append("SIGCONT")
    record = server.record(COMPONENT)
    if server.port and password is not None:
        refusal = _shutdown(server.port, password)
        if refusal is not None and any(r in refusal.upper() for r in _REFUSALS):
            verdict = judge_nosave(_persistence(server.port, password))
            cause = describe_cause(data_dir, free_bytes(data_dir))
            if not verdict.safe:
                raise ProcessError(
                    f"the managed store (pid {server.pid}) refused SHUTDOWN: {refusal}; {cause}, and {verdict.why}; "
                    "it is left running so nothing acknowledged is lost",
                    hint=f"{cause.split(': ', 1)[-1]}, then: cmem-ops store stop")
            second = _shutdown(server.port, password, "NOSAVE")
            how.append(f"SHUTDOWN was refused ({refusal}): {cause}; stopped with SHUTDOWN NOSAVE because "
                       f"{verdict.why}" if second is None else f"SHUTDOWN NOSAVE refused: {second}")
        else:
            how.append("SHUTDOWN" if refusal is None else f"SHUTDOWN refused: {refusal}")
    if wait_gone(record, Deadline.after(max(min(deadline.remaining(), 10.0), 0.5))):
        return ", ".join(how) or "exited"
    how.append(terminate(record, grace_s=max(deadline.remaining(), 1.0)))
    return ", ".join(how)
