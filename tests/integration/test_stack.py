"""The real claude-mem server stack as a user meets it: a private HOME, the installed runtime, the real CLI.

One runtime install per session: reused from CMEM_OPS_TEST_RUNTIME_DIR (a data dir holding one), else
`cmem-ops server install` into a session directory (~15-20 s with npm). Postgres and Valkey are the
managed ones; nothing is faked except the worker's LLM provider in the e2e (a loopback test double).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from cmem_ops.errors import OpsTimeoutError
from cmem_ops.paths import Paths
from cmem_ops.pidfile import read_pidfile
from cmem_ops.runtime.locate import find_runtime, runtime_base
from cmem_ops.wait import Deadline, poll
from tests.envelope import check_envelope
from tests.pg_support import postgres_skip_reason, reachable_pg_root
from tests.support import REPO, pid_alive, run_cli, user_env, wait_exec

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="session")
def runtime_home(tmp_path_factory) -> Path:
    """A data dir with the claude-mem runtime installed, shared by every test of the session."""
    given = os.environ.get("CMEM_OPS_TEST_RUNTIME_DIR")
    if given and find_runtime(Paths(Path(given))) is not None:
        return Path(given)
    if not (shutil.which("node") and shutil.which("npm")):
        pytest.skip("the claude-mem runtime needs node and npm to install (apt-get install -y nodejs npm)")
    home = tmp_path_factory.mktemp("runtime")
    env = user_env(home)
    out = run_cli(env, "server", "install", timeout=900)
    if out.returncode != 0 and "npm ping" in out.stderr:
        pytest.skip(f"the npm registry is not reachable: {out.stderr[-300:]}")
    assert out.returncode == 0, out.stderr
    return Path(env["CLAUDE_MEM_DATA_DIR"])


@pytest.fixture
def env(tmp_path, runtime_home):
    reason = postgres_skip_reason()
    if reason:
        pytest.skip(reason)
    env = user_env(tmp_path)
    data = Path(env["CLAUDE_MEM_DATA_DIR"])
    data.mkdir(parents=True, mode=0o700)
    (data / "runtime").mkdir(mode=0o700)
    os.symlink(runtime_base(Paths(runtime_home)), runtime_base(Paths(data)), target_is_directory=True)
    pg_root = reachable_pg_root() if os.geteuid() == 0 else None
    if pg_root:
        env["CMEM_OPS_POSTGRES_ROOT"] = str(pg_root)
    yield env
    run_cli(env, "stack", "down", timeout=120)
    if pg_root:
        shutil.rmtree(pg_root, ignore_errors=True)


def settings(env) -> dict:
    return json.loads((Path(env["CLAUDE_MEM_DATA_DIR"]) / "settings.json").read_text())


def record(env, name):
    path = Path(env["CLAUDE_MEM_DATA_DIR"]) / ("redis/redis.pid" if name == "redis" else f"run/{name}.json")
    return read_pidfile(path)


def ok(out):
    assert out.returncode == 0, f"exit {out.returncode}\nstdout:\n{out.stdout}\nstderr:\n{out.stderr}"
    return out


def test_stack_up_status_doctor_worker_stop_down(env):
    data = Path(env["CLAUDE_MEM_DATA_DIR"])
    (data / "settings.json").write_text(json.dumps({"CLAUDE_MEM_MODEL": "claude-keep-me"}))
    up = ok(run_cli(env, "stack", "up", timeout=300))
    assert "Ready in" in up.stdout and "worker-1 pid" in up.stdout
    written = settings(env)
    assert written["CLAUDE_MEM_MODEL"] == "claude-keep-me"  # everything else in settings.json is kept
    for key, value in {"CLAUDE_MEM_RUNTIME": "server", "CLAUDE_MEM_QUEUE_ENGINE": "bullmq",
                       "CLAUDE_MEM_POSTGRES_IDLE_TIMEOUT_MS": "10000"}.items():
        assert written[key] == value
    for key in ("CLAUDE_MEM_REDIS_URL", "CLAUDE_MEM_SERVER_DATABASE_URL", "CLAUDE_MEM_QUEUE_REDIS_PREFIX",
                "CLAUDE_MEM_SERVER_PORT"):
        assert written[key]
    assert "CLAUDE_MEM_GENERATION_DISABLED" not in written
    assert int(written["CLAUDE_MEM_SERVER_PORT"]) not in (37877, 37777)

    status = ok(run_cli(env, "stack", "status"))
    assert "Stack: healthy" in status.stdout
    doctor = ok(run_cli(env, "doctor", "--no-smoke", "--json", timeout=60))
    results = json.loads(doctor.stdout)["data"]["results"]
    names = {r["name"]: r for r in results}
    assert names["server"]["status"] == "ok" and names["worker-1"]["status"] == "ok"
    assert names["queue prefix"]["status"] == "ok" and names["stuck jobs"]["status"] == "ok"
    assert "Server: running" in ok(run_cli(env, "status")).stdout

    # the worker's stop deletes claude-mem's own pid files; our status stays right
    server = record(env, "server")
    ok(run_cli(env, "worker", "stop"))
    assert not (data / ".server-beta.pid").exists()
    srv = json.loads(ok(run_cli(env, "server", "status", "--json")).stdout)["data"]
    assert srv["running"] and srv["pid"] == server.pid and srv["ready"] and srv["claude_mem_pidfile"] == "missing"

    ok(run_cli(env, "worker", "start", "--count", "2"))
    assert ok(run_cli(env, "worker", "status", "--count", "2")).stdout.count("running") == 2
    two = record(env, "worker-2")
    assert "Worker 2: stopped" in ok(run_cli(env, "worker", "start", "--count", "1")).stdout
    assert not pid_alive(two.pid)

    parts = {name: record(env, name) for name in ("redis", "postgres", "server", "worker-1")}
    down = ok(run_cli(env, "stack", "down", timeout=120))
    assert "data kept" in down.stdout
    for name, rec in parts.items():
        assert rec is not None and not pid_alive(rec.pid), name
    assert any((data / "redis" / "data").iterdir())
    assert run_cli(env, "stack", "status").returncode == 7

    again = ok(run_cli(env, "stack", "up", timeout=120))  # from stopped: every part starts again
    assert "Ready in" in again.stdout
    assert settings(env)["CLAUDE_MEM_SERVER_PORT"] == written["CLAUDE_MEM_SERVER_PORT"]

    # uninstall takes the store away: the server and workers that use it are stopped first
    users = [record(env, "server"), record(env, "worker-1"), record(env, "redis")]
    gone = ok(run_cli(env, "uninstall", timeout=120))
    assert "claude-mem server" in gone.stdout and "worker" in gone.stdout
    for rec in users:
        assert not pid_alive(rec.pid)
    assert any((data / "redis" / "data").iterdir())  # queue data kept without --purge-data


def test_a_worker_without_a_provider_serves_no_lane_and_the_doctor_names_the_provider(env):
    """claude-mem's worker runs, but registers no BullMQ worker while generation is disabled (no provider):
    a job waiting in its lane is a backlog FAIL whose fix is the provider, not `worker start`."""
    import time

    import redis

    from cmem_ops.metrics.lanes import EVENT_QUEUE, state_key
    from cmem_ops.redis_url import parse_redis_url

    ok(run_cli(env, "stack", "up", timeout=300))  # no CLAUDE_MEM_SERVER_PROVIDER anywhere
    written = settings(env)
    target, prefix = parse_redis_url(written["CLAUDE_MEM_REDIS_URL"]), written["CLAUDE_MEM_QUEUE_REDIS_PREFIX"]
    with redis.Redis(host=target.host, port=target.port, password=target.password) as r:
        # a job in BullMQ's layout, waiting for a minute: LPUSH on wait, its hash with the timestamp
        r.hset(f"{prefix}:{EVENT_QUEUE}:backlog-probe", mapping={"timestamp": int(time.time() * 1000) - 60_000})
        r.lpush(state_key(prefix, EVENT_QUEUE, "waiting"), "backlog-probe")
    out = run_cli({**env, "CMEM_OPS_BACKLOG_MAX_AGE_S": "1"}, "doctor", "--only", "queue", "--json", timeout=60)
    backlog = {r["name"]: r for r in json.loads(out.stdout)["data"]["results"]}["backlog event"]
    assert out.returncode == 1 and backlog["status"] == "fail", backlog
    assert backlog["data"]["workers"] == 0 and backlog["data"]["counts"]["waiting"] == 1
    assert "1 worker process run but none serves this lane: no CLAUDE_MEM_SERVER_PROVIDER" in backlog["summary"]
    assert backlog["hint"].startswith("set CLAUDE_MEM_SERVER_PROVIDER=")
    assert backlog["hint"].endswith("then: cmem-ops worker stop && cmem-ops worker start")


def test_json_contract_against_a_running_stack(env, tmp_path):
    """Every --json command that needs the stack, validated against its shipped schema."""
    up = check_envelope(run_cli(env, "stack", "up", "--json", timeout=300), "stack.up")
    assert up["ok"], up
    for words in (("status",), ("stack", "status"), ("server", "status"), ("worker", "status"),
                  ("postgres", "status"), ("store", "status"), ("server", "check")):
        assert check_envelope(run_cli(env, *words, "--json", timeout=60), ".".join(words))["ok"], words
    stuck = check_envelope(run_cli(env, "jobs", "stuck", "--json", timeout=60), "jobs.stuck")
    assert stuck["ok"] and stuck["data"]["stuck"] == 0
    dry = check_envelope(run_cli(env, "jobs", "recover", "--dry-run", "--json", timeout=60), "jobs.recover")
    assert dry["ok"] and dry["data"]["dry_run"] is True
    check_envelope(run_cli(env, "jobs", "recover", "--json", "--wait", "0", timeout=60), "jobs.recover")
    bad = check_envelope(run_cli(env, "jobs", "recover", "--json", "--wait", "-1"), "jobs.recover")
    assert bad["error"]["type"] == "UsageError"

    # the created key is the command's output: printed in full (not redacted) in the envelope
    created = check_envelope(run_cli(env, "server", "api-key", "create", "--json", "--name", "ci"),
                             "server.api-key.create")["data"]
    assert created["key"].startswith("cmem_") and "***" not in created["key"] and len(created["key"]) > 20
    assert created["key_file"] is None
    key_file = tmp_path / "key"
    to_file = check_envelope(run_cli(env, "server", "api-key", "create", "--json", "--key-file", str(key_file)),
                             "server.api-key.create")["data"]
    assert to_file["key"] is None and key_file.read_text().strip().startswith("cmem_")
    revoked = check_envelope(run_cli(env, "server", "api-key", "revoke", created["id"], "--json"),
                             "server.api-key.revoke")
    assert revoked["data"] == {"id": created["id"], "status": "revoked"}
    check_envelope(run_cli(env, "worker", "stop", "--json", timeout=120), "worker.stop")
    check_envelope(run_cli(env, "worker", "start", "--json", timeout=120), "worker.start")
    check_envelope(run_cli(env, "server", "restart", "--json", timeout=120), "server.restart")
    check_envelope(run_cli(env, "server", "stop", "--json", timeout=120), "server.stop")
    check_envelope(run_cli(env, "server", "start", "--json", timeout=120), "server.start")
    down = check_envelope(run_cli(env, "stack", "down", "--json", timeout=120), "stack.down")
    assert down["ok"]
    assert not check_envelope(run_cli(env, "stack", "status", "--json"), "stack.status")["ok"]


def test_foreground_server_keeps_its_pid_and_is_stopped_by_identity(env):
    ok(run_cli(env, "store", "start"))
    ok(run_cli(env, "postgres", "start", timeout=120))
    log_path = Path(env["HOME"]) / "foreground.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "cmem_ops", "server", "start", "--foreground"], env=env,
                                stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
    try:
        def ready() -> subprocess.CompletedProcess[str] | None:
            out = run_cli(env, "server", "status", "--json")
            if out.returncode == 0:
                return out
            assert proc.poll() is None, log_path.read_text()
            return None

        try:
            out = poll(ready, Deadline.after(60), what="`server status` of the foreground server to exit 0",
                       interval=0.2)
        except OpsTimeoutError as exc:
            raise AssertionError(f"{exc}; the server's log:\n{log_path.read_text()}") from None
        data = json.loads(out.stdout)["data"]
        assert data["running"] and data["ready"] and data["pid"] == proc.pid  # exec kept our pid
        cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        assert "server-service.cjs start --cmem-ops-token=" in cmdline
        ok(run_cli(env, "server", "stop"))
        assert proc.wait(timeout=30) is not None
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait()


def test_invalid_environment_is_refused_with_fixes_before_anything_starts(tmp_path):
    env = user_env(tmp_path, CLAUDE_MEM_DOCKER="1", CLAUDE_MEM_AUTH_MODE="local-dev")
    out = run_cli(env, "server", "start")
    assert out.returncode == 3, out.stderr
    assert "server startup configuration is invalid:" in out.stderr
    assert "CLAUDE_MEM_AUTH_MODE=local-dev is refused under Docker" in out.stderr
    assert "CLAUDE_MEM_SERVER_DATABASE_URL is not set" in out.stderr and "fix: cmem-ops postgres start" in out.stderr
    assert not (Path(env["CLAUDE_MEM_DATA_DIR"]) / "run" / "server.json").exists()
    # a refused start, and a check, write nothing: no settings.json with a port pinned, no data dir at all
    for argv in (("worker", "start"), ("server", "check")):
        assert run_cli(env, *argv).returncode == 3, argv
    assert not Path(env["CLAUDE_MEM_DATA_DIR"]).exists()


def test_e2e_passes_end_to_end(runtime_home, tmp_path):
    if postgres_skip_reason():
        pytest.skip(postgres_skip_reason())
    env = user_env(tmp_path)
    out = run_cli(env, "e2e", "--runtime-from", str(runtime_home), timeout=900)
    lines = [line for line in out.stdout.splitlines() if line.startswith(("PASS", "FAIL", "SKIP"))]
    assert out.returncode == 0, out.stdout + out.stderr[-4000:]
    assert len(lines) >= 14 and all(line.startswith("PASS") for line in lines), out.stdout


def test_records_naming_an_unrelated_process_are_never_signalled(tmp_path):
    env = user_env(tmp_path)
    run_dir = Path(env["CLAUDE_MEM_DATA_DIR"]) / "run"
    run_dir.mkdir(parents=True)
    unrelated = subprocess.Popen(["sleep", "60"])
    try:
        wait_exec(unrelated.pid, "sleep")
        from cmem_ops.pidfile import PidRecord, read_proc, write_pidfile

        info = read_proc(unrelated.pid)
        for name in ("server", "worker-1"):  # its real pid and start time, but not our token
            write_pidfile(run_dir / f"{name}.json", PidRecord(unrelated.pid, info.start_id, "0badc0de", name))
        status = run_cli(env, "server", "status")
        assert status.returncode == 7 and "Server: not running" in status.stdout
        assert ok(run_cli(env, "server", "stop")).stdout.startswith("The claude-mem server is not running")
        ok(run_cli(env, "worker", "stop"))
        ok(run_cli(env, "stack", "down"))
        assert pid_alive(unrelated.pid) and unrelated.poll() is None
        assert not list(run_dir.glob("*.json"))  # stale records are dropped, nothing was signalled
    finally:
        unrelated.kill()
        unrelated.wait()
