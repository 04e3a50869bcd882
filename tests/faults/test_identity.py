"""The store believes the world, not its own files: PID file lies, foreign servers, stopped processes, bad settings."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest
import redis

from cmem_ops.wait import Deadline, poll
from tests.faults import world
from tests.faults.world import assert_readable, assert_settings_name_the_server, cli, servers, write_acked
from tests.support import free_port, real_server

pytestmark = pytest.mark.faults


def _pings(port: int) -> bool:
    with redis.Redis(port=port, socket_timeout=1) as client:
        return bool(client.ping())


@pytest.mark.parametrize("garbage", ["not json {", ""], ids=["garbage", "empty"])
def test_a_lying_pid_file_never_hides_the_server_or_lets_a_second_one_start(started, garbage):
    env = started
    data = write_acked(env, "before")
    pid = servers(env)[0]
    pidfile = world.data_dir(env) / "redis" / "redis.pid"
    pidfile.write_text(garbage)

    status = cli(env, "store", "status")
    assert status.returncode == 0, status.stdout + status.stderr
    assert f"PID: {pid}" in status.stdout and "not running" not in status.stdout

    second = cli(env, "store", "start", "--new-port")
    assert second.returncode == 5 and f"running (pid {pid}" in second.stderr
    plain = cli(env, "store", "start")
    assert plain.returncode == 0 and "already running" in plain.stdout
    assert servers(env) == [pid]
    assert json.loads(pidfile.read_text())["pid"] == pid  # the cache was repaired from the world

    pidfile.write_text(garbage)
    stop = cli(env, "store", "stop")
    assert stop.returncode == 0 and f"pid {pid}" in stop.stdout, stop.stdout + stop.stderr
    assert servers(env) == []
    assert cli(env, "store", "start").returncode == 0
    assert_settings_name_the_server(env)
    assert_readable(env, data)


def test_a_pid_file_naming_a_live_unrelated_process_never_gets_it_signalled(started):
    env = started
    data = write_acked(env, "k")
    bystander = subprocess.Popen(["sleep", "120"])
    try:
        with open(f"/proc/{bystander.pid}/stat") as fh:
            ticks = fh.read().rsplit(")", 1)[1].split()[19]
        pidfile = world.data_dir(env) / "redis" / "redis.pid"
        pidfile.write_text(json.dumps({"pid": bystander.pid, "start_id": f"ticks:{ticks}", "token": "",
                                       "component": "redis"}))
        stop = cli(env, "store", "stop")
        assert stop.returncode == 0 and servers(env) == []
        assert bystander.poll() is None, "an unrelated process was signalled"
        pidfile.write_text(json.dumps({"pid": bystander.pid, "start_id": f"ticks:{ticks}", "token": "",
                                       "component": "redis"}))
        again = cli(env, "store", "stop")
        assert again.returncode == 0 and "not running" in again.stdout
        assert bystander.poll() is None
        assert cli(env, "store", "start").returncode == 0
        assert_readable(env, data)
    finally:
        bystander.kill()
        bystander.wait()


def test_start_refuses_while_another_server_runs_on_the_data_dir(env, redis_binary):
    assert cli(env, "store", "start").returncode == 0
    data = write_acked(env, "k")
    assert cli(env, "store", "stop").returncode == 0
    (world.data_dir(env) / "redis" / "redis.pid").unlink(missing_ok=True)
    port = free_port()
    # Someone else's server with `dir` = our data dir, no password, no PID file of ours.
    intruder = subprocess.Popen([str(redis_binary), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                 "--appendonly", "no", "--dir", str(world.redis_data(env))],
                                cwd=world.redis_data(env), stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        poll(lambda: servers(env) == [intruder.pid], Deadline.after(10),
             what=f"the intruder (pid {intruder.pid}) to be the one server on the data dir")
        for args in (("store", "start"), ("store", "start", "--new-port"), ("up", "--no-smoke")):
            out = cli(env, *args)
            assert out.returncode == 5, (args, out.stdout, out.stderr)
            assert f"pid {intruder.pid}" in out.stderr or f"pid {intruder.pid}" in out.stdout
            assert servers(env) == [intruder.pid], "a second server started on one data dir"
    finally:
        intruder.kill()
        intruder.wait()
    assert cli(env, "store", "start").returncode == 0
    assert_readable(env, data)


def test_a_stopped_store_is_named_and_stop_resumes_it_quickly(started):
    env = started
    data = write_acked(env, "k")
    pid = servers(env)[0]
    os.kill(pid, signal.SIGSTOP)
    try:
        status = cli(env, "store", "status")
        assert status.returncode == 1 and "not running" not in status.stdout
        assert f"kill -CONT {pid}" in status.stdout and "store restart" in status.stdout
        start = cli(env, "store", "start")
        assert start.returncode == 7 and "stopped" in start.stderr and "not ours" not in start.stderr
        assert f"kill -CONT {pid}" in start.stderr
        doctor = cli(env, "doctor", "--only", "store", "--no-smoke", "--timeout", "5")
        assert doctor.returncode != 0 and f"kill -CONT {pid}" in doctor.stdout
        t0 = time.monotonic()
        stop = cli(env, "store", "stop")
        assert stop.returncode == 0 and "SIGCONT" in stop.stdout, stop.stdout + stop.stderr
        assert time.monotonic() - t0 < 8, "stop waited out a timeout instead of resuming the server"
        assert "SIGKILL" not in stop.stdout and "killed" not in stop.stdout
    finally:
        world.kill_all([p for p in servers(env) if world.proc_state(p) == "T"])
    assert servers(env) == []
    assert cli(env, "store", "start").returncode == 0
    assert_readable(env, data)


def test_restart_that_cannot_start_does_not_stop_the_store(started):
    env = started
    data = write_acked(env, "k")
    pid = servers(env)[0]
    path = world.data_dir(env) / "settings.json"
    good = path.read_text()
    path.write_text(json.dumps({**json.loads(good), "CLAUDE_MEM_REDIS_PORT": "abc"}))
    t0 = time.monotonic()
    out = cli(env, "store", "restart")
    assert out.returncode == 3 and "CLAUDE_MEM_REDIS_PORT='abc'" in out.stderr
    assert time.monotonic() - t0 < 5
    assert servers(env) == [pid], "restart stopped the store although it could not start it again"
    path.write_text(good)
    again = cli(env, "store", "restart")
    assert again.returncode == 0, again.stderr
    assert servers(env) != [pid]
    assert_settings_name_the_server(env)
    assert_readable(env, data)


def test_broken_settings_do_not_block_stop_and_the_doctor_says_they_are_broken(started):
    env = started
    data = write_acked(env, "k")
    path = world.data_dir(env) / "settings.json"
    good = path.read_text()
    path.write_text(good[: len(good) // 2])  # truncated mid-write
    doctor = cli(env, "doctor", "--only", "store", "--no-smoke", "--timeout", "5")
    assert doctor.returncode != 0
    assert "settings are broken" in doctor.stdout and "line" in doctor.stdout
    assert "not configured" not in doctor.stdout
    stop = cli(env, "store", "stop")
    assert stop.returncode == 0, stop.stderr
    assert servers(env) == []
    start = cli(env, "store", "start")
    assert start.returncode == 3 and "settings.json" in start.stderr and "line" in start.stderr
    path.write_text(good)
    assert cli(env, "store", "start").returncode == 0
    assert_readable(env, data)


def test_a_foreign_server_on_the_managed_port_is_refused_and_never_probed(env, tmp_path, redis_binary):
    port = free_port()
    settings = world.data_dir(env) / "settings.json"
    settings.parent.mkdir(parents=True)
    settings.write_text(json.dumps({"CLAUDE_MEM_REDIS_MODE": "managed", "CLAUDE_MEM_REDIS_PORT": str(port),
                                    "CLAUDE_MEM_REDIS_URL": f"redis://default:secret@127.0.0.1:{port}/0"}))
    before = settings.read_bytes()
    foreign_dir = tmp_path / "foreign"
    argv = [str(redis_binary), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", str(foreign_dir)]
    foreign_dir.mkdir()
    proc = subprocess.Popen(argv, cwd=foreign_dir, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        poll(lambda: _pings(port), Deadline.after(10), what=f"the foreign server to answer PING on port {port}",
             transient=(redis.ConnectionError,))
        start = cli(env, "store", "start")
        assert start.returncode == 5 and "nothing was changed" in start.stderr
        assert f"pid {proc.pid}" in start.stderr
        assert settings.read_bytes() == before, "a refused start wrote settings.json"
        doctor = cli(env, "doctor", "--only", "store", "--timeout", "10", "--json")
        report = world.envelope(doctor)
        assert doctor.returncode != 0
        checks = {c["name"]: c for c in report["data"]["results"]}
        assert checks["ownership"]["status"] == "fail" and f"pid {proc.pid}" in checks["ownership"]["summary"]
        assert all(checks[n]["status"] == "skip" for n in ("persistence", "lua", "bullmq") if n in checks)
        assert redis.Redis(port=port).dbsize() == 0, "the doctor wrote to a server that is not ours"
    finally:
        proc.kill()
        proc.wait()


def test_uninstall_purge_keeps_the_url_the_user_wrote(env, tmp_path, redis_binary):
    with real_server(redis_binary, tmp_path / "ext") as server:
        url = server.url
        settings = world.data_dir(env) / "settings.json"
        settings.parent.mkdir(parents=True)
        settings.write_text(json.dumps({"CLAUDE_MEM_REDIS_URL": url, "CLAUDE_MEM_QUEUE_ENGINE": "bullmq",
                                        "OTHER": "x"}))
        out = cli(env, "uninstall", "--purge-data", "--yes")
        if out.returncode == 2 and "--yes" in out.stderr:
            out = cli(env, "uninstall", "--purge-data")
        assert out.returncode == 0, out.stdout + out.stderr
        kept = json.loads(settings.read_text())
        assert kept["CLAUDE_MEM_REDIS_URL"] == url and kept["OTHER"] == "x"
        assert "kept CLAUDE_MEM_REDIS_URL" in out.stdout + out.stderr


def test_a_pid_file_replaced_by_a_directory_is_named_not_a_traceback(started):
    env = started
    data = write_acked(env, "k")
    pid = servers(env)[0]
    pidfile = world.data_dir(env) / "redis" / "redis.pid"
    pidfile.unlink()
    pidfile.mkdir()
    status = cli(env, "store", "status")
    assert status.returncode == 0 and f"PID: {pid}" in status.stdout
    stop = cli(env, "store", "stop")
    assert stop.returncode == 0 and "EISDIR" in stop.stdout and servers(env) == []
    start = cli(env, "store", "start", "--json")
    assert start.returncode == 1 and "EISDIR" in world.envelope(start)["error"]["message"]
    assert servers(env) == []
    pidfile.rmdir()
    assert cli(env, "store", "start").returncode == 0
    assert_readable(env, data)


def test_sigstop_then_restart_brings_the_same_data_back(started):
    env = started
    data = write_acked(env, "k")
    pid = servers(env)[0]
    os.kill(pid, signal.SIGSTOP)
    out = cli(env, "store", "restart")
    assert out.returncode == 0, out.stdout + out.stderr
    assert pid not in servers(env)
    assert_settings_name_the_server(env)
    assert_readable(env, data)


def test_settings_naming_another_port_and_password_are_repaired_from_the_running_server(started):
    env = started
    data = write_acked(env, "k")
    pid = servers(env)[0]
    path = world.data_dir(env) / "settings.json"
    good = json.loads(path.read_text())
    wrong = free_port()
    path.write_text(json.dumps({**good, "CLAUDE_MEM_REDIS_PORT": str(wrong),
                                "CLAUDE_MEM_REDIS_URL": f"redis://default:wrong@127.0.0.1:{wrong}/0"}))
    status = cli(env, "store", "status")
    assert status.returncode == 1 and "cmem-ops store start" in status.stdout
    out = cli(env, "store", "start")
    assert out.returncode == 0 and "already running" in out.stdout
    assert servers(env) == [pid]
    assert_settings_name_the_server(env)  # the URL settings.json names reaches the running server again
    assert_readable(env, data)


def test_two_data_dirs_never_touch_each_other(started, tmp_path):
    other = world.user_env_for(tmp_path / "other")
    try:
        assert cli(other, "store", "start").returncode == 0
        theirs = servers(other)
        assert len(theirs) == 1 and theirs != servers(started)
        data = write_acked(started, "mine")
        assert cli(started, "store", "stop").returncode == 0
        assert servers(started) == [] and servers(other) == theirs
        assert cli(started, "store", "start").returncode == 0
        assert_readable(started, data)
    finally:
        cli(other, "store", "stop")
    assert world.pids_in(tmp_path / "other") == []


def test_a_restart_whose_start_fails_says_the_store_is_down_and_what_to_run(started, tmp_path):
    env = started
    data = write_acked(env, "k")
    broken = tmp_path / "broken-bin"
    broken.mkdir()
    fake = broken / "valkey-server"  # a broken upgrade: answers --version, dies on start
    fake.write_text('#!/bin/sh\nif [ "$1" = "--version" ]; then echo "Valkey server v=99.0.0 sha=0"; exit 0; fi\n'
                    'echo "fatal: cannot start" >&2\nexit 1\n')
    fake.chmod(0o755)
    out = cli({**env, "PATH": f"{broken}:{env['PATH']}"}, "store", "restart")
    assert out.returncode == 1, out.stdout + out.stderr
    assert "was stopped and did not start again, so it is down" in out.stderr
    assert "cmem-ops store start" in out.stderr and servers(env) == []
    assert cli(env, "store", "start").returncode == 0
    assert_readable(env, data)


def test_a_restart_onto_a_port_someone_else_holds_stops_nothing(started, tmp_path, redis_binary):
    env = started
    pid = servers(env)[0]
    with real_server(redis_binary, tmp_path / "foreign") as foreign:
        path = world.data_dir(env) / "settings.json"
        good = path.read_text()
        path.write_text(json.dumps({**json.loads(good), "CLAUDE_MEM_REDIS_PORT": str(foreign.port)}))
        out = cli(env, "store", "restart")
        assert out.returncode == 5 and "nothing was stopped" in out.stderr
        assert f"pid {foreign.proc.pid}" in out.stderr
        assert servers(env) == [pid]
        path.write_text(good)


def test_uninstall_json_says_which_keys_it_kept_and_why(env, tmp_path, redis_binary):
    with real_server(redis_binary, tmp_path / "ext", password="hunter2") as server:
        url = f"redis://default:hunter2@127.0.0.1:{server.port}/0"
        settings = world.data_dir(env) / "settings.json"
        settings.parent.mkdir(parents=True)
        settings.write_text(json.dumps({"CLAUDE_MEM_REDIS_URL": url, "CLAUDE_MEM_QUEUE_ENGINE": "bullmq"}))
        out = cli(env, "uninstall", "--purge-data", "--json")
        assert out.returncode == 0, out.stdout + out.stderr
        data = world.envelope(out)["data"]
        kept = {k["key"]: k for k in data["kept_keys"]}
        assert kept["CLAUDE_MEM_REDIS_URL"]["source"] == "settings.json"
        assert "external" in kept["CLAUDE_MEM_REDIS_URL"]["why"]
        assert str(server.port) in kept["CLAUDE_MEM_REDIS_URL"]["value"]
        assert "hunter2" not in out.stdout, "the password was printed"
        assert "CLAUDE_MEM_REDIS_URL" not in data["cleared_keys"]
        assert json.loads(settings.read_text())["CLAUDE_MEM_REDIS_URL"] == url
