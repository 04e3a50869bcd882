"""The queue's command list (data) and the pure ACL verdicts."""

from __future__ import annotations

from cmem_ops.claudemem.queue_commands import COMMANDS, build_acl_setuser, build_grant
from cmem_ops.probes.acl import judge_acl, parse_denial
from cmem_ops.probes.base import Status
from cmem_ops.resp import RespError


def test_the_list_covers_what_bullmq_scripts_and_clients_call():
    names = {c.name for c in COMMANDS}
    for needed in ("evalsha", "eval", "bzpopmin", "multi", "exec", "info", "client|setname", "rpoplpush",
                   "xadd", "zadd", "hset", "hincrby", "lpush", "rpush", "hscan", "sscan", "pexpire"):
        assert needed in names
    assert len(names) == len(COMMANDS)  # no duplicates
    assert all("{k}" in c.args for c in COMMANDS if c.name not in
               ("info", "ping", "select", "client|setname", "multi", "exec"))


def test_least_privilege_user_line():
    line = build_acl_setuser("claude-mem", "s3cret", "claude_mem_37700")
    assert line.startswith("ACL SETUSER claude-mem reset on >s3cret resetkeys ~claude_mem_37700:* ~cmemops_smoke_* "
                           "resetchannels -@all +info +ping")
    assert "+script|load" in line and "+@" not in line.replace("-@all", "")
    bare = build_acl_setuser("u", None, "p", doctor=False)
    assert "cmemops_smoke" not in bare and "+scan" not in bare and ">REPLACE_WITH_A_PASSWORD" in bare


def test_grant_adds_exactly_what_is_missing():
    assert build_grant("u", ["hset", "zadd"], None) == "ACL SETUSER u +hset +zadd"
    assert build_grant("u", [], "pfx") == "ACL SETUSER u ~pfx:*"


def test_denials_from_multi_and_dryrun_replies():
    assert parse_denial(b"QUEUED") is None and parse_denial(b"OK") is None
    assert parse_denial(RespError("NOPERM User u has no permissions to run the 'hset' command")) == "command"
    assert parse_denial(RespError("NOPERM No permissions to access a key")) == "key"
    assert parse_denial(RespError("NOPERM this user has no permissions to access one of the keys used as "
                                  "arguments")) == "key"
    assert parse_denial(b"This user has no permissions to run the 'zadd' command") == "command"
    assert parse_denial(b"This user has no permissions to access the 'x' key") == "key"


def test_verdict_lists_missing_commands_and_the_grant():
    verdict = judge_acl("app", "pfx", {"zadd": "command", "hset": "command", "get": "key"}, "t", "ACL DRYRUN")
    assert verdict.status is Status.FAIL
    assert "2 commands: hset, zadd and the keys pfx:*" in verdict.summary
    assert verdict.hint.startswith("ACL SETUSER app +hset +zadd ~pfx:*")
    assert judge_acl("app", "pfx", {}, "t", "ACL DRYRUN").status is Status.OK
