"""The doctor and `status` against real replicas, cluster nodes and Sentinels (and after a failover)."""

from __future__ import annotations

import json
import time

import pytest

from tests import topology_support as ts
from tests.support import run_cli, user_env

pytestmark = pytest.mark.integration


def doctor(env, *args, timeout=40):
    t0 = time.monotonic()
    out = run_cli(env, "doctor", "--json", "--only", "store", *args, timeout=timeout)
    payload = json.loads(out.stdout)
    return out, {r["name"]: r for r in payload["data"]["results"]}, time.monotonic() - t0


def status(env):
    return run_cli(env, "status", timeout=20)


def test_primary_with_one_and_two_replicas(tmp_path):
    binary = ts.modern_binary()
    for count in (1, 2):
        with ts.primary_with_replicas(binary, tmp_path / f"r{count}", count) as (primary, replicas):
            env = user_env(tmp_path / f"p{count}", CLAUDE_MEM_REDIS_URL=primary.url)
            out, results, _ = doctor(env, "--no-smoke")
            assert results["topology"]["status"] == "ok", results["topology"]
            assert results["topology"]["summary"] == f"primary with {count} replica{'s' if count > 1 else ''}"
            for replica in replicas:
                env = user_env(tmp_path / f"x{replica.port}", CLAUDE_MEM_REDIS_URL=replica.url)
                for args in (("--no-smoke",), ()):
                    out, results, elapsed = doctor(env, *args)
                    topo = results["topology"]
                    assert out.returncode != 0 and topo["status"] == "fail", topo
                    assert f"replica of 127.0.0.1:{primary.port}" in topo["summary"]
                    assert topo["hint"] == f"CLAUDE_MEM_REDIS_URL=redis://127.0.0.1:{primary.port}/0"
                    assert results["eviction policy"]["status"] == "skip"
                    assert elapsed < 15
                if "bullmq" in results:
                    assert results["bullmq"]["status"] == "skip"
                st = status(env)
                assert st.returncode != 0 and "replica of" in st.stdout and f":{primary.port}/0" in st.stdout
            # the fix works: the URL the doctor printed passes
            env = user_env(tmp_path / f"fix{count}", CLAUDE_MEM_REDIS_URL=f"redis://127.0.0.1:{primary.port}/0")
            assert status(env).returncode == 0


def test_cluster_node_fails_in_doctor_and_status(tmp_path):
    with ts.cluster(ts.modern_binary(), tmp_path / "c") as nodes:
        env = user_env(tmp_path, CLAUDE_MEM_REDIS_URL=nodes[1].url)
        for args in (("--no-smoke",), ()):
            out, results, elapsed = doctor(env, *args)
            topo = results["topology"]
            assert out.returncode != 0 and topo["status"] == "fail"
            assert "cluster node" in topo["summary"] and "cluster_state:ok" in topo["summary"]
            assert "3 known nodes" in topo["summary"] and "no cluster client" in topo["detail"]
            assert elapsed < 15
        st = status(env)
        assert st.returncode != 0 and "cluster" in st.stdout


def test_sentinel_points_at_the_primary_and_follows_a_failover(tmp_path):
    with ts.sentinel_group(ts.modern_binary(), tmp_path / "s") as group:
        sentinel = group.sentinels[0]
        env = user_env(tmp_path / "u", CLAUDE_MEM_REDIS_URL=sentinel.url)
        out, results, _ = doctor(env, "--no-smoke")
        topo = results["topology"]
        assert out.returncode != 0 and topo["status"] == "fail"
        assert f"cmemq: primary at 127.0.0.1:{group.primary.port}" in topo["summary"]
        assert topo["hint"].startswith(f"CLAUDE_MEM_REDIS_URL=redis://127.0.0.1:{group.primary.port}/0")
        assert "stable address" in topo["detail"]
        text = run_cli(env, "doctor", "--only", "store").stdout
        assert "CONFIG disabled" not in text and "renamed" not in text
        st = status(env)
        assert st.returncode != 0 and "Sentinel" in st.stdout and f":{group.primary.port}/0" in st.stdout

        new_host, new_port = ts.failover(group)
        assert new_port == group.replica.port
        out, results, _ = doctor(env, "--no-smoke")
        assert results["topology"]["hint"].startswith(f"CLAUDE_MEM_REDIS_URL=redis://{new_host}:{new_port}/0")
        # the fix works: the new primary passes, the old one is now a replica pointing at it
        env_new = user_env(tmp_path / "n", CLAUDE_MEM_REDIS_URL=f"redis://{new_host}:{new_port}/0")
        out, results, _ = doctor(env_new, "--no-smoke")
        assert results["topology"]["status"] == "ok"
        env_old = user_env(tmp_path / "o", CLAUDE_MEM_REDIS_URL=group.primary.url)
        ts.poll(lambda: ts.info_of(group.primary.port, "replication").get("role") == "slave",
                ts.Deadline.after(15), what="the old primary to be demoted")
        out, results, _ = doctor(env_old, "--no-smoke")
        assert results["topology"]["status"] == "fail" and f"replica of 127.0.0.1:{new_port}" in \
            results["topology"]["summary"]


def test_primary_below_min_replicas_to_write(tmp_path):
    binary = ts.modern_binary()
    with ts.standalone(binary, tmp_path / "p", "--min-replicas-to-write", "1", "--min-replicas-max-lag", "10") as p:
        env = user_env(tmp_path / "u", CLAUDE_MEM_REDIS_URL=p.url)
        out, results, _ = doctor(env, "--no-smoke")
        topo = results["topology"]
        assert out.returncode != 0 and topo["status"] == "fail" and "NOREPLICAS" in topo["summary"], topo
        assert "min-replicas-to-write 1 and only 0 good replicas" in topo["summary"]
        st = status(env)
        assert st.returncode != 0 and "NOREPLICAS" in st.stdout
        # the fix the doctor printed works
        ts.command(p.port, *topo["hint"].split("redis-cli -u ")[1].split()[1:])
        out, results, _ = doctor(env, "--no-smoke")
        assert results["topology"]["status"] == "ok"
