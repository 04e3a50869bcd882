"""Hosted-service verdicts against a real server that blocks CONFIG, reached under a provider's host name.

The host name resolves to 127.0.0.1 through a private /etc/hosts in a mount namespace of the doctor's
own process (unshare -m), so nothing on the machine changes and all traffic stays on loopback.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from tests import topology_support as ts
from tests.support import user_env

pytestmark = pytest.mark.integration


def _can_unshare() -> bool:
    if not shutil.which("unshare"):
        return False
    done = subprocess.run(["unshare", "-m", "true"], capture_output=True, check=False)
    return done.returncode == 0


needs_unshare = pytest.mark.skipif(not _can_unshare(), reason="needs `unshare -m` (root in a mount namespace)")


def doctor_as(tmp_path, env, names):
    """Run the doctor with `names` resolving to 127.0.0.1 (its own /etc/hosts)."""
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.1 localhost " + " ".join(names) + "\n")
    script = f'mount --bind "{hosts}" /etc/hosts && exec "$0" -m cmem_ops doctor --json --only store --no-smoke'
    out = subprocess.run(["unshare", "-m", "sh", "-c", script, sys.executable], env=env, capture_output=True,
                         text=True, timeout=60, check=False)
    return out, {r["name"]: r for r in json.loads(out.stdout)["data"]["results"]}


@pytest.fixture
def locked(tmp_path):
    """A real Valkey with CONFIG renamed away (as hosted services do), allkeys-lru and no AOF."""
    with ts.standalone(ts.modern_binary(), tmp_path / "s", "--rename-command", "CONFIG", "",
                       "--maxmemory-policy", "allkeys-lru") as server:
        yield server


@needs_unshare
def test_elasticache_gets_its_parameter_group_and_its_durability(tmp_path, locked):
    host = "cmq.x1y2z3.ng.0001.use1.cache.amazonaws.com"
    env = user_env(tmp_path, CLAUDE_MEM_REDIS_URL=f"redis://{host}:{locked.port}/0")
    out, results = doctor_as(tmp_path, env, [host])
    policy, persistence = results["eviction policy"], results["persistence"]
    assert out.returncode != 0 and policy["status"] == "fail" and "allkeys-lru" in policy["summary"]
    assert "from INFO memory" in policy["detail"] and "CONFIG SET" in policy["detail"]
    assert "modify-cache-parameter-group" in policy["hint"] and "CONFIG SET" not in policy["hint"]
    assert persistence["status"] == "warn" and "Multi-AZ" in persistence["summary"]
    assert "modify-replication-group" in persistence["hint"]
    assert results["provider"]["summary"] == "Amazon ElastiCache (from the host name *.cache.amazonaws.com)"


@needs_unshare
def test_upstash_is_durable_without_aof(tmp_path, locked):
    host = "eu1-happy-cat-12345.upstash.io"
    env = user_env(tmp_path, CLAUDE_MEM_REDIS_URL=f"redis://{host}:{locked.port}/0")
    _, results = doctor_as(tmp_path, env, [host])
    assert results["persistence"]["status"] == "ok" and "durable block storage" in results["persistence"]["summary"]
    assert "Eviction: turn it off" in results["eviction policy"]["hint"]


@needs_unshare
def test_blocked_config_without_a_known_name_says_it_cannot_tell(tmp_path, locked):
    host = "queue.internal.example"
    env = user_env(tmp_path, CLAUDE_MEM_REDIS_URL=f"redis://{host}:{locked.port}/0")
    _, results = doctor_as(tmp_path, env, [host])
    assert "cannot be told" in results["provider"]["detail"]
    assert "parameter group" in results["eviction policy"]["hint"] and "CONFIG SET" not in \
        results["eviction policy"]["hint"]
    assert results["persistence"]["status"] == "warn" and "CONFIG is blocked" in results["persistence"]["hint"]


def test_loopback_with_config_blocked_is_not_called_hosted(tmp_path, locked):
    env = user_env(tmp_path, CLAUDE_MEM_REDIS_URL=locked.url)
    out = subprocess.run([sys.executable, "-m", "cmem_ops", "doctor", "--json", "--only", "store", "--no-smoke"],
                         env=env, capture_output=True, text=True, timeout=60, check=False)
    results = {r["name"]: r for r in json.loads(out.stdout)["data"]["results"]}
    assert "provider" not in results and results["eviction policy"]["status"] == "fail"
