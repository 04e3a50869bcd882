"""Topology verdicts over INFO captured from real replicas, cluster nodes and Sentinels."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cmem_ops.probes.base import Status
from cmem_ops.probes.topology import (
    Role,
    build_primary_url,
    check_topology,
    parse_sentinel_masters,
    parse_topology,
    status_problem,
)
from cmem_ops.redis_url import parse_redis_url
from cmem_ops.resp import parse_info

FIX = Path(__file__).parents[1] / "fixtures" / "servers" / "topology"
LABELS = sorted({p.name.split("-replica")[0] for p in FIX.glob("*-replica.txt")})


def info(name: str) -> dict[str, str]:
    return parse_info((FIX / name).read_text())


@pytest.mark.parametrize("label", LABELS)
def test_primary_with_two_replicas_is_ok(label):
    topo = parse_topology(info(f"{label}-primary-2-replicas.txt"))
    assert topo.role is Role.PRIMARY and topo.replicas == 2
    verdict = check_topology(topo, parse_redis_url("redis://127.0.0.1:6379/0"), "t")
    assert verdict.status is Status.OK and verdict.summary == "primary with 2 replicas"


@pytest.mark.parametrize("label", LABELS)
def test_replica_fails_naming_its_primary_and_the_url_to_use(label):
    raw = info(f"{label}-replica.txt")
    topo = parse_topology(raw)
    assert topo.role is Role.REPLICA and topo.link == "up" and topo.read_only
    target = parse_redis_url("redis://app:s3cret@127.0.0.1:7000/2")
    verdict = check_topology(topo, target, "t")
    primary = f"{raw['master_host']}:{raw['master_port']}"
    assert verdict.status is Status.FAIL and f"replica of {primary}" in verdict.summary
    assert verdict.hint == f"CLAUDE_MEM_REDIS_URL=redis://app:<password>@{primary}/2"
    assert "master_link_status" in verdict.detail and "READONLY" in verdict.detail


def test_replica_with_link_down_and_writable_says_so():
    raw = info("valkey-9.1-replica.txt") | {"master_link_status": "down", "slave_read_only": "0"}
    verdict = check_topology(parse_topology(raw), parse_redis_url("redis://127.0.0.1:7000"), "t")
    assert "is down" in verdict.detail and "cannot reach it" in verdict.detail
    assert "discarded at the next resync" in verdict.detail


@pytest.mark.parametrize("label", [p.name.split("-cluster")[0] for p in sorted(FIX.glob("*-cluster-node.txt"))])
def test_cluster_node_fails_with_what_to_deploy(label):
    topo = parse_topology(info(f"{label}-cluster-node.txt"))
    assert topo.role is Role.CLUSTER
    verdict = check_topology(topo, parse_redis_url("redis://127.0.0.1:7000"), "t")
    assert verdict.status is Status.FAIL and "no cluster client" in verdict.detail
    assert "CROSSSLOT" in verdict.detail and "cmem-ops store start" in (verdict.hint or "")


def test_dragonfly_emulated_cluster_is_left_to_the_dragonfly_check():
    raw = {"dragonfly_version": "df-v1.21.2", "role": "master", "cluster_enabled": "1"}
    assert parse_topology(raw, {"cluster_mode": "emulated"}).role is Role.PRIMARY
    assert parse_topology(raw, {"cluster_mode": "yes"}).role is Role.CLUSTER


@pytest.mark.parametrize("label", LABELS)
def test_sentinel_is_recognised_from_info_alone_with_its_primaries(label):
    topo = parse_topology(info(f"{label}-sentinel.txt"))
    assert topo.role is Role.SENTINEL
    (primary,) = topo.monitored
    assert primary.name == "cmemq" and primary.host == "127.0.0.1" and primary.replicas == 1
    verdict = check_topology(topo, parse_redis_url("redis://127.0.0.1:26379/0"), "t")
    assert verdict.status is Status.FAIL and "is a Sentinel" in verdict.summary
    assert f"redis://127.0.0.1:{primary.port}/0" in verdict.summary
    assert verdict.hint.startswith(f"CLAUDE_MEM_REDIS_URL=redis://127.0.0.1:{primary.port}/0")
    assert "stable address" in verdict.detail and "failover" in verdict.detail


@pytest.mark.parametrize("label", LABELS)
def test_sentinel_masters_reply_gives_the_same_primary(label):
    raw = json.loads((FIX / f"{label}-sentinel-masters.json").read_text())
    reply = [[x.encode() for x in entry] for entry in raw]
    (primary,) = parse_sentinel_masters(reply)
    assert primary.name == "cmemq" and primary.status == "master" and primary.replicas == 1


def test_sentinel_with_two_primaries_lists_both():
    raw = {"redis_mode": "sentinel", "sentinel_masters": "2",
           "master0": "name=a,status=ok,address=10.0.0.1:6379,slaves=1,sentinels=3",
           "master1": "name=b,status=odown,address=10.0.0.2:6380,slaves=0,sentinels=3"}
    verdict = check_topology(parse_topology(raw), parse_redis_url("rediss://10.0.0.9:26379/0"), "t")
    assert "a: primary at 10.0.0.1:6379" in verdict.summary and "b: primary at 10.0.0.2:6380 (odown" in verdict.summary
    assert [p["url"] for p in verdict.data["primaries"]] == ["rediss://10.0.0.1:6379/0", "rediss://10.0.0.2:6380/0"]


def test_primary_url_keeps_scheme_user_db_and_brackets_ipv6():
    assert build_primary_url(parse_redis_url("rediss://u@h:1/3"), "::1", 7000) == "rediss://u@[::1]:7000/3"
    assert build_primary_url(parse_redis_url("redis://:pw@h:1"), "db.internal", 7000) == \
        "redis://:<password>@db.internal:7000/0"


def test_status_problem_is_none_for_a_primary():
    assert status_problem(info("redis-7.0-primary-2-replicas.txt"), parse_redis_url("redis://h:1")) is None
    problem, hint = status_problem(info("redis-7.0-replica.txt"), parse_redis_url("redis://h:1"))
    assert "replica of" in problem and hint.startswith("CLAUDE_MEM_REDIS_URL=")


def test_primary_below_min_replicas_to_write_refuses_writes():
    raw = info("valkey-9.1-primary-2-replicas.txt") | {"connected_slaves": "0", "min_slaves_good_slaves": "0"}
    verdict = check_topology(parse_topology(raw), parse_redis_url("redis://h:1"), "t")
    assert verdict.status is Status.FAIL and "NOREPLICAS" in verdict.summary
    assert "CONFIG SET min-replicas-to-write 0" in verdict.hint
    enough = raw | {"connected_slaves": "2", "min_slaves_good_slaves": "2"}
    assert check_topology(parse_topology(enough, {"min-replicas-to-write": "2"}), parse_redis_url("redis://h:1"),
                          "t").status is Status.OK
    short = check_topology(parse_topology(enough, {"min-replicas-to-write": "3"}), parse_redis_url("redis://h:1"), "t")
    assert short.status is Status.FAIL and "min-replicas-to-write 3 and only 2 good replicas" in short.summary
