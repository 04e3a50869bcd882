"""The OS says no: unwritable, immutable and misplaced files, and a full disk. Errors, never tracebacks."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import redis

from tests.faults import world
from tests.faults.conftest import is_root
from tests.faults.world import assert_readable, cli, envelope, servers, write_acked

pytestmark = pytest.mark.faults


def _immutable(path: Path) -> None:
    if not is_root() or shutil.which("chattr") is None:
        pytest.skip("chattr +i needs root and e2fsprogs' chattr")
    done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"this filesystem does not take chattr +i: {done.stderr.strip()}")


def _mutable(path: Path) -> None:
    subprocess.run(["chattr", "-i", str(path)], capture_output=True, check=False)


def _conf_is_dir(env: dict[str, str]) -> tuple[Path, str]:
    conf = world.data_dir(env) / "redis" / "redis.conf"
    text = conf.read_text()
    conf.unlink()
    conf.mkdir()
    return conf, text


@pytest.mark.parametrize("fault", ["conf-is-a-directory", "conf-immutable", "data-dir-immutable"])
def test_restart_refuses_before_stopping_when_a_file_it_writes_is_refused(started, fault):
    env = started
    data = write_acked(env, "k")
    pid = servers(env)[0]
    conf = world.data_dir(env) / "redis" / "redis.conf"
    target, errno_name = {"conf-is-a-directory": (conf, "EISDIR"), "conf-immutable": (conf, "EPERM"),
                          "data-dir-immutable": (world.redis_data(env), "EPERM")}[fault]
    saved = None
    if fault == "conf-is-a-directory":
        _, saved = _conf_is_dir(env)
    else:
        _immutable(target)
    try:
        out = cli(env, "store", "restart", "--json")
        assert out.returncode == 1, out.stdout + out.stderr
        error = envelope(out)["error"]
        assert str(target) in error["message"] and errno_name in error["message"], error
        assert error["hint"] and error["type"] == "FileError"
        assert servers(env) == [pid], "restart stopped the store although it could not start it again"
        text = cli(env, "store", "restart")
        assert text.returncode == 1 and str(target) in text.stderr and "hint:" in text.stderr
    finally:
        if fault == "conf-is-a-directory":
            conf.rmdir()
            conf.write_text(saved or "")
        else:
            _mutable(target)
    again = cli(env, "store", "restart")
    assert again.returncode == 0, again.stderr
    world.assert_settings_name_the_server(env)
    assert_readable(env, data)


def test_start_with_redis_conf_replaced_by_a_directory_is_an_error_with_an_envelope(started):
    env = started
    data = write_acked(env, "k")
    assert cli(env, "store", "stop").returncode == 0  # the conf is unreadable: settings' password still works
    conf, _ = _conf_is_dir(env)
    out = cli(env, "store", "start", "--json")
    assert out.returncode == 1 and "EISDIR" in envelope(out)["error"]["message"]
    assert servers(env) == []
    conf.rmdir()
    assert cli(env, "store", "start").returncode == 0
    assert_readable(env, data)


def test_an_immutable_settings_file_stops_the_start_before_anything_runs(env):
    settings = world.data_dir(env) / "settings.json"
    settings.parent.mkdir(parents=True)
    settings.write_text("{}\n")
    _immutable(settings)
    try:
        out = cli(env, "store", "start", "--json")
        assert out.returncode == 1, out.stdout + out.stderr
        error = envelope(out)["error"]
        assert "settings.json" in error["message"] and "EPERM" in error["message"] and "chattr -i" in error["hint"]
        assert servers(env) == [], "a server runs that settings.json does not name"
        up = cli(env, "up", "--no-smoke")
        assert up.returncode == 1 and "EPERM" in up.stderr
    finally:
        _mutable(settings)
    assert cli(env, "store", "start").returncode == 0
    world.assert_settings_name_the_server(env)


def test_a_full_disk_keeps_every_acknowledged_write_and_stop_says_why(env):
    if not is_root():
        pytest.skip("mounting a small tmpfs for the data dir needs root")
    mount = world.redis_data(env)
    mount.mkdir(parents=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", str(mount)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        assert cli(env, "store", "start").returncode == 0
        pid = servers(env)[0]
        acked = write_acked(env, "before", 100)
        filler = mount / "filler"
        with open(filler, "wb") as fh:  # take every free block, as a full disk would
            try:
                while True:
                    fh.write(b"\0" * 65536)
                    fh.flush()
            except OSError:
                pass
        c = world.client(env)
        refused = False
        for i in range(2000):
            try:
                if c.set(f"during:{i}", "x" * 200):
                    acked[f"during:{i}"] = "x" * 200  # the server said OK: it must never be lost
            except redis.ResponseError as exc:
                assert "MISCONF" in str(exc)
                refused = True
                break
        assert refused, "the server never refused a write on a full disk"
        doctor = cli(env, "doctor", "--only", "store", "--no-smoke", "--timeout", "8")
        assert doctor.returncode != 0 and "free disk space on" in doctor.stdout, doctor.stdout
        assert "Redis-compatible" not in doctor.stdout
        stop = cli(env, "store", "stop")
        if stop.returncode == 0:  # every acknowledged write was already in the AOF: NOSAVE lost nothing
            assert "free disk space on" in stop.stdout and "NOSAVE" in stop.stdout, stop.stdout
        else:
            assert stop.returncode == 1 and "free disk space on" in stop.stderr, stop.stdout + stop.stderr
            assert servers(env) == [pid], "stop gave up on a server that still held acknowledged writes"
            filler.unlink()
            stop = cli(env, "store", "stop")
            assert stop.returncode == 0, stop.stdout + stop.stderr
        assert servers(env) == []
        filler.unlink(missing_ok=True)
        assert cli(env, "store", "start").returncode == 0
        assert_readable(env, acked)
        assert cli(env, "store", "stop").returncode == 0
    finally:
        world.kill_all(servers(env))
        subprocess.run(["umount", "-l", str(mount)], capture_output=True, check=False)


def test_settings_json_as_a_directory_is_a_config_error_not_a_traceback(env):
    settings = world.data_dir(env) / "settings.json"
    settings.mkdir(parents=True)
    for args in (("store", "start", "--json"), ("store", "status", "--json"), ("store", "stop", "--json")):
        out = cli(env, *args)
        assert out.returncode in (0, 3, 7), (args, out.stdout, out.stderr)
        body = envelope(out)
        assert body["ok"] or "settings.json" in json.dumps(body["error"]), body
    assert servers(env) == []
    os.rmdir(settings)


def test_an_unwritable_snapshot_stops_with_nosave_only_because_the_aof_holds_every_write(started):
    env = started
    data = write_acked(env, "k", 200)
    snapshot = world.redis_data(env) / "dump.rdb"
    snapshot.unlink(missing_ok=True)
    snapshot.mkdir()  # the final RDB save fails (rename onto a directory); the AOF is fine
    try:
        stop = cli(env, "store", "stop")
        assert stop.returncode == 0, stop.stdout + stop.stderr
        assert "SHUTDOWN NOSAVE" in stop.stdout and "aof_buffer_length:0" in stop.stdout
        assert "free disk space" not in stop.stdout  # the disk is not full: the message does not say so
        assert servers(env) == []
    finally:
        snapshot.rmdir()
    assert cli(env, "store", "start").returncode == 0
    assert_readable(env, data)
