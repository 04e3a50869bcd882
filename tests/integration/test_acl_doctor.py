"""ACL users with too few and with exactly enough rights, on real servers (DRYRUN and the MULTI probe)."""

from __future__ import annotations

import json
import shutil

import pytest

from cmem_ops.claudemem.queue_commands import build_acl_setuser
from tests import topology_support as ts
from tests.support import real_binaries, run_cli, user_env

pytestmark = pytest.mark.integration
PREFIX = "cmq_acl"
BINARIES = {b.label: b.path for b in real_binaries() if b.path}


def doctor(env, *args, timeout=90):
    out = run_cli(env, "doctor", "--json", "--only", "store", *args, timeout=timeout)
    return out, {r["name"]: r for r in json.loads(out.stdout)["data"]["results"]}


def grant(port, line):
    """Apply an `ACL SETUSER ...` line the doctor printed, as the admin would."""
    words = line.split("   ")[0].split()
    assert words[:2] == ["ACL", "SETUSER"]
    assert ts.command(port, *words) == b"OK"


@pytest.mark.parametrize("label", [x for x in ("valkey-9.1", "redis-7.0", "redis-6.2") if x in BINARIES])
def test_too_few_rights_fail_with_the_exact_grant_which_then_passes(tmp_path, label):
    with ts.standalone(BINARIES[label], tmp_path / "s") as server:
        url = ts.acl_user(server.port, "cm_few", "pw-few", f"~{PREFIX}:*", "+@read", "+multi", "+exec",
                          "+info", "+ping")
        env = user_env(tmp_path, CLAUDE_MEM_REDIS_URL=url, CLAUDE_MEM_QUEUE_REDIS_PREFIX=PREFIX)
        out, results = doctor(env, "--no-smoke")
        acl = results["acl"]
        assert out.returncode != 0 and acl["status"] == "fail", acl
        assert acl["data"]["method"] == "commands queued in an aborted MULTI"
        missing = sorted(acl["data"]["denied"])
        for cmd in ("hset", "zadd", "evalsha", "lpush", "del", "rpoplpush"):
            assert cmd in missing and cmd in acl["summary"]
        assert "hgetall" not in missing and "get" not in missing  # @read covers those
        assert acl["hint"].startswith("ACL SETUSER cm_few +")
        grant(server.port, acl["hint"])
        out, results = doctor(env, "--no-smoke")
        assert results["acl"]["status"] == "ok", results["acl"]
        assert ts.command(server.port, "DBSIZE") == 0  # the probe executed nothing


def test_exactly_enough_rights_pass_and_claude_mems_client_runs_with_them(tmp_path):
    with ts.standalone(ts.modern_binary(), tmp_path / "s") as server:
        line = build_acl_setuser("cm_exact", "pw-exact", PREFIX)
        assert ts.command(server.port, *line.split()) == b"OK"
        env = user_env(tmp_path, CLAUDE_MEM_REDIS_URL=f"redis://cm_exact:pw-exact@127.0.0.1:{server.port}/0",
                       CLAUDE_MEM_QUEUE_REDIS_PREFIX=PREFIX)
        smoke = [] if shutil.which("node") else ["--no-smoke"]
        out, results = doctor(env, *smoke, timeout=240)
        assert results["acl"]["status"] == "ok" and "all" in results["acl"]["summary"]
        bad = [(r["name"], r["summary"]) for r in results.values() if r["status"] not in ("ok", "warn")]
        assert out.returncode == 0 and not bad, bad
        if not smoke:
            assert results["bullmq"]["status"] == "ok" and results["bullmq"]["data"]["client"] == "node-bullmq"


def test_wrong_key_pattern_names_the_prefix(tmp_path):
    with ts.standalone(ts.modern_binary(), tmp_path / "s") as server:
        url = ts.acl_user(server.port, "cm_keys", "pw", "~other:*", "+@all")
        env = user_env(tmp_path, CLAUDE_MEM_REDIS_URL=url, CLAUDE_MEM_QUEUE_REDIS_PREFIX=PREFIX)
        _out, results = doctor(env, "--no-smoke")
        acl = results["acl"]
        assert acl["status"] == "fail" and f"the keys {PREFIX}:*" in acl["summary"]
        assert acl["hint"].startswith(f"ACL SETUSER cm_keys ~{PREFIX}:*")
        grant(server.port, acl["hint"])
        assert doctor(env, "--no-smoke")[1]["acl"]["status"] == "ok"


def test_acl_dryrun_is_used_where_the_user_may_call_it(tmp_path):
    with ts.standalone(ts.modern_binary(), tmp_path / "s") as server:
        url = ts.acl_user(server.port, "cm_dry", "pw", f"~{PREFIX}:*", "+@all", "-zadd", "-bzpopmin")
        env = user_env(tmp_path, CLAUDE_MEM_REDIS_URL=url, CLAUDE_MEM_QUEUE_REDIS_PREFIX=PREFIX)
        _out, results = doctor(env, "--no-smoke")
        acl = results["acl"]
        assert acl["data"]["method"] == "ACL DRYRUN" and sorted(acl["data"]["denied"]) == ["bzpopmin", "zadd"]
        assert acl["hint"].startswith("ACL SETUSER cm_dry +bzpopmin +zadd")


def test_multi_refused_is_reported_without_running_anything(tmp_path):
    with ts.standalone(ts.modern_binary(), tmp_path / "s") as server:
        url = ts.acl_user(server.port, "cm_nomulti", "pw", "~*", "+@all", "-multi", "-acl")
        env = user_env(tmp_path, CLAUDE_MEM_REDIS_URL=url, CLAUDE_MEM_QUEUE_REDIS_PREFIX=PREFIX)
        _out, results = doctor(env, "--no-smoke")
        acl = results["acl"]
        assert acl["status"] == "fail" and "multi" in acl["summary"] and "+multi" in acl["hint"]
        assert ts.command(server.port, "DBSIZE") == 0


def test_store_acl_prints_a_user_that_the_doctor_then_accepts(tmp_path):
    with ts.standalone(ts.modern_binary(), tmp_path / "s") as server:
        env = user_env(tmp_path, CLAUDE_MEM_REDIS_URL=server.url, CLAUDE_MEM_QUEUE_REDIS_PREFIX=PREFIX)
        out = run_cli(env, "store", "acl", "--json", "--user", "cm_cli")
        assert out.returncode == 0, out.stderr
        data = json.loads(out.stdout)["data"]
        # the URL's password place is redacted to *** like every URL cmem-ops prints
        assert data["prefix"] == PREFIX and data["url"] == f"redis://cm_cli:***@127.0.0.1:{server.port}/0"
        assert ts.command(server.port, *data["setuser"].split()) == b"OK"
        password = data["setuser"].split(" >", 1)[1].split()[0]
        env["CLAUDE_MEM_REDIS_URL"] = data["url"].replace("***", password)
        out, results = doctor(env, "--no-smoke")
        assert results["acl"]["status"] == "ok" and out.returncode == 0, results["acl"]
        text = run_cli(env, "store", "acl", "--no-doctor").stdout
        assert "cmemops_smoke" not in text and f"~{PREFIX}:*" in text


def test_ping_refused_still_lists_everything_missing(tmp_path):
    with ts.standalone(ts.modern_binary(), tmp_path / "s") as server:
        url = ts.acl_user(server.port, "cm_noping", "pw", f"~{PREFIX}:*", "+@read", "+multi", "+exec", "+info")
        env = user_env(tmp_path, CLAUDE_MEM_REDIS_URL=url, CLAUDE_MEM_QUEUE_REDIS_PREFIX=PREFIX)
        out, results = doctor(env, "--no-smoke")
        assert out.returncode != 0 and results["ping"]["status"] == "fail" and "PING" in results["ping"]["summary"]
        acl = results["acl"]
        assert acl["status"] == "fail" and "ping" in acl["data"]["denied"] and "hset" in acl["data"]["denied"]
        grant(server.port, acl["hint"])
        _out, results = doctor(env, "--no-smoke")
        assert results["ping"]["status"] == "ok" and results["acl"]["status"] == "ok"
