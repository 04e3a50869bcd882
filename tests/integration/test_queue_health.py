"""`cmem-ops doctor --only queue` against a real store with real BullMQ jobs: the backlog is named."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from cmem_ops.metrics.lanes import EVENT_QUEUE
from tests.support import RunningServer, run_cli, user_env

pytestmark = pytest.mark.integration
bullmq = pytest.importorskip("bullmq", reason="Python bullmq is missing: pip install 'cmem-ops[bullmq]'")
PREFIX = "claude_mem_health"


async def backlog(url: str, waiting: int, failed: int) -> None:
    queue = bullmq.Queue(EVENT_QUEUE, {"connection": url, "prefix": PREFIX})
    if failed:
        done = asyncio.Event()
        seen: list[int] = []

        async def fail(job: object, token: str) -> None:
            seen.append(1)
            if len(seen) >= failed:
                done.set()
            raise RuntimeError("made to fail")

        for i in range(failed):
            await queue.add("generate", {"i": i}, {"attempts": 1})
        worker = bullmq.Worker(EVENT_QUEUE, fail, {"connection": url, "prefix": PREFIX})
        await asyncio.wait_for(done.wait(), 20)
        await worker.close()
    for i in range(waiting):
        await queue.add("generate", {"i": i})
    await queue.close()


def doctor(tmp_path: Path, server: RunningServer, **extra: str) -> dict[str, dict[str, object]]:
    env = user_env(tmp_path, CLAUDE_MEM_REDIS_URL=server.url, CLAUDE_MEM_QUEUE_REDIS_PREFIX=PREFIX, **extra)
    out = run_cli(env, "doctor", "--only", "queue", "--json", timeout=60)
    payload = json.loads(out.stdout)
    results = {r["name"]: r for r in payload["data"]["results"]}
    results["_exit"] = {"code": out.returncode}
    return results


def test_old_backlog_without_worker_fails_and_failed_jobs_warn(tmp_path: Path, valkey: RunningServer) -> None:
    asyncio.run(backlog(valkey.url, waiting=4, failed=2))
    results = doctor(tmp_path, valkey, CMEM_OPS_BACKLOG_MAX_AGE_S="0")
    event = results["backlog event"]
    assert event["status"] == "fail" and event["hint"] == "cmem-ops worker start", event
    assert "4 job(s) waiting" in str(event["summary"])
    assert results["backlog summary"]["status"] == "ok"
    assert results["failed jobs"]["status"] == "warn" and "2 in event" in str(results["failed jobs"]["summary"])
    assert str(results["failed jobs"]["hint"]).startswith("cmem-ops jobs recover")
    assert results["_exit"]["code"] == 1


def test_young_backlog_only_warns_and_empty_queue_is_ok(tmp_path: Path, valkey: RunningServer) -> None:
    clean = doctor(tmp_path, valkey)
    assert clean["backlog event"]["status"] == "ok" and clean["failed jobs"]["status"] == "ok"
    assert clean["_exit"]["code"] == 0
    asyncio.run(backlog(valkey.url, waiting=1, failed=0))
    young = doctor(tmp_path, valkey)
    assert young["backlog event"]["status"] == "warn" and young["_exit"]["code"] == 0


def test_status_shows_one_line_per_lane(tmp_path: Path, valkey: RunningServer) -> None:
    asyncio.run(backlog(valkey.url, waiting=4, failed=2))
    env = user_env(tmp_path, CLAUDE_MEM_REDIS_URL=valkey.url, CLAUDE_MEM_QUEUE_REDIS_PREFIX=PREFIX)
    out = run_cli(env, "status")
    lanes = [line for line in out.stdout.splitlines() if line.startswith("Lane ")]
    assert len(lanes) == 2, out.stdout + out.stderr
    assert lanes[0].startswith("Lane event: waiting 4 / active 0 / failed 2, oldest ")
    assert lanes[0].endswith(" 0 workers")
    assert lanes[1] == "Lane summary: waiting 0 / active 0 / failed 0, oldest -, 0 workers"


def test_status_with_lanes_stays_light(tmp_path: Path, valkey: RunningServer) -> None:
    """The per-lane lines must not pull prometheus_client, rich or psycopg onto the status path."""
    env = user_env(tmp_path, CLAUDE_MEM_REDIS_URL=valkey.url, CLAUDE_MEM_QUEUE_REDIS_PREFIX=PREFIX)
    out = subprocess.run([sys.executable, "-X", "importtime", "-m", "cmem_ops", "status"], env=env,
                         capture_output=True, text=True, timeout=60, check=False)
    assert "Lane event:" in out.stdout, out.stdout + out.stderr
    imported = {line.split("|")[-1].strip() for line in out.stderr.splitlines() if line.startswith("import time:")}
    heavy = {m for m in imported if m.split(".")[0] in ("prometheus_client", "rich", "psycopg", "typer")}
    assert not heavy, heavy
