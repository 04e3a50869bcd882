"""The managed cluster's acting parts: state file, initdb, start, stop, and finding our postmaster.

Identity: pg_ctl starts the postmaster with `-D <PGDATA> -c cluster_name=cmem-ops-<token>`; our
record <data dir>/run/postgres.json holds its pid, /proc start time and that marker. A pid is
signalled (through `pg_ctl stop`, as the cluster user) only when all three still match. A lost
record is re-adopted only from PGDATA's own postmaster.pid when that process carries our marker.
"""

from __future__ import annotations

import os
import secrets
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from ..errors import ConflictError, OpsTimeoutError, ProcessError
from ..logs import tail_lines
from ..paths import Paths, ensure_private_dir, private_lock, write_private_file
from ..pidfile import PidRecord, ProcInfo, identify, read_pidfile, read_proc, write_pidfile
from ..runner import Runner
from ..supervisor import wait_gone
from ..wait import Deadline
from .binaries import PgBinaries
from .commands import build_createdb, build_initdb, build_start, build_stop
from .config import (
    CONF_NAME,
    ClusterState,
    add_include,
    format_state,
    parse_marker,
    parse_postmaster_pid,
    parse_state,
    render_conf,
)
from .osuser import ClusterUser

COMPONENT = "postgres"


def state_dir(paths: Paths) -> Path:
    """<data dir>/postgres: cluster.json (secrets, 0600), the lock, and PGDATA when not root."""
    return paths.data_dir / "postgres"


def state_file(paths: Paths) -> Path:
    return state_dir(paths) / "cluster.json"


def record_file(paths: Paths) -> Path:
    """Our identity record of the running postmaster."""
    return paths.run_dir / "postgres.json"


def load_state(paths: Paths) -> ClusterState | None:
    """The persisted cluster state, or None before the first start."""
    try:
        return parse_state(state_file(paths).read_text(encoding="utf-8"))
    except OSError:
        return None


def save_state(paths: Paths, state: ClusterState) -> None:
    """Persist `state` atomically with mode 0600."""
    ensure_private_dir(state_dir(paths))
    write_private_file(state_file(paths), format_state(state))


@contextmanager
def cluster_lock(paths: Paths, *, create: bool = True) -> Iterator[None]:
    """Serialise start/stop of the managed cluster across processes (a stop: `create=False`, see paths.private_lock)."""
    with private_lock(state_dir(paths) / ".lock", create=create):
        yield


def new_password() -> str:
    """A fresh password for the cluster's superuser role (URL-safe)."""
    return secrets.token_hex(24)


def _give(path: Path, user: ClusterUser) -> None:
    if user.via_runuser:
        os.chown(path, user.uid, user.gid)


def _write_owned(path: Path, text: str, user: ClusterUser) -> None:
    write_private_file(path, text)
    _give(path, user)


def prepare_parent(pgdata: Path, user: ClusterUser) -> None:
    """Create PGDATA's parent, private to the cluster user (intermediate system dirs 0755, owned by us)."""
    parent = pgdata.parent
    if user.via_runuser:
        parent.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
        parent.mkdir(exist_ok=True, mode=0o700)
        os.chmod(parent, 0o700)
        _give(parent, user)
    else:
        ensure_private_dir(parent)


def run_initdb(runner: Runner, bins: PgBinaries, user: ClusterUser, state: ClusterState, log_file: Path,
               deadline: Deadline) -> None:
    """initdb PGDATA as the cluster user with the state's role and password (via a 0600 pwfile removed after)."""
    pgdata = Path(state.pgdata)
    if pgdata.exists() and any(pgdata.iterdir()):
        raise ConflictError(f"{pgdata} already holds files, but cmem-ops has no initialized cluster recorded there "
                            "(an interrupted initdb, or someone else's data)",
                            hint=f"move it away (mv {pgdata} {pgdata}.old), then cmem-ops postgres start")
    pwfile = pgdata.parent / f".pwfile.{os.getpid()}"
    _write_owned(pwfile, state.password + "\n", user)
    try:
        out = runner.run(build_initdb(bins, user, pgdata, pwfile, state.role), timeout=max(deadline.remaining(), 1),
                         cwd=pgdata.parent)
    finally:
        pwfile.unlink(missing_ok=True)
    _append_log(log_file, f"$ initdb -D {pgdata}\n{out.stdout}{out.stderr}")
    if not out.ok:
        detail = "\n".join((out.stderr or out.stdout).strip().splitlines()[-8:])
        raise ProcessError(f"initdb of {pgdata} failed (exit {out.returncode}):\n{detail}",
                           hint=f"read {log_file}; after fixing the cause, remove {pgdata} and run "
                                "cmem-ops postgres start")
    conf = pgdata / "postgresql.conf"
    _write_owned(conf, add_include(conf.read_text(encoding="utf-8")), user)


def write_conf(state: ClusterState, user: ClusterUser) -> None:
    """(Re)write cmem-ops.conf in PGDATA: loopback, the persisted port, no Unix socket."""
    _write_owned(Path(state.pgdata) / CONF_NAME, render_conf(state.port), user)


def _append_log(log_file: Path, text: str) -> None:
    ensure_private_dir(log_file.parent)
    with open(log_file, "a", encoding="utf-8") as fh:
        os.chmod(log_file, 0o600)
        fh.write(text if text.endswith("\n") else text + "\n")


def find_postmaster(pgdata: Path) -> tuple[ProcInfo | None, str | None]:
    """The live postmaster PGDATA/postmaster.pid names, and our marker in its command line (None when absent)."""
    try:
        parsed = parse_postmaster_pid((pgdata / "postmaster.pid").read_text(encoding="utf-8"))
    except OSError:
        return None, None
    if parsed is None:
        return None, None
    pid, datadir = parsed
    info = read_proc(pid)
    if info is None or info.zombie or str(pgdata) not in info.cmdline or Path(datadir) != pgdata:
        return None, None
    return info, parse_marker(info.cmdline)


def running_record(paths: Paths, state: ClusterState | None, adopt: bool = False) -> PidRecord | None:
    """Our record when its postmaster is alive and proven ours; re-adopted from postmaster.pid when `adopt`."""
    record = read_pidfile(record_file(paths))
    if record is not None and identify(record) is not None:
        return record
    if state is None:
        return None
    info, mark = find_postmaster(Path(state.pgdata))
    if info is None or mark is None:
        return None
    adopted = PidRecord(pid=info.pid, start_id=info.start_id, token=mark, component=COMPONENT, port=state.port,
                        binary=str(Path(state.bindir) / "postgres"), started_at=None,
                        extra={"pgdata": state.pgdata, "os_user": state.os_user, "version": state.version})
    if adopt:
        ensure_private_dir(paths.run_dir)
        write_pidfile(record_file(paths), adopted)
    return adopted


def start_postmaster(paths: Paths, runner: Runner, bins: PgBinaries, user: ClusterUser, state: ClusterState,
                     deadline: Deadline) -> PidRecord:
    """pg_ctl start -w as the cluster user, output into logs/postgres-<day>.log; record the postmaster's identity."""
    pgdata = Path(state.pgdata)
    info, mark = find_postmaster(pgdata)
    if info is not None:
        raise ConflictError(
            f"{pgdata} is in use by pid {info.pid} (`{info.cmdline[:80]}`), which cmem-ops did not start",
            hint=f"stop it: {' '.join(build_stop(bins, user, pgdata, 30))}",
        )
    token = secrets.token_hex(8)
    ensure_private_dir(paths.logs_dir)
    log_file = paths.log_file(COMPONENT)
    wait_s = int(max(deadline.remaining(), 1))
    with open(log_file, "ab") as log:
        os.chmod(log_file, 0o600)
        child = runner.spawn_detached(build_start(bins, user, pgdata, token, wait_s), log=log, cwd=pgdata.parent)
    try:
        code = child.wait(timeout=deadline.remaining() + 5)
    except Exception as exc:  # subprocess.TimeoutExpired: pg_ctl itself hung
        child.kill()
        child.wait(timeout=5)
        _abort_start(runner, bins, user, pgdata)
        raise OpsTimeoutError(f"PostgreSQL ({pgdata}) did not start before the deadline:\n{_tail(log_file)}",
                              hint=f"read the log: {log_file}; then cmem-ops postgres start --timeout 120") from exc
    if code != 0:
        _abort_start(runner, bins, user, pgdata)
        raise ProcessError(f"PostgreSQL ({pgdata}) failed to start (pg_ctl exit {code}):\n{_tail(log_file)}",
                           hint=f"read the whole log: {log_file}")
    info, mark = find_postmaster(pgdata)
    if info is None or mark is None or token not in mark:
        raise ProcessError(f"pg_ctl reported the cluster at {pgdata} started, but no postmaster of ours is running:"
                           f"\n{_tail(log_file)}", hint=f"read the whole log: {log_file}")
    record = PidRecord(pid=info.pid, start_id=info.start_id, token=mark, component=COMPONENT, port=state.port,
                       binary=str(bins.tool("postgres")), started_at=time.time(),
                       extra={"pgdata": state.pgdata, "os_user": user.name, "version": bins.version})
    ensure_private_dir(paths.run_dir)
    write_pidfile(record_file(paths), record)
    return record


def _tail(log_file: Path, n: int = 15) -> str:
    return "\n".join(tail_lines([log_file], n))


def _abort_start(runner: Runner, bins: PgBinaries, user: ClusterUser, pgdata: Path) -> None:
    # A postmaster that came up after pg_ctl gave up must not be left behind; it carries no proof of
    # identity yet other than PGDATA, which is ours (we just started it there).
    info, mark = find_postmaster(pgdata)
    if info is not None and mark is not None:
        runner.run(user.wrap([str(bins.tool("pg_ctl")), "stop", "-D", str(pgdata), "-m", "immediate", "-w"]),
                   timeout=30, cwd=pgdata.parent)


def create_database(runner: Runner, bins: PgBinaries, state: ClusterState, deadline: Deadline) -> None:
    """createdb <database> owned by the role, over loopback TCP; an existing database is fine."""
    out = runner.run(build_createdb(bins, state.port, state.role, state.database),
                     timeout=max(deadline.remaining(), 5),
                     env={"PGPASSWORD": state.password, "PGCONNECT_TIMEOUT": "10"})
    if not out.ok and "already exists" not in out.stderr:
        raise ProcessError(f"createdb {state.database} on 127.0.0.1:{state.port} failed: {out.stderr.strip()}",
                           hint="cmem-ops postgres status   (then cmem-ops postgres start again)")


def stop_postmaster(paths: Paths, runner: Runner, record: PidRecord, bins: PgBinaries | None, user: ClusterUser,
                    state: ClusterState, timeout: float) -> str:
    """Fast shutdown of our postmaster (identity already proven): pg_ctl stop as the cluster user, signals last.

    Returns how it ended: "pg_ctl stop -m fast", "SIGINT (fast shutdown)" or "SIGQUIT (immediate shutdown)".
    """
    pgdata = Path(state.pgdata)
    deadline = Deadline.after(timeout)
    how = "pg_ctl stop -m fast"
    info, _ = find_postmaster(pgdata)
    if bins is not None and info is not None and info.pid == record.pid:
        runner.run(build_stop(bins, user, pgdata, int(max(deadline.remaining(), 1))),
                   timeout=deadline.remaining() + 5, cwd=pgdata.parent)
    if not wait_gone(record, Deadline.after(max(deadline.remaining(), 0.5))):
        how = "SIGINT (fast shutdown)"
        _signal_if_ours(record, signal.SIGINT)
        if not wait_gone(record, Deadline.after(10)):
            how = "SIGQUIT (immediate shutdown)"
            _signal_if_ours(record, signal.SIGQUIT)
            if not wait_gone(record, Deadline.after(10)):
                raise ProcessError(f"PostgreSQL (pid {record.pid}, {pgdata}) did not stop",
                                   hint=f"inspect it: ps -o pid,stat,cmd -p {record.pid}")
    record_file(paths).unlink(missing_ok=True)
    return how


def _signal_if_ours(record: PidRecord, sig: signal.Signals) -> None:
    if identify(record) is None:
        return
    with suppress(ProcessLookupError):
        os.kill(record.pid, sig)
