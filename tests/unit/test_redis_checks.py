"""Store verdicts over snapshots built from INFO captured from the real servers."""

from pathlib import Path

import pytest

from cmem_ops.probes import redis_checks as rc
from cmem_ops.probes.base import Status
from cmem_ops.probes.redis_conn import StoreHints, StoreSnapshot
from cmem_ops.redis_url import RedisTarget
from cmem_ops.resp import parse_info

FIXTURES = Path(__file__).parents[1] / "fixtures" / "servers"
TARGET = RedisTarget("127.0.0.1", 24000, password="pw")
MANAGED = StoreHints.for_mode("managed", TARGET)
EXTERNAL = StoreHints.for_mode("external", RedisTarget("10.1.2.3", 6379))


def snap(name="valkey-9.1.2", config=None, target=TARGET, ping_ms=0.2, **info_overrides):
    info = parse_info((FIXTURES / f"info-{name}.txt").read_text())
    info.update(info_overrides)
    base = {"maxmemory-policy": "noeviction", "appendonly": "yes", "appendfsync": "everysec", "bind": "127.0.0.1 ::1",
            "protected-mode": "yes", "maxmemory": "0", "maxclients": "10000"}
    return StoreSnapshot(target, info, base if config is None else config, None, ping_ms)


@pytest.mark.parametrize(("name", "text"), [("valkey-9.1.2", "Valkey 9.1.2"), ("valkey-8.1.8", "Valkey 8.1.8"),
                                            ("redis-8.2.3", "Redis 8.2.3"), ("redis-7.0.15", "Redis 7.0.15"),
                                            ("redis-6.2.5", "Redis 6.2.5")])
def test_version_ok_for_every_supported_server(name, text):
    result = rc.check_version(snap(name), "t", MANAGED)
    assert result.status is Status.OK and result.summary == text


def test_version_below_floor_fails():
    result = rc.check_version(snap("redis-6.2.5", redis_version="6.0.16"), "t", MANAGED)
    assert result.status is Status.FAIL and "6.2" in result.summary and result.hint


def test_policy():
    assert rc.check_policy(snap(), "t", MANAGED).status is Status.OK
    bad = rc.check_policy(snap(config={"maxmemory-policy": "allkeys-lru"}), "t", EXTERNAL)
    assert bad.status is Status.FAIL and "CONFIG SET maxmemory-policy noeviction" in bad.hint
    assert rc.check_policy(snap(config={"maxmemory-policy": "volatile-lru"}), "t", MANAGED).hint == \
        "cmem-ops store restart"


def test_policy_falls_back_to_info_when_config_is_disabled():
    info_only = StoreSnapshot(TARGET, {"maxmemory_policy": "noeviction"}, None, "ERR unknown command 'CONFIG'", 1.0)
    assert rc.check_policy(info_only, "t", EXTERNAL).status is Status.OK
    unknown = StoreSnapshot(TARGET, {}, None, "ERR unknown command 'CONFIG'", 1.0)
    result = rc.check_policy(unknown, "t", EXTERNAL)
    assert result.status is Status.WARN and result.hint


def test_persistence():
    assert rc.check_persistence(snap(), "t", MANAGED).summary == "AOF everysec"
    no_aof = rc.check_persistence(snap(config={"appendonly": "no", "appendfsync": "everysec"}), "t", EXTERNAL)
    assert no_aof.status is Status.WARN and "CONFIG SET appendonly yes" in no_aof.hint
    broken = rc.check_persistence(snap(aof_last_write_status="err"), "t", MANAGED)
    assert broken.status is Status.FAIL
    assert rc.check_persistence(snap(config={"appendonly": "yes", "appendfsync": "no"}), "t", MANAGED).status \
        is Status.WARN


def test_memory_against_maxmemory():
    mib = 1024 * 1024
    assert rc.check_memory(snap(used_memory=str(50 * mib)), "t", MANAGED).status is Status.OK
    cfg = {"maxmemory": str(100 * mib)}
    assert rc.check_memory(snap(config=cfg, used_memory=str(85 * mib)), "t", MANAGED).status is Status.WARN
    assert rc.check_memory(snap(config=cfg, used_memory=str(99 * mib)), "t", MANAGED).status is Status.FAIL


def test_clients_and_latency():
    assert rc.check_clients(snap(), "t", MANAGED).status is Status.OK
    assert rc.check_clients(snap(rejected_connections="3"), "t", MANAGED).status is Status.WARN
    assert rc.check_latency(snap(ping_ms=25.0), "t", MANAGED).status is Status.WARN
    assert rc.check_latency(snap(ping_ms=0.3), "t", MANAGED).status is Status.OK


def test_exposure():
    assert rc.check_exposure(snap(), "t", MANAGED).status is Status.OK
    open_cfg = {"bind": "0.0.0.0", "protected-mode": "no", "requirepass": ""}
    wide = rc.check_exposure(snap(config=open_cfg, target=RedisTarget("127.0.0.1", 6379)), "t", EXTERNAL)
    assert wide.status is Status.WARN and "without a password" in wide.summary
    with_pw = rc.check_exposure(snap(config={"bind": "* -::*", "protected-mode": "yes"}), "t", EXTERNAL)
    assert with_pw.status is Status.OK  # the target has a password
    pm_off = rc.check_exposure(snap(config={"bind": "0.0.0.0", "protected-mode": "no"}), "t", EXTERNAL)
    assert pm_off.status is Status.WARN and "protected-mode off" in pm_off.summary


def test_dragonfly_flags():
    base = {"redis_version": "7.4.0", "dragonfly_version": "df-v1.21.2"}
    assert rc.check_dragonfly(snap(), "t", MANAGED, None) is None  # not Dragonfly: no line
    # emulated cluster + hashtag locks would need a {hashtag} prefix, which claude-mem rewrites to _claude_mem_
    emulated = StoreSnapshot(TARGET, base, {"cluster_mode": "emulated", "lock_on_hashtags": "true"}, None, 1)
    for prefix in ("{claude_mem}", "claude_mem", None):
        result = rc.check_dragonfly(emulated, "t", EXTERNAL, prefix)
        assert result.status is Status.FAIL and "rewrites" in result.detail
        assert "--default_lua_flags=allow-undeclared-keys" in result.hint and "{claude_mem}" not in result.hint
    lua = StoreSnapshot(TARGET, base, {"default_lua_flags": "allow-undeclared-keys"}, None, 1)
    assert rc.check_dragonfly(lua, "t", EXTERNAL, None).status is Status.OK
    bare = StoreSnapshot(TARGET, base, {}, None, 1)
    result = rc.check_dragonfly(bare, "t", EXTERNAL, None)
    assert result.status is Status.FAIL and "allow-undeclared-keys" in result.hint
    assert "cluster_mode" not in result.hint
    blocked = StoreSnapshot(TARGET, base, None, "NOPERM", 1)
    assert rc.check_dragonfly(blocked, "t", EXTERNAL, None).status is Status.WARN
