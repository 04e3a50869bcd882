"""Postgres generation jobs against real BullMQ jobs: counts by status and the sampled divergence.

The table has the columns of claude-mem's `observation_generation_jobs` that the metrics read (the real
server creates the full table; tests/integration/test_stack.py runs it), in a real private cluster.
BullMQ jobs are real ones, added and completed with the Python `bullmq` package.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from cmem_ops.metrics.generation import read_generation
from cmem_ops.metrics.lanes import EVENT_QUEUE
from cmem_ops.redis_url import parse_redis_url
from cmem_ops.store_client import open_store
from tests.pg_support import managed_postgres
from tests.support import RunningServer, user_env

pytestmark = pytest.mark.integration
psycopg = pytest.importorskip("psycopg", reason="psycopg is not installed")
bullmq = pytest.importorskip("bullmq", reason="the Python bullmq package is missing: pip install 'cmem-ops[bullmq]'")
PREFIX = "claude_mem_gen"

TABLE = """
CREATE TABLE observation_generation_jobs (
  id text PRIMARY KEY, source_type text NOT NULL, bullmq_job_id text,
  status text NOT NULL CHECK (status IN ('queued', 'processing', 'completed', 'failed', 'cancelled')),
  updated_at timestamptz NOT NULL DEFAULT now())
"""


async def make_jobs(url: str) -> None:
    """evt_done: completed by a real worker; evt_pending: waiting."""
    queue = bullmq.Queue(EVENT_QUEUE, {"connection": url, "prefix": PREFIX})
    await queue.add("generate", {"n": 1}, {"jobId": "evt_done"})
    done = asyncio.Event()

    async def process(job: object, token: str) -> str:
        done.set()
        return "ok"

    worker = bullmq.Worker(EVENT_QUEUE, process, {"connection": url, "prefix": PREFIX})
    await asyncio.wait_for(done.wait(), 20)
    await worker.close()
    await queue.add("generate", {"n": 2}, {"jobId": "evt_pending"})
    await queue.close()


def test_counts_and_divergence(tmp_path: Path, valkey: RunningServer) -> None:
    asyncio.run(make_jobs(valkey.url))
    with open_store(parse_redis_url(valkey.url)) as conn:
        assert conn.command("HGET", f"{PREFIX}:{EVENT_QUEUE}:evt_done", "finishedOn") is not None
    env = user_env(tmp_path)
    with managed_postgres(env) as url:
        with psycopg.connect(url, autocommit=True) as db:
            db.execute(TABLE)
            old = "now() - interval '1 minute'"
            for row in (("a", "processing", "evt_done", old),      # BullMQ finished it: diverged (defect 5)
                        ("b", "queued", "evt_pending", old),       # agrees
                        ("c", "failed", "evt_pending", old),       # BullMQ still runs it: diverged (defect 6)
                        ("d", "queued", "evt_gone", old),          # BullMQ lost it: diverged
                        ("e", "completed", "evt_done", old),       # not sampled (finished and agreeing)
                        ("f", "processing", "evt_gone", "now()")):  # too young to judge
                db.execute(f"INSERT INTO observation_generation_jobs VALUES (%s, 'agent_event', %s, %s, {row[3]})",
                           (row[0], row[2], row[1]))
        with open_store(parse_redis_url(valkey.url)) as conn:
            stats = read_generation(url, conn, PREFIX, 5.0)
        assert stats is not None and stats.error is None
        assert dict(stats.counts) == {"processing": 2, "queued": 2, "failed": 1, "completed": 1}
        assert stats.checked == 4 and stats.divergent == 3
        down = read_generation(url.replace(url.rsplit("/", 1)[1], "no_such_db"), None, PREFIX, 2.0)
        assert down is not None and down.error and not down.counts
