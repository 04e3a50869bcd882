"""`store upgrade` for real: Valkey 8.1 -> 9.1, Redis 7.0 -> Valkey 9.1, refused downgrades, a rollback."""

from __future__ import annotations

import json
import shutil

import pytest
import redis

from cmem_ops.context import build_context
from cmem_ops.errors import ConfigError, OpsError
from cmem_ops.lifecycle import store as store_service
from cmem_ops.lifecycle.upgrade import upgrade
from cmem_ops.store import state
from cmem_ops.store.pinned import KEY_STORE_BINARY
from tests.support import real_binaries, run_cli, user_env

pytestmark = pytest.mark.integration

BINARIES = {b.label: b for b in real_binaries()}


def path_of(label):
    found = BINARIES[label]
    if found.path is None:
        pytest.skip(found.why_missing)
    return str(found.path)


@pytest.fixture
def env(tmp_path):
    env = user_env(tmp_path)
    yield env
    store_service.stop(build_context(env))


def start_with(env, label, keys=200):
    ctx = build_context(env)
    store_service.start(ctx, binary=path_of(label))
    r = redis.Redis.from_url(ctx.reload().settings.redis_url)
    pipe = r.pipeline()
    for i in range(keys):
        pipe.rpush("bull:q:wait", i)
        pipe.hset(f"bull:q:{i}", mapping={"data": "{}", "attempts": 3})
    pipe.set("lock", "x", ex=600)
    pipe.execute()
    return ctx.reload()


def info_server(ctx):
    return redis.Redis.from_url(ctx.reload().settings.redis_url).info("server")


@pytest.mark.parametrize(("source", "expected_from"), [("valkey-8.1", "Valkey 8.1.8"), ("redis-7.0", "Redis 7.0.15"),
                                                     ("redis-6.2", "Redis 6.2.5")])
def test_upgrade_to_valkey_9_1_keeps_every_key(env, tmp_path, source, expected_from):
    ctx = start_with(env, source)
    target = path_of("valkey-9.1")
    said = []
    result = upgrade(ctx, to="9.1", backup_dir=tmp_path / "backups", say=said.append)
    assert result.from_label == expected_from and result.to_label == "Valkey 9.1.2"
    assert result.keys.keys == 202 and result.backup.is_file() and result.aside.is_dir()
    # the real BullMQ client (Node, the one claude-mem runs) adds, processes and removes a job
    assert result.smoke.startswith("ok" if shutil.which("node") else ("ok", "warn")), result.smoke
    assert info_server(ctx)["valkey_version"] == "9.1.2"
    assert state.running_record(ctx.paths).binary == target
    # pinned: a plain restart stays on the new server
    ctx = ctx.reload()
    assert ctx.settings.file_values[KEY_STORE_BINARY] == target
    store_service.stop(ctx)
    store_service.start(ctx)
    assert info_server(ctx)["valkey_version"] == "9.1.2"
    assert redis.Redis.from_url(ctx.settings.redis_url).llen("bull:q:wait") == 200
    assert any("whether it reads the snapshot" in line for line in said)
    # uninstall clears the pin with cmem-ops' other keys (the data is kept)
    gone = run_cli(env, "uninstall", "--json")
    assert gone.returncode == 0, gone.stderr
    assert KEY_STORE_BINARY in json.loads(gone.stdout)["data"]["cleared_keys"]
    assert KEY_STORE_BINARY not in ctx.reload().settings.file_values


@pytest.mark.parametrize("target", ["redis-7.0", "redis-6.2"])
def test_a_downgrade_the_target_cannot_read_is_refused_before_anything_stops(env, tmp_path, target):
    ctx = start_with(env, "valkey-9.1")
    pid = state.running_record(ctx.paths).pid
    with pytest.raises(ConfigError) as err:
        upgrade(ctx, binary=path_of(target), backup_dir=tmp_path / "backups", smoke=False)
    assert "nothing was stopped" in err.value.message and "VALKEY080" in err.value.message
    assert state.running_record(ctx.paths).pid == pid  # the same process, never stopped
    assert info_server(ctx)["valkey_version"] == "9.1.2"
    assert KEY_STORE_BINARY not in ctx.reload().settings.file_values


def test_a_target_that_fails_verification_is_rolled_back(env, tmp_path):
    ctx = start_with(env, "redis-7.0", keys=50)
    impostor = tmp_path / "valkey-server"
    # Says it is Valkey 9.1.2 but runs Valkey 8.1: the version check after the start must catch it.
    impostor.write_text("#!/bin/bash\nif [ \"$1\" = --version ]; then echo 'Valkey server v=9.1.2 sha=0'; exit 0; fi\n"
                        f"exec -a \"$0\" {path_of('valkey-8.1')} \"$@\"\n")
    impostor.chmod(0o755)
    with pytest.raises(OpsError, match=r"rolled back to Redis 7\.0\.15") as err:
        upgrade(ctx, binary=str(impostor), backup_dir=tmp_path / "backups", smoke=False)
    assert "reports Valkey 8.1.8" in err.value.message
    ctx = ctx.reload()
    assert info_server(ctx)["redis_version"] == "7.0.15" and "valkey_version" not in info_server(ctx)
    assert redis.Redis.from_url(ctx.settings.redis_url).llen("bull:q:wait") == 50
    assert KEY_STORE_BINARY not in ctx.settings.file_values
    assert list(ctx.paths.redis_dir.glob("data.failed-upgrade-*"))


def test_the_same_binary_is_not_an_upgrade(env, tmp_path):
    ctx = start_with(env, "valkey-9.1", keys=1)
    with pytest.raises(ConfigError, match=r"already runs Valkey 9\.1\.2"):
        upgrade(ctx, to="valkey-9.1", backup_dir=tmp_path / "b")
