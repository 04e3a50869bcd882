"""The lane reader against real BullMQ: jobs made by the Node client claude-mem runs, counted by us and by BullMQ."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from cmem_ops.metrics.lanes import EVENT_QUEUE, SUMMARY_QUEUE, read_lanes
from cmem_ops.probes.bullmq_node import find_node, find_npm, prepare_node_smoke
from cmem_ops.redis_url import parse_redis_url
from cmem_ops.store_client import open_store
from cmem_ops.wait import Deadline, poll
from tests.support import REPO, RunningServer

pytestmark = pytest.mark.integration
LANES_SCRIPT = REPO / "tests" / "fixtures" / "bullmq" / "lanes.mjs"
PREFIX = "claude_mem_test"


@pytest.fixture(scope="session")
def node_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The smoke's npm project (real bullmq 5 from npm) with the lanes helper copied in."""
    if find_node() is None or find_npm() is None:
        pytest.skip("node and npm are needed to run real BullMQ workers (apt-get install -y nodejs npm)")
    project = prepare_node_smoke(tmp_path_factory.mktemp("lanes-node"), timeout_s=300)
    shutil.copy(LANES_SCRIPT, project / "lanes.mjs")
    return project


def start_lane(project: Path, server: RunningServer, queue: str, failed: int, waiting: int
               ) -> tuple[subprocess.Popen[str], dict[str, object]]:
    """Run lanes.mjs; return the process (holding one active job) and what BullMQ reported."""
    proc = subprocess.Popen(["node", "lanes.mjs", server.url, PREFIX, queue, str(failed), str(waiting)],
                            cwd=project, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()  # lanes.mjs gives up by itself after 20 s per step
    if not line:
        proc.kill()
        raise AssertionError(f"lanes.mjs printed nothing: {proc.stderr.read() if proc.stderr else ''}")
    return proc, json.loads(line)


def stop_lane(proc: subprocess.Popen[str]) -> None:
    if proc.stdin:
        proc.stdin.close()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_counts_oldest_and_workers_agree_with_bullmq(node_project: Path, valkey: RunningServer) -> None:
    proc, reported = start_lane(node_project, valkey, EVENT_QUEUE, failed=3, waiting=25)
    target = parse_redis_url(valkey.url)
    try:
        with open_store(target) as conn:
            lanes = {lane.queue: lane for lane in read_lanes(conn, PREFIX, time.time() * 1000)}
        event = lanes[EVENT_QUEUE]
        assert dict(event.counts) == reported["counts"]
        assert event.counts["waiting"] == 25 and event.counts["active"] == 1 and event.counts["failed"] == 3
        assert event.workers == reported["workers"] == 1
        assert event.oldest_waiting_age_s is not None and 0 <= event.oldest_waiting_age_s < 30
        summary = lanes[SUMMARY_QUEUE]
        assert summary.waiting == 0 and summary.workers == 0 and summary.oldest_waiting_age_s is None
    finally:
        stop_lane(proc)

    def no_workers() -> bool:
        with open_store(target) as conn:
            return read_lanes(conn, PREFIX, time.time() * 1000)[0].workers == 0

    poll(no_workers, Deadline.after(10), what="the worker's connection to close")


def test_oldest_age_comes_from_the_job_timestamp(node_project: Path, valkey: RunningServer) -> None:
    proc, _ = start_lane(node_project, valkey, SUMMARY_QUEUE, failed=0, waiting=2)
    try:
        with open_store(parse_redis_url(valkey.url)) as conn:
            now = time.time() * 1000
            later = read_lanes(conn, PREFIX, now + 60_000)[1]
            current = read_lanes(conn, PREFIX, now)[1]
        assert current.oldest_waiting_age_s is not None and later.oldest_waiting_age_s is not None
        assert later.oldest_waiting_age_s - current.oldest_waiting_age_s == pytest.approx(60, abs=0.5)
    finally:
        stop_lane(proc)
