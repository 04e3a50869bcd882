"""claude-mem's generation jobs in Postgres (the canonical outbox) against their BullMQ jobs.

Counts by status are one indexed GROUP BY. Divergence, a row whose Postgres status and BullMQ state
disagree, needs a look at each job, so it is judged on a bounded sample: the SAMPLE oldest open rows
(queued / processing) and the SAMPLE most recently finished failed / cancelled rows, each older than
MIN_AGE_S (younger ones may be between the two writes). One HMGET per row, pipelined: a scrape's cost stays
bounded whatever the backlog. What disagrees (claude-mem's known defects 5 and 6):

    Postgres queued/processing   BullMQ completed, failed or gone    the row will never finish by itself
    Postgres failed/cancelled    BullMQ still pending (retrying)     BullMQ runs a job Postgres gave up on
    Postgres failed              BullMQ completed
"""

from __future__ import annotations

from dataclasses import dataclass

from ..jobs.stuck import queue_of
from ..resp import RespError
from ..store_client import StoreConnection

STATUSES = ("queued", "processing", "completed", "failed", "cancelled")
SAMPLE = 100
MIN_AGE_S = 10

COUNTS_SQL = "SELECT status, count(*) FROM observation_generation_jobs GROUP BY status"
SAMPLE_SQL = f"""
(SELECT id, status, source_type, bullmq_job_id FROM observation_generation_jobs
 WHERE status IN ('queued', 'processing') AND updated_at < now() - interval '{MIN_AGE_S} seconds'
 ORDER BY updated_at LIMIT {SAMPLE})
UNION ALL
(SELECT id, status, source_type, bullmq_job_id FROM observation_generation_jobs
 WHERE status IN ('failed', 'cancelled') AND updated_at < now() - interval '{MIN_AGE_S} seconds'
 ORDER BY updated_at DESC LIMIT {SAMPLE})
"""


@dataclass(frozen=True)
class SampledJob:
    """One sampled row and the BullMQ job it names."""

    id: str
    status: str
    source_type: str
    bullmq_job_id: str | None


@dataclass(frozen=True)
class GenerationStats:
    """Postgres job counts by status and the divergence found in the sample; `error` when Postgres failed."""

    counts: dict[str, int]
    divergent: int
    checked: int
    error: str | None = None


def bullmq_state(fields: list[bytes | None]) -> str:
    """`missing` | `completed` | `failed` | `pending` from HMGET timestamp finishedOn returnvalue (pure)."""
    timestamp, finished, returnvalue = [*fields, None, None, None][:3]
    if timestamp is None:
        return "missing"
    if finished is None:
        return "pending"
    return "completed" if returnvalue is not None else "failed"


def diverges(pg_status: str, state: str) -> bool:
    """Whether a Postgres status and a BullMQ state disagree, per the table above (pure)."""
    if pg_status in ("queued", "processing"):
        return state in ("completed", "failed", "missing")
    if pg_status in ("failed", "cancelled"):
        return state == "pending" or (pg_status == "failed" and state == "completed")
    return False


def fetch_generation(database_url: str, timeout: float) -> tuple[dict[str, int], list[SampledJob]]:
    """Counts by status and the divergence sample (psycopg; errors propagate to the caller)."""
    import psycopg

    seconds = max(2, int(timeout + 0.999))
    with psycopg.connect(database_url, connect_timeout=seconds, autocommit=True,
                         options=f"-c statement_timeout={int(timeout * 1000)}") as conn:
        counts = {str(s): int(n) for s, n in conn.execute(COUNTS_SQL).fetchall()}
        rows = conn.execute(SAMPLE_SQL).fetchall()
    return counts, [SampledJob(str(r[0]), str(r[1]), str(r[2]), r[3]) for r in rows]


def count_divergent(conn: StoreConnection, prefix: str, jobs: list[SampledJob]) -> int:
    """How many sampled rows disagree with BullMQ: one pipelined HMGET per row (RESP errors propagate)."""
    named = [job for job in jobs if job.bullmq_job_id]
    if not named:
        return 0
    replies = conn.pipeline(*[("HMGET", f"{prefix}:{queue_of(job.source_type)}:{job.bullmq_job_id}", "timestamp",
                               "finishedOn", "returnvalue") for job in named])
    divergent = 0
    for job, reply in zip(named, replies, strict=True):
        if isinstance(reply, RespError):
            raise reply
        fields = [x if isinstance(x, bytes) else None for x in reply] if isinstance(reply, list) else []
        if diverges(job.status, bullmq_state(fields)):
            divergent += 1
    return divergent


def short_error(exc: BaseException) -> str:
    """`Type: first line of the message` (pure)."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:160] if text else ''}"


def read_generation(database_url: str | None, conn: StoreConnection | None, prefix: str, timeout: float
                    ) -> GenerationStats | None:
    """Postgres counts by status and the sampled divergence (None when no database is configured)."""
    if not database_url:
        return None
    try:
        counts, sample = fetch_generation(database_url, timeout)
    except Exception as exc:  # psycopg.Error and socket errors: reported as a scrape error, never raised
        return GenerationStats({}, 0, 0, error=short_error(exc))
    if conn is None:
        return GenerationStats(counts, 0, 0, error="the queue store did not answer: divergence not checked")
    try:
        return GenerationStats(counts, count_divergent(conn, prefix, sample), len(sample))
    except (OSError, RespError) as exc:
        return GenerationStats(counts, 0, 0, error=short_error(exc))
