"""The managed Postgres as a user meets it: a real private cluster, a private HOME, the real CLI, psycopg."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from cmem_ops.context import build_context
from cmem_ops.lifecycle import postgres as pg
from cmem_ops.pgcluster.cluster import load_state, record_file
from cmem_ops.pidfile import PidRecord, read_proc, write_pidfile
from tests.envelope import check_envelope
from tests.pg_support import managed_postgres, postgres_skip_reason, reachable_pg_root
from tests.support import free_port, kill_quietly, pid_alive, run_cli, user_env

pytestmark = pytest.mark.integration


def data_dir(env: dict[str, str]) -> Path:
    return Path(env["CLAUDE_MEM_DATA_DIR"])


def status_json(env: dict[str, str]) -> dict:
    out = run_cli(env, "postgres", "status", "--json")
    return json.loads(out.stdout)["data"]


def processes_with(text: str) -> list[int]:
    """Live (non-zombie) pids whose command line contains `text`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if text in cmdline and pid_alive(int(entry.name)):
                found.append(int(entry.name))
    return found


@pytest.fixture
def env(tmp_path):
    reason = postgres_skip_reason()
    if reason:
        pytest.skip(reason)
    env = user_env(tmp_path)
    own_root = None
    if os.geteuid() == 0:
        own_root = reachable_pg_root()
        env["CMEM_OPS_POSTGRES_ROOT"] = str(own_root)
    yield env
    run_cli(env, "postgres", "stop")
    if own_root is not None:
        subprocess.run(["rm", "-rf", str(own_root)], check=False)


def test_start_connect_restart_keeps_data_and_port_then_stop_leaves_nothing(env):
    out = run_cli(env, "postgres", "start")
    assert out.returncode == 0, out.stderr
    assert "Postgres: managed PostgreSQL" in out.stdout and "running" in out.stdout
    first = status_json(env)
    assert first["mode"] == "managed" and first["running"] is True and first["problem"] is None
    port, pid, pgdata = first["port"], first["pid"], Path(first["data_dir"])
    assert "***" in first["url"]

    url = pg.database_url(build_context(env))
    assert url and f"127.0.0.1:{port}/claude_mem" in url
    with psycopg.connect(url, connect_timeout=5) as conn:
        assert conn.execute("SELECT current_database()").fetchone() == ("claude_mem",)
        conn.execute("CREATE TABLE kept (v text)")
        conn.execute("INSERT INTO kept VALUES ('survives a restart')")

    settings = json.loads((data_dir(env) / "settings.json").read_text())
    assert settings["CLAUDE_MEM_SERVER_DATABASE_URL"] == url
    assert settings["CMEM_OPS_POSTGRES_MODE"] == "managed"
    for secret_file in (data_dir(env) / "settings.json", data_dir(env) / "postgres" / "cluster.json"):
        assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(pgdata.stat().st_mode) == 0o700
    if os.geteuid() == 0:
        assert pgdata.stat().st_uid != 0  # owned by the unprivileged cluster user
    log = data_dir(env) / "logs"
    assert any(p.name.startswith("postgres-") for p in log.iterdir())

    # a second start is a no-op
    again = run_cli(env, "postgres", "start", "--json")
    assert again.returncode == 0, again.stdout
    check_envelope(again, "postgres.start")
    assert json.loads(again.stdout)["data"]["pid"] == pid

    stopped = run_cli(env, "postgres", "stop")
    assert stopped.returncode == 0, stopped.stderr
    assert not pid_alive(pid)
    assert processes_with(str(pgdata)) == []
    assert not record_file(build_context(env).paths).exists()
    down = run_cli(env, "postgres", "status")
    assert down.returncode == 7 and "cmem-ops postgres start" in down.stdout

    restarted = run_cli(env, "postgres", "start")
    assert restarted.returncode == 0, restarted.stderr
    second = status_json(env)
    assert second["port"] == port and second["data_dir"] == str(pgdata) and second["pid"] != pid
    with psycopg.connect(url, connect_timeout=5) as conn:
        assert conn.execute("SELECT v FROM kept").fetchall() == [("survives a restart",)]

    assert run_cli(env, "postgres", "stop").returncode == 0
    assert processes_with(str(pgdata)) == []


def test_a_record_naming_an_unrelated_live_process_is_never_signalled(env):
    assert run_cli(env, "postgres", "start").returncode == 0
    assert run_cli(env, "postgres", "stop").returncode == 0
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"], start_new_session=True)
    try:
        info = read_proc(bystander.pid)
        assert info is not None
        paths = build_context(env).paths
        # Same pid and even the right start time: only the missing cluster_name marker tells it apart.
        write_pidfile(record_file(paths), PidRecord(pid=bystander.pid, start_id=info.start_id,
                                                    token="cluster_name=cmem-ops-0123456789abcdef",
                                                    component="postgres", port=load_state(paths).port))
        out = run_cli(env, "postgres", "stop")
        assert out.returncode == 0, out.stderr
        assert bystander.poll() is None and pid_alive(bystander.pid)
        assert not record_file(paths).exists()
        assert status_json(env)["running"] is False
        # and a start afterwards starts the real cluster, leaving the bystander alone
        assert run_cli(env, "postgres", "start").returncode == 0
        assert status_json(env)["running"] is True
        assert bystander.poll() is None
    finally:
        kill_quietly(bystander.pid)
        bystander.wait(timeout=10)


def test_port_held_by_someone_else_is_a_conflict_with_a_hint(env):
    assert run_cli(env, "postgres", "start").returncode == 0
    port = status_json(env)["port"]
    assert run_cli(env, "postgres", "stop").returncode == 0
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        out = run_cli(env, "postgres", "start")
    assert out.returncode == 5, out.stdout + out.stderr
    assert f"port {port} already answers" in out.stderr and "hint:" in out.stderr


def test_the_helper_yields_a_working_url(tmp_path):
    env = user_env(tmp_path)
    with managed_postgres(env) as url:
        with psycopg.connect(url, connect_timeout=5) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        pid = status_json(env)["pid"]
    assert not pid_alive(pid)


def test_an_external_url_is_reported_never_started_or_stopped(tmp_path):
    port = free_port()
    env = user_env(tmp_path, CLAUDE_MEM_SERVER_DATABASE_URL=f"postgres://app:s3cret@127.0.0.1:{port}/app")
    for command in ("start", "stop", "status"):
        out = run_cli(env, "postgres", command, "--json")
        check_envelope(out, f"postgres.{command}")
        data = json.loads(out.stdout)["data"]
        assert data["mode"] == "external" and data["running"] is False, command
        assert "s3cret" not in out.stdout and data["port"] == port
    assert not (data_dir(env) / "postgres" / "cluster.json").exists()
    assert pg.database_url(build_context(env)) == f"postgres://app:s3cret@127.0.0.1:{port}/app"


@pytest.mark.skipif(os.geteuid() != 0, reason="only root runs the cluster as another user")
def test_as_root_an_unreachable_postgres_root_is_refused_with_the_fix(tmp_path):
    reason = postgres_skip_reason()
    if reason:
        pytest.skip(reason)
    hidden = tmp_path / "private"
    hidden.mkdir(mode=0o700)
    os.chmod(hidden, 0o700)
    env = user_env(tmp_path, CMEM_OPS_POSTGRES_ROOT=str(hidden / "pg"))
    out = run_cli(env, "postgres", "start")
    assert out.returncode == 3, out.stdout + out.stderr
    assert "cannot reach" in out.stderr and "chmod o+x" in out.stderr and str(hidden) in out.stderr
