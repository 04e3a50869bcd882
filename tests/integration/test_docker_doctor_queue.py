"""The docker doctor's queue group against a real engine: backlog per lane, failed jobs and divergence
judged from inside the stack's containers (probes/docker_queue.py).

One stack (1 worker, store and Postgres published for divergence). The workers are stopped by hand, a
real event is posted through the server: its job waits in the event lane, and the doctor says FAIL with
the docker stack's fix; the workers started again take it and the backlog is OK.
Needs an engine with compose v2 (ci/docker-engine.sh start) and the images `cmem-ops images build`
makes; without them the test skips with the reason.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
from typing import Any

import pytest

from cmem_ops.claudemem.api import ApiClient, build_event
from cmem_ops.claudemem.apikeys import parse_api_key
from cmem_ops.context import build_context
from cmem_ops.jobs.docker_stack import CLI_ENV, ENTRYPOINT
from cmem_ops.lifecycle import docker_stack_config as cfg
from cmem_ops.lifecycle.docker_stack_project import compose_for, read_state
from cmem_ops.metrics.lanes import EVENT_QUEUE, state_key
from cmem_ops.wait import Deadline, poll
from tests.integration.test_docker_stack import DOCKER_CONFIG, published_env, running_stack
from tests.support import run_cli

pytestmark = [pytest.mark.integration, pytest.mark.docker, pytest.mark.slow]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """A running docker stack in a private data dir (1 worker; store and Postgres on loopback)."""
    env = published_env(tmp_path_factory.mktemp("docker-doctor-queue"),
                        CLAUDE_MEM_SERVER_PROVIDER="openrouter",  # with no provider a worker serves no lane
                        OPENROUTER_API_KEY="sk-or-v1-" + secrets.token_hex(24))
    with running_stack(env):
        yield env


def queue_doctor(env: dict[str, str]) -> tuple[int, dict[str, dict[str, Any]]]:
    """`doctor --only queue --json`: its exit code and results by name."""
    out = run_cli({**env, "CMEM_OPS_BACKLOG_MAX_AGE_S": "1"}, "doctor", "--only", "queue", "--json", timeout=120)
    assert out.stdout.strip(), out.stderr
    return out.returncode, {r["name"]: r for r in json.loads(out.stdout)["data"]["results"]}


def test_dead_workers_leave_a_backlog_fail_with_the_docker_fix_and_running_workers_clear_it(stack):
    ctx = build_context(stack)
    state = read_state(ctx)
    assert state is not None
    compose = compose_for(ctx, state, cfg.choose_images({}, frozenset()))
    label = f"{state.project}/valkey prefix {state.prefix}"

    def healthy() -> dict[str, dict[str, Any]] | None:
        _, results = queue_doctor(stack)
        return results if results["backlog event"]["data"]["workers"] else None

    # Workers running, nothing waiting: every lane OK, read inside the store container.
    results = poll(healthy, Deadline.after(90), what="a worker of the event lane in CLIENT LIST", interval=1.0,
                   max_interval=3.0)
    assert {n: results[n]["status"] for n in ("backlog event", "backlog summary", "failed jobs", "divergence",
                                              "stuck jobs")} == dict.fromkeys(
        ("backlog event", "backlog summary", "failed jobs", "divergence", "stuck jobs"), "ok"), results
    assert results["backlog event"]["target"] == label
    assert results["backlog event"]["data"]["queue"] == "server_beta_generate_event"
    assert "agree on" in results["divergence"]["summary"]

    compose.stop_services([cfg.WORKER], timeout=60)
    try:
        key = parse_api_key(compose.exec(cfg.SERVER, [ENTRYPOINT, "server", "api-key", "create", "--scope",
                                                      "memories:read,memories:write", "--name", "doctor-queue"],
                                         env=CLI_ENV, timeout=90))
        api = ApiClient(f"http://127.0.0.1:{state.server_port}", key.key, timeout=30)
        posted = api.post_event(build_event(key.project_id, payload={"tool": "Read", "case": "dead-workers"}))
        assert posted.status == 201, posted.text

        def failing() -> tuple[int, dict[str, dict[str, Any]]] | None:
            code, results = queue_doctor(stack)
            return (code, results) if results["backlog event"]["status"] == "fail" else None

        code, results = poll(failing, Deadline.after(90), what="a backlog FAIL on the event lane", interval=1.0,
                             max_interval=3.0)
        event = results["backlog event"]
        assert code != 0 and event["data"]["workers"] == 0 and event["data"]["counts"]["waiting"] == 1, event
        assert "no live worker: nothing will process them" in event["summary"]
        assert event["hint"] == "cmem-ops stack up --docker --workers 1"
        assert results["backlog summary"]["status"] == "ok"
        # The text report names the lane and the fix too.
        text = run_cli({**stack, "CMEM_OPS_BACKLOG_MAX_AGE_S": "1"}, "doctor", "--only", "queue", timeout=120)
        assert "backlog event" in text.stdout and "cmem-ops stack up --docker --workers 1" in text.stdout, text.stdout
    finally:
        fix = run_cli(stack, "stack", "up", "--docker", "--workers", "1", timeout=300)  # the hint, as given
        assert fix.returncode == 0, fix.stdout + fix.stderr

    def cleared() -> dict[str, dict[str, Any]] | None:
        _, results = queue_doctor(stack)
        event = results["backlog event"]
        return results if event["status"] == "ok" and event["data"]["workers"] else None

    results = poll(cleared, Deadline.after(120), what="the restarted worker to take the waiting job", interval=1.0,
                   max_interval=3.0)
    assert results["backlog event"]["data"]["counts"]["waiting"] == 0


def test_a_stopped_store_is_a_skip_naming_the_exec_that_shows_why(stack):
    ctx = build_context(stack)
    state = read_state(ctx)
    assert state is not None
    compose = compose_for(ctx, state, cfg.choose_images({}, frozenset()))
    compose.stop_services(["valkey"], timeout=60)
    try:
        _, results = queue_doctor(stack)
        queue = results["queue"]
        assert queue["status"] == "skip" and "the store container did not answer" in queue["summary"], queue
        assert f"-p {state.project} exec -T valkey sh -c" in queue["hint"] and "valkey-cli" in queue["hint"]
        # The by-hand command, pasted as it is, reaches the container (here: says valkey is not running).
        by_hand = queue["hint"].split("   (then:")[0]
        pasted = subprocess.run(["sh", "-c", by_hand], capture_output=True, text=True, timeout=60, check=False,
                                env={"PATH": os.environ["PATH"], "HOME": stack["HOME"], "DOCKER_CONFIG": DOCKER_CONFIG})
        assert "is not running" in pasted.stderr and "CMEM_STACK_SECRETS_DIR" not in pasted.stderr, pasted.stderr
        password = (cfg.secrets_dir(ctx.paths) / "valkey-password").read_text().strip()
        assert password not in json.dumps(results)
    finally:
        compose.start_services(["valkey"], timeout=60)


def test_a_worker_container_without_a_provider_is_named_with_the_provider_fix(stack):
    """claude-mem's worker runs but registers no BullMQ worker without a provider: the verdict names that,
    read from what the container's bundle is given, and the fix is the provider, not more workers."""
    import time

    bare = {k: v for k, v in stack.items() if k not in ("CLAUDE_MEM_SERVER_PROVIDER", "OPENROUTER_API_KEY")}
    up = run_cli(bare, "stack", "up", "--docker", "--workers", "1", timeout=300)  # recreates the worker, no provider
    assert up.returncode == 0, up.stdout + up.stderr
    ctx = build_context(bare)
    state = read_state(ctx)
    assert state is not None
    compose = compose_for(ctx, state, cfg.choose_images({}, frozenset()))
    job, waiting = f"{state.prefix}:{EVENT_QUEUE}:idle-probe", state_key(state.prefix, EVENT_QUEUE, "waiting")
    try:
        # a job in BullMQ's layout that has waited a minute, pushed inside the store container
        stamp = int(time.time() * 1000) - 60_000
        compose.exec("valkey", ["sh", "-c", f"{cfg.VALKEY_CLI}HSET {job} timestamp {stamp} && "
                                            f"{cfg.VALKEY_CLI}LPUSH {waiting} idle-probe"], timeout=60)
        code, results = queue_doctor(bare)
        event = results["backlog event"]
        assert code != 0 and event["status"] == "fail" and event["data"]["workers"] == 0, event
        assert "1 worker process run but none serves this lane: no CLAUDE_MEM_SERVER_PROVIDER" in event["summary"]
        assert event["hint"].startswith("set CLAUDE_MEM_SERVER_PROVIDER=") and "stack up --docker && " in event["hint"]
        assert f"-p {state.project} restart claude-mem-worker" in event["hint"]
    finally:
        cleanup = f"{cfg.VALKEY_CLI}LREM {waiting} 0 idle-probe && {cfg.VALKEY_CLI}DEL {job}"
        compose.exec("valkey", ["sh", "-c", cleanup], timeout=60)
        fix = run_cli(stack, "stack", "up", "--docker", "--workers", "1", timeout=300)
        assert fix.returncode == 0, fix.stdout + fix.stderr
