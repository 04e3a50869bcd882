"""The real claude-mem stack with a backlog made on purpose: metrics agree with BullMQ and Postgres, the doctor
names the backlog, and it drains once a worker runs. The worker's LLM is the loopback test double."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from cmem_ops.claudemem.api import ApiClient, build_event
from cmem_ops.e2e.fake_llm import FakeLlm
from cmem_ops.metrics.lanes import EVENT_QUEUE
from cmem_ops.paths import Paths
from cmem_ops.settings import write_settings_keys
from cmem_ops.wait import Deadline, poll
from tests.integration.test_stack import env, runtime_home  # noqa: F401 (fixtures)
from tests.support import run_cli

pytestmark = [pytest.mark.integration, pytest.mark.slow]
bullmq = pytest.importorskip("bullmq", reason="Python bullmq is missing: pip install 'cmem-ops[bullmq]'")


def cli_json(user: dict[str, str], *args: str) -> dict[str, Any]:
    out = run_cli(user, *args, "--json", timeout=120)
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def bullmq_counts(url: str, prefix: str) -> dict[str, int]:
    async def counts() -> dict[str, int]:
        queue = bullmq.Queue(EVENT_QUEUE, {"connection": url, "prefix": prefix})
        try:
            return dict(await queue.getJobCounts())
        finally:
            await queue.close()

    return asyncio.run(counts())


def test_backlog_metrics_doctor_and_drain(env: dict[str, str]) -> None:  # noqa: F811 (the fixture)
    data = Path(env["CLAUDE_MEM_DATA_DIR"])
    llm = FakeLlm()
    try:
        data.mkdir(parents=True, exist_ok=True)
        write_settings_keys(Paths(data), llm.worker_settings())
        assert run_cli(env, "stack", "up", timeout=300).returncode == 0
        key_file = data / "key"
        made = cli_json(env, "server", "api-key", "create", "--scope", "memories:read,memories:write",
                        "--key-file", str(key_file))["data"]
        assert run_cli(env, "worker", "stop", timeout=60).returncode == 0
        settings = json.loads((data / "settings.json").read_text())
        prefix, url = settings["CLAUDE_MEM_QUEUE_REDIS_PREFIX"], settings["CLAUDE_MEM_REDIS_URL"]
        client = ApiClient(f"http://127.0.0.1:{settings['CLAUDE_MEM_SERVER_PORT']}", key_file.read_text().strip())
        for i in range(5):
            resp = client.post_event(build_event(made["project_id"], session_id="metrics-test",
                                                 payload={"n": i, "tool_name": "Edit"}))
            assert resp.status == 201, resp.text

        snap = cli_json(env, "metrics")["data"]
        lane = snap["lanes"][0]
        assert lane["queue"] == EVENT_QUEUE and lane["workers"] == 0
        told = bullmq_counts(url, prefix)  # what BullMQ itself says (the Python port leaves out `paused`)
        assert told and {state: lane["counts"][state] for state in told} == told
        assert lane["counts"]["waiting"] == 5
        assert snap["generation"]["counts"].get("queued") == 5 and snap["generation"]["error"] is None
        assert snap["store"]["up"] and snap["health"]["up"] is True

        doctor = run_cli({**env, "CMEM_OPS_BACKLOG_MAX_AGE_S": "0"}, "doctor", "--only", "queue", "--json")
        backlog = {r["name"]: r for r in json.loads(doctor.stdout)["data"]["results"]}["backlog event"]
        assert backlog["status"] == "fail" and backlog["hint"] == "cmem-ops worker start" and doctor.returncode == 1

        assert run_cli(env, "worker", "start", timeout=120).returncode == 0

        def drained() -> dict[str, Any] | None:
            now = cli_json(env, "metrics")["data"]
            done = now["generation"]["counts"].get("completed") == 5 and now["lanes"][0]["counts"]["waiting"] == 0
            return now if done else None

        after = poll(drained, Deadline.after(90), what="the backlog to drain")
        assert after["lanes"][0]["workers"] == 1 and after["lanes"][0]["counts"]["completed"] == 5
        text = run_cli(env, "metrics").stdout
        assert f'bullmq_job_count{{queue="{EVENT_QUEUE}",state="completed"}} 5.0' in text
        assert f'cmem_ops_queue_workers{{queue="{EVENT_QUEUE}"}} 1.0' in text
        assert 'cmem_ops_generation_jobs{status="completed"} 5.0' in text and "cmem_ops_server_up 1.0" in text
    finally:
        llm.close()
