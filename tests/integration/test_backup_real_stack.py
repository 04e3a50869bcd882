"""Backup and restore of the real claude-mem stack: restored in place (server and workers stopped and started
again) and into a fresh data dir, the restored stack serves the same observations with the same API key."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from cmem_ops.claudemem.api import ApiClient, build_event
from cmem_ops.e2e.fake_llm import FakeLlm
from cmem_ops.paths import Paths
from cmem_ops.pidfile import read_pidfile
from cmem_ops.runtime.locate import runtime_base
from cmem_ops.settings import write_settings_keys
from tests.integration.test_stack import runtime_home  # noqa: F401  (the session's runtime install)
from tests.pg_support import postgres_skip_reason, reachable_pg_root
from tests.support import run_cli, user_env

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def make_env(tmp_path, runtime_home):  # noqa: F811
    reason = postgres_skip_reason()
    if reason:
        pytest.skip(reason)
    llm = FakeLlm()
    made: list[tuple[dict[str, str], Path | None]] = []

    def make(name: str) -> dict[str, str]:
        env = user_env(tmp_path / name)
        data = Path(env["CLAUDE_MEM_DATA_DIR"])
        (data / "runtime").mkdir(parents=True, mode=0o700)
        os.symlink(runtime_base(Paths(runtime_home)), runtime_base(Paths(data)), target_is_directory=True)
        root = reachable_pg_root() if os.geteuid() == 0 else None
        if root:
            env["CMEM_OPS_POSTGRES_ROOT"] = str(root)
        write_settings_keys(Paths(data), llm.worker_settings())
        made.append((env, root))
        return env

    yield make
    for env, root in made:
        run_cli(env, "stack", "down", timeout=120)
        if root:
            shutil.rmtree(root, ignore_errors=True)
    llm.close()


def ok(out):
    assert out.returncode == 0, f"exit {out.returncode}\nstdout:\n{out.stdout}\nstderr:\n{out.stderr[-3000:]}"
    return out


def api(env, key=None):
    port = json.loads((Path(env["CLAUDE_MEM_DATA_DIR"]) / "settings.json").read_text())["CLAUDE_MEM_SERVER_PORT"]
    return ApiClient(f"http://127.0.0.1:{port}", key, timeout=45)


def observations(env, key, event_ids):
    found = {}
    for event_id in event_ids:
        resp = api(env, key).observations(event_id)
        assert resp.status == 200, resp.text
        found[event_id] = sorted(json.dumps(o, sort_keys=True) for o in resp.body["observations"])  # every field
    return found


def test_the_restored_stack_serves_the_same_observations(make_env, tmp_path):
    a = make_env("a")
    ok(run_cli(a, "stack", "up", timeout=300))
    keys = tmp_path / "keys"
    keys.mkdir(mode=0o700)
    created = json.loads(ok(run_cli(a, "server", "api-key", "create", "--scope", "memories:read,memories:write",
                                    "--key-file", str(keys / "k"), "--json", timeout=120)).stdout)["data"]
    key = (keys / "k").read_text().strip()
    event_ids = []
    for n in range(3):
        body = build_event(created["project_id"], payload={"tool_name": "Edit", "tool_response": f"backup test {n}",
                                                           "tool_input": {"file_path": f"src/b{n}.py"}})
        resp = api(a, key).post_event(body, wait=True)
        assert resp.status == 201 and resp.body["generationJob"]["status"] == "completed", resp.text
        event_ids.append(resp.body["event"]["id"])
    before = observations(a, key, event_ids)
    assert all(before.values())

    out = ok(run_cli(a, "backup", "--to", str(tmp_path / "backups"), "--json", timeout=300))
    manifest = json.loads(out.stdout)["data"]["manifest"]
    assert manifest["postgres"]["tables"]["public.agent_events"] == 3
    assert manifest["store"]["queue_prefix"] and manifest["store"]["keys"] > 0
    archive = json.loads(out.stdout)["data"]["archive"]

    # in place: our server and workers are stopped, the data restored, and they start again
    server = read_pidfile(Path(a["CLAUDE_MEM_DATA_DIR"]) / "run" / "server.json")
    out = ok(run_cli(a, "restore", archive, timeout=600))
    assert "Started again: server, 1 worker(s)" in out.stdout and "stopping our claude-mem server" in out.stderr
    assert read_pidfile(Path(a["CLAUDE_MEM_DATA_DIR"]) / "run" / "server.json").pid != server.pid
    assert ok(run_cli(a, "stack", "status")).returncode == 0
    assert observations(a, key, event_ids) == before

    # a fresh data dir: the managed cluster and store are created, then filled from the archive
    b = make_env("b")
    out = ok(run_cli(b, "restore", archive, timeout=600))
    assert f"pinned CLAUDE_MEM_QUEUE_REDIS_PREFIX={manifest['store']['queue_prefix']}" in out.stdout
    ok(run_cli(a, "stack", "down", timeout=120))
    ok(run_cli(b, "stack", "up", timeout=300))
    assert observations(b, key, event_ids) == before  # the same key (restored with api_keys) reads the same rows
