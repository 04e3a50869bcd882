"""Hosted-service recognition (a data table) and the provider-specific fixes."""

from __future__ import annotations

import pytest

from cmem_ops.probes.base import ProbeResult, Status
from cmem_ops.probes.hosted import PROVIDERS, adjust, check_provider, detect_provider


@pytest.mark.parametrize(("host", "key"), [
    ("cmq.x1y2z3.ng.0001.use1.cache.amazonaws.com", "elasticache"),
    ("master.cmq.x1y2z3.use1.cache.amazonaws.com", "elasticache"),
    ("clustercfg.q.x1y2z3.memorydb.us-east-1.amazonaws.com", "memorydb"),
    ("cmq.redis.cache.windows.net", "azure"),
    ("eu1-happy-cat-12345.upstash.io", "upstash"),
    ("db-valkey-fra1-1234-do-user-1-0.b.db.ondigitalocean.com", "digitalocean"),
    ("cmq-project.a.aivencloud.com", "aiven"),
    ("redis-12345.c1.us-east-1-2.ec2.redns.redis-cloud.com", "rediscloud"),
    ("redis-12345.c1.us-east-1-2.ec2.cloud.redislabs.com", "rediscloud"),
    ("CMQ.REDIS.CACHE.WINDOWS.NET.", "azure"),
])
def test_provider_from_the_host_name(host, key):
    detection = detect_provider(host, config_blocked=False)
    assert detection.provider is not None and detection.provider.key == key and detection.hosted


def test_memorystore_and_unknown_names_cannot_be_told():
    private = detect_provider("10.12.0.3", config_blocked=True)
    assert private.provider is None and private.hosted and "Memorystore" in private.how
    assert "cannot be told" in private.how
    other = detect_provider("queue.internal.example", config_blocked=True)
    assert other.hosted and other.provider is None and "matches no known provider" in other.how
    assert not detect_provider("10.12.0.3", config_blocked=False).hosted
    assert not detect_provider("127.0.0.1", config_blocked=False).hosted
    assert not detect_provider("127.0.0.1", config_blocked=True).hosted  # nothing hosted answers on loopback
    assert not detect_provider("localhost", config_blocked=True).hosted


def test_every_provider_has_a_policy_fix_and_a_durability_story():
    for p in PROVIDERS:
        assert "noeviction" in p.policy_fix or "No eviction" in p.policy_fix or "Eviction" in p.policy_fix
        assert p.durability and (p.durable or p.durability_fix)


def test_policy_fail_gets_the_providers_fix():
    fail = ProbeResult("eviction policy", "t", Status.FAIL, "allkeys-lru: ...", detail="from INFO memory",
                       hint="redis-cli ... CONFIG SET maxmemory-policy noeviction")
    fixed = adjust(fail, detect_provider("x.redis.cache.windows.net", True))
    assert "az redis update" in fixed.hint and "Azure Cache for Redis blocks CONFIG SET" in fixed.detail
    ok = ProbeResult("eviction policy", "t", Status.OK, "noeviction")
    assert adjust(ok, detect_provider("x.redis.cache.windows.net", True)) is ok


def test_no_aof_on_hosted_services():
    warn = ProbeResult("persistence", "t", Status.WARN, "no AOF", hint="CONFIG SET appendonly yes",
                       data={"appendonly": "no"})
    assert adjust(warn, detect_provider("x.upstash.io", True)).status is Status.OK
    aiven = adjust(warn, detect_provider("x.aivencloud.com", True))
    assert aiven.status is Status.WARN and "RDB" in aiven.summary and "valkey_persistence" in aiven.hint
    aof = ProbeResult("persistence", "t", Status.OK, "AOF everysec", data={"appendonly": "yes"})
    assert adjust(aof, detect_provider("x.aivencloud.com", True)) is aof
    assert adjust(warn, detect_provider("127.0.0.1", False)) is warn


def test_provider_line():
    assert check_provider(detect_provider("127.0.0.1", False), "t") is None
    line = check_provider(detect_provider("x.upstash.io", False), "t")
    assert line.status is Status.OK and line.summary == "Upstash (from the host name *.upstash.io)"
