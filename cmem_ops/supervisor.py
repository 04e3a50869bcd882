"""Supervise detached children: one deadline for every wait, fail fast with the log tail, stop by identity.

Used for every process cmem-ops starts (queue store, Postgres, server, worker). Stopping only
ever signals a pid whose identity (start time + token, see pidfile.py) proves it is ours.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path

from .errors import OpsTimeoutError, ProcessError
from .logs import tail_lines
from .pidfile import PidRecord, identify
from .wait import Deadline, poll


def wait_ready(
    what: str,
    ready: Callable[[], bool],
    exited: Callable[[], int | None],
    deadline: Deadline,
    log_files: list[Path],
    timeout_hint: str,
    *,
    interval: float = 0.02,
    max_interval: float = 0.25,
) -> None:
    """Poll `ready` until true; raise at once with the log tail if the child exits, or on the deadline.

    `interval`/`max_interval` are poll()'s: a child that is ready in tens of ms wants a short ceiling.
    """

    def check() -> bool:
        code = exited()
        if code is not None:
            tail = "\n".join(tail_lines(log_files, 15))
            raise ProcessError(f"{what} exited with code {code} while starting:\n{tail}",
                               hint=f"read the whole log: {log_files[-1] if log_files else '(no log)'}")
        return ready()

    try:
        poll(check, deadline, what=f"{what} to become ready", hint=timeout_hint, interval=interval,
             max_interval=max_interval)
    except OpsTimeoutError as exc:
        tail = "\n".join(tail_lines(log_files, 15))
        raise OpsTimeoutError(f"{exc.message}:\n{tail}", hint=timeout_hint) from None


def wait_gone(record: PidRecord, deadline: Deadline) -> bool:
    """Wait until the process of `record` is gone (or a zombie); True when it went before the deadline."""
    try:
        poll(lambda: identify(record) is None, deadline, what=f"pid {record.pid} to exit")
    except OpsTimeoutError:
        return False
    return True


def terminate(record: PidRecord, grace_s: float = 10.0, kill_s: float = 5.0) -> str:
    """Stop our process: SIGTERM to its group, then SIGKILL. Returns how it ended.

    Refuses (returns "not ours") when the identity no longer matches.
    """
    if identify(record) is None:
        return "not running"
    _signal(record, signal.SIGTERM)
    if wait_gone(record, Deadline.after(grace_s)):
        return "terminated"
    if identify(record) is None:
        return "terminated"
    _signal(record, signal.SIGKILL)
    if wait_gone(record, Deadline.after(kill_s)):
        return "killed"
    raise ProcessError(f"{record.component} (pid {record.pid}) survived SIGKILL",
                       hint=f"inspect it: ps -o pid,stat,cmd -p {record.pid}")


def _signal(record: PidRecord, sig: signal.Signals) -> None:
    # We start children as session leaders: signal the whole group so helpers die too,
    # but only when the group is the one we created (pgid == pid).
    try:
        if os.getpgid(record.pid) == record.pid:
            os.killpg(record.pid, sig)
        else:
            os.kill(record.pid, sig)
    except ProcessLookupError:
        pass
