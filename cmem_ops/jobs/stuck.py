"""Jobs stuck `processing`: in Postgres the row says a worker holds it; in BullMQ nobody live does.

A worker SIGKILLed mid-job leaves its Postgres row `processing` (locked_by = `server-<worker pid>`)
forever, and its BullMQ lock key `<prefix>:<queue>:<job id>:lock` alive for up to 300 s; when that
lock expires the stalled re-run completes the BullMQ job with no observations, and the row still says
`processing`. A row is judged:

    lock held, holder alive            running      (a worker is on it)
    lock held, holder proven dead      stuck        (fast path: the lock may be deleted first)
    lock held, holder unknown          running?     (cannot prove it dead: wait for the lock to expire)
    no lock, older than min_age        stuck        (cancel + retry)
    no lock, younger                   running      (between BullMQ taking it and Postgres recording it)

The holder is proven dead only when the queue store is on loopback (so every worker using it runs on
this machine and shares our pid namespace) and its pid is gone, a zombie, or another program.

`scan()` is the one read of rows and locks: the doctor's `stuck jobs` probe and `jobs stuck|recover`
both call it, and turn its ScanError (which side failed, and why) into a status or an OpsError.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from ..pidfile import read_proc
from ..redaction import redact_text
from ..redis_url import RedisTarget
from ..resp import RespError
from ..store_client import open_store

EVENT_QUEUE = "server_beta_generate_event"
SUMMARY_QUEUE = "server_beta_generate_summary"
LOCK_DURATION_S = 300  # BullMQ lockDuration in claude-mem's workers
MIN_AGE_S = 10.0
LOOPBACK = ("127.0.0.1", "localhost", "::1")

PROCESSING_SQL = """
SELECT id, project_id, team_id, source_type, bullmq_job_id, locked_by, attempts, max_attempts,
       locked_at, updated_at, EXTRACT(EPOCH FROM (now() - updated_at))::float8 AS age_s
FROM observation_generation_jobs
WHERE status = 'processing'
ORDER BY locked_at NULLS FIRST, id
"""


class ScanSide(StrEnum):
    """Which of the two reads failed."""

    POSTGRES = "postgres"
    STORE = "store"


class ScanError(Exception):
    """Reading the processing rows (POSTGRES) or their BullMQ locks (STORE) failed; `detail` is one line."""

    def __init__(self, side: ScanSide, detail: str) -> None:
        super().__init__(f"{side.value}: {detail}")
        self.side, self.detail = side, detail


class Verdict(StrEnum):
    RUNNING = "running"
    STUCK = "stuck"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class ProcessingJob:
    """A Postgres row with status `processing`."""

    id: str
    project_id: str
    team_id: str
    source_type: str
    bullmq_job_id: str | None
    locked_by: str | None
    attempts: int
    max_attempts: int
    age_s: float


@dataclass(frozen=True)
class JobState:
    """A processing job with what BullMQ and the OS say about it, and the verdict."""

    job: ProcessingJob
    lock_key: str | None
    lock_held: bool
    holder_pid: int | None
    holder_alive: bool | None
    verdict: Verdict
    reason: str

    @property
    def delete_lock(self) -> bool:
        """Whether recovery must delete the BullMQ lock first (held by a worker proven dead)."""
        return self.verdict is Verdict.STUCK and self.lock_held


def queue_of(source_type: str) -> str:
    """The BullMQ queue a job runs on (claude-mem: session_summary -> summary lane, else event) (pure)."""
    return SUMMARY_QUEUE if source_type == "session_summary" else EVENT_QUEUE


def lock_key(prefix: str, source_type: str, bullmq_job_id: str) -> str:
    """`<prefix>:<queue>:<job id>:lock` (pure)."""
    return f"{prefix}:{queue_of(source_type)}:{bullmq_job_id}:lock"


def parse_locked_by(locked_by: str | None) -> int | None:
    """The worker pid in `server-<pid>`, else None (pure)."""
    match = re.fullmatch(r"server-(\d+)", (locked_by or "").strip())
    return int(match.group(1)) if match else None


def judge(job: ProcessingJob, lock_held: bool, holder_alive: bool | None, min_age_s: float = MIN_AGE_S
          ) -> tuple[Verdict, str]:
    """The verdict on one processing row (pure). `holder_alive` None: it cannot be proven either way."""
    if lock_held:
        if holder_alive is False:
            return Verdict.STUCK, f"its BullMQ lock is held by {job.locked_by}, which is dead"
        if holder_alive is None:
            return Verdict.UNKNOWN, (f"its BullMQ lock is held by {job.locked_by or 'an unknown worker'}, which "
                                     f"cannot be checked from here; the lock expires within {LOCK_DURATION_S} s")
        return Verdict.RUNNING, f"{job.locked_by} is working on it"
    if job.age_s < min_age_s:
        return Verdict.RUNNING, f"just started ({job.age_s:.0f} s ago)"
    return Verdict.STUCK, (f"no live BullMQ lock for {job.age_s:.0f} s (its worker {job.locked_by or '?'} "
                           "stopped mid-job)")


def holder_alive(pid: int | None, local: bool) -> bool | None:
    """Whether the worker `pid` still runs claude-mem's bundle here; None when that cannot be proven."""
    if pid is None or not local:
        return None
    info = read_proc(pid)
    if info is None or info.zombie:
        return False
    return "server-service" in info.cmdline


def row_to_job(row: dict[str, Any]) -> ProcessingJob:
    """A psycopg dict row to a ProcessingJob (pure)."""
    return ProcessingJob(id=str(row["id"]), project_id=str(row["project_id"]), team_id=str(row["team_id"]),
                         source_type=str(row["source_type"]), bullmq_job_id=row.get("bullmq_job_id"),
                         locked_by=row.get("locked_by"), attempts=int(row.get("attempts") or 0),
                         max_attempts=int(row.get("max_attempts") or 0), age_s=float(row.get("age_s") or 0.0))


def fetch_processing(database_url: str, timeout: float) -> list[ProcessingJob]:
    """Every `processing` row (psycopg; errors propagate: the caller turns them into a status)."""
    import psycopg
    from psycopg.rows import dict_row

    seconds = max(2, int(timeout + 0.999))
    with psycopg.connect(database_url, connect_timeout=seconds, autocommit=True, row_factory=dict_row,
                         options=f"-c statement_timeout={int(timeout * 1000)}") as conn:
        return [row_to_job(r) for r in conn.execute(PROCESSING_SQL).fetchall()]


def fetch_statuses(database_url: str, ids: list[str], timeout: float) -> dict[str, str]:
    """The current status of each job id (psycopg; errors propagate)."""
    import psycopg

    seconds = max(2, int(timeout + 0.999))
    with psycopg.connect(database_url, connect_timeout=seconds, autocommit=True) as conn:
        rows = conn.execute("SELECT id, status FROM observation_generation_jobs WHERE id = ANY(%s)", (ids,)).fetchall()
    return {str(r[0]): str(r[1]) for r in rows}


def read_locks(target: RedisTarget, keys: Iterable[str], timeout: float) -> dict[str, bool]:
    """EXISTS for each lock key (socket and RESP errors propagate)."""
    wanted = list(dict.fromkeys(keys))
    if not wanted:
        return {}
    with open_store(target, timeout) as conn:
        return {key: conn.command("EXISTS", key) == 1 for key in wanted}


HolderCheck = Callable[[ProcessingJob, int | None], bool | None]


def assess(jobs: list[ProcessingJob], locks: dict[str, bool], prefix: str, local: bool,
           min_age_s: float = MIN_AGE_S, alive_check: HolderCheck | None = None) -> list[JobState]:
    """Judge every processing job given the lock map (pure apart from reading /proc for holders).

    `alive_check(job, pid)` says whether a held lock's holder lives (default: /proc when `local`).
    """
    states = []
    for job in jobs:
        key = lock_key(prefix, job.source_type, job.bullmq_job_id) if job.bullmq_job_id else None
        held = bool(key and locks.get(key))
        pid = parse_locked_by(job.locked_by)
        if not held:
            alive = None
        elif alive_check is not None:
            alive = alive_check(job, pid)
        else:
            alive = holder_alive(pid, local)
        verdict, reason = judge(job, held, alive, min_age_s)
        states.append(JobState(job, key, held, pid, alive, verdict, reason))
    return states


def is_local(target: RedisTarget) -> bool:
    """True when the queue store is on loopback: its workers share this machine's pid namespace."""
    return target.host in LOOPBACK



def scan(database_url: str, target: RedisTarget, prefix: str, timeout: float, min_age_s: float = MIN_AGE_S
         ) -> list[JobState]:
    """Read every processing row and its BullMQ lock, and judge each; ScanError names the side that failed."""
    import psycopg

    try:
        jobs = fetch_processing(database_url, timeout)
    except (psycopg.Error, OSError) as exc:
        raise ScanError(ScanSide.POSTGRES, redact_text(" ".join(str(exc).split())[:200])) from exc
    keys = [lock_key(prefix, j.source_type, j.bullmq_job_id) for j in jobs if j.bullmq_job_id]
    try:
        locks = read_locks(target, keys, timeout)
    except (OSError, RespError) as exc:
        raise ScanError(ScanSide.STORE, f"{target.address}: {exc}") from exc
    return assess(jobs, locks, prefix, is_local(target), min_age_s)


class JobsAccess(Protocol):
    """Where the rows and locks are read (the native stack's URLs, or the docker stack's containers)."""

    base_url: str
    prefix: str
    local: bool

    def processing(self, timeout: float) -> list[ProcessingJob]: ...
    def locks(self, keys: list[str], timeout: float) -> dict[str, bool]: ...
    def holder_alive(self, job: ProcessingJob, pid: int | None) -> bool | None: ...


def scan_access(access: JobsAccess, timeout: float, min_age_s: float = MIN_AGE_S) -> list[JobState]:
    """scan() through an access (ScanError from it names the side that failed)."""
    jobs = access.processing(timeout)
    keys = [lock_key(access.prefix, j.source_type, j.bullmq_job_id) for j in jobs if j.bullmq_job_id]
    locks = access.locks(keys, timeout)
    return assess(jobs, locks, access.prefix, access.local, min_age_s, alive_check=access.holder_alive)


def format_recovery_commands(states: Iterable[JobState], base_url: str) -> list[str]:
    """The commands that recover the stuck ones by hand, in order: DEL a dead holder's lock, cancel, retry (pure)."""
    lines = []
    for state in states:
        if state.verdict is not Verdict.STUCK:
            continue
        if state.delete_lock and state.lock_key:
            lines.append(f"redis-cli -u \"$CLAUDE_MEM_REDIS_URL\" DEL {state.lock_key}")
        for action in ("cancel", "retry"):
            lines.append(f"curl -fsS -X POST -H \"Authorization: Bearer $KEY\" "
                         f"{base_url}/v1/jobs/{state.job.id}/{action}")
    return lines
