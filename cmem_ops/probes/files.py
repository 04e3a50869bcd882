"""The files cmem-ops and claude-mem keep: data dir writable, settings.json valid, logs present,
PID files that still name live processes of ours."""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

from ..errors import ConfigError
from ..paths import Paths
from ..pidfile import identify, read_pidfile
from ..settings import read_settings_file
from .base import Group, ProbeResult, Status, Stopwatch

PROBE_BYTES = 4096
FULL_BYTES = 1024 * 1024  # less than one AOF rewrite buffer: call the disk full
LOW_SPACE_BYTES = 64 * 1024 * 1024  # below this a queue store's AOF rewrite can fail


def probe_files(paths: Paths) -> list[ProbeResult]:
    """Check the data dir, settings.json, the log dir and every PID file we keep."""
    return [_data_dir(paths), _settings(paths), _logs(paths), *_pidfiles(paths)]


def _data_dir(paths: Paths) -> ProbeResult:
    sw = Stopwatch()
    where = str(paths.data_dir)
    if not paths.data_dir.exists():
        return ProbeResult("data dir", where, Status.WARN, "does not exist yet", hint="cmem-ops up", group=Group.FILES,
                           required=False).timed(sw.ms)
    try:
        # Write and sync real bytes: on a full disk an empty file can still be created.
        fd, name = tempfile.mkstemp(prefix=".cmem-ops-probe-", dir=paths.data_dir)
        try:
            os.write(fd, b"\0" * PROBE_BYTES)
            os.fsync(fd)
        finally:
            os.close(fd)
            os.unlink(name)
    except OSError as exc:
        fix = f"free disk space on {where} (df -h {where})" if exc.errno in (errno.ENOSPC, errno.EDQUOT) \
            else f"chown -R $(id -un) {where} && chmod 700 {where}"
        return ProbeResult("data dir", where, Status.FAIL, f"not writable: {exc.strerror}", hint=fix,
                           group=Group.FILES).timed(sw.ms)
    free = _free_bytes(paths.data_dir)
    if free is not None and free < FULL_BYTES:
        return ProbeResult("data dir", where, Status.FAIL, f"disk full: only {free // 1024} KiB free",
                           detail="the queue store refuses writes (MISCONF) once its disk is full",
                           hint=f"free disk space on {where} (df -h {where})", group=Group.FILES).timed(sw.ms)
    if free is not None and free < LOW_SPACE_BYTES:
        return ProbeResult("data dir", where, Status.WARN, f"disk nearly full: {free // (1024 * 1024)} MiB free",
                           detail="the queue store refuses writes (MISCONF) once its disk is full",
                           hint=f"free disk space on {where} (df -h {where})", group=Group.FILES,
                           required=False).timed(sw.ms)
    mode = paths.data_dir.stat().st_mode & 0o777
    if mode & 0o077:
        return ProbeResult("data dir", where, Status.WARN, f"writable, but mode {mode:o} lets other users in",
                           hint=f"chmod 700 {where}", group=Group.FILES, required=False).timed(sw.ms)
    return ProbeResult("data dir", where, Status.OK, "writable, private (0700)", group=Group.FILES).timed(sw.ms)


def _free_bytes(path: Path) -> int | None:
    try:
        st = os.statvfs(path)
    except (OSError, AttributeError):  # statvfs is POSIX-only
        return None
    return st.f_bavail * st.f_frsize


def _settings(paths: Paths) -> ProbeResult:
    sw = Stopwatch()
    where = str(paths.settings_file)
    try:
        values = read_settings_file(paths.settings_file)
    except ConfigError as exc:
        return ProbeResult("settings.json", where, Status.FAIL, exc.message, hint=exc.hint,
                           group=Group.FILES).timed(sw.ms)
    if not paths.settings_file.exists():
        return ProbeResult("settings.json", where, Status.OK, "absent (defaults apply)", group=Group.FILES).timed(sw.ms)
    mode = paths.settings_file.stat().st_mode & 0o777
    if mode & 0o077 and any("URL" in k for k in values):
        return ProbeResult("settings.json", where, Status.WARN, f"valid, but mode {mode:o} exposes the URLs' passwords",
                           hint=f"chmod 600 {where}", group=Group.FILES, required=False).timed(sw.ms)
    return ProbeResult("settings.json", where, Status.OK, f"valid JSON, {len(values)} keys", group=Group.FILES
                       ).timed(sw.ms)


def _logs(paths: Paths) -> ProbeResult:
    where = str(paths.logs_dir)
    if not paths.logs_dir.is_dir():
        return ProbeResult("logs", where, Status.WARN, "no log dir yet", hint="cmem-ops up", group=Group.FILES,
                           required=False)
    count = sum(1 for _ in paths.logs_dir.glob("*.log"))
    return ProbeResult("logs", where, Status.OK, f"{count} log files", group=Group.FILES)


def pidfile_locations(paths: Paths) -> list[Path]:
    """Every PID record cmem-ops keeps: the store's, and the identity records under run/."""
    found = [paths.redis_pid] if paths.redis_pid.exists() else []
    if paths.run_dir.is_dir():
        found += sorted(paths.run_dir.glob("*.json"))
    return found


def _pidfiles(paths: Paths) -> list[ProbeResult]:
    results = []
    for path in pidfile_locations(paths):
        record = read_pidfile(path)
        if record is None:
            results.append(ProbeResult("pid file", str(path), Status.WARN, "unreadable: not one of ours",
                                       hint=f"rm {path}", group=Group.FILES, required=False))
        elif identify(record) is None:
            results.append(ProbeResult("pid file", str(path), Status.WARN,
                                       f"stale: pid {record.pid} is no longer our {record.component}",
                                       detail="it is ignored (never signalled) and replaced on the next start",
                                       hint=f"cmem-ops {'store' if record.component == 'redis' else record.component} "
                                            "start", group=Group.FILES, required=False))
        else:
            results.append(ProbeResult("pid file", str(path), Status.OK, f"pid {record.pid} is our {record.component}",
                                       group=Group.FILES))
    return results
