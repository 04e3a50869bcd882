"""Every Redis command claude-mem's queue runs, as data: what an ACL user must be allowed.

Derived from BullMQ 5.81 (the version inside claude-mem 13.25.3's server bundle), read from
taskforcesh/bullmq at tag v5.81.3: the `rcall("...")` calls of every script in src/commands/*.lua
(plus the commands its scripts pick at run time: RPUSH/LPUSH, SSCAN/HSCAN, SCARD/HLEN), the direct
client calls in src/classes/*.ts (MULTI/EXEC pipelines, BZPOPMIN on the marker key, HGETALL, ...),
and what ioredis itself sends (INFO for its ready check and BullMQ's version check, CLIENT SETNAME
for the worker's connection name, SELECT for a /db, EVALSHA then EVAL for every script).

Each entry: the command (with a subcommand as `client|setname`, the ACL spelling), sample
arguments with a valid arity, where `{k}`/`{k2}` stand for keys under the queue prefix, and why.
The samples are only ever sent inside MULTI (never executed: see probes/acl.py) or to ACL DRYRUN.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class QueueCommand:
    """One command the queue needs, with arguments ACL DRYRUN / a queued MULTI accepts."""

    name: str  # ACL spelling, lower case: "hset", "client|setname"
    args: tuple[str, ...]  # sample arguments; "{k}", "{k2}" are keys under the prefix
    why: str


# command (ACL spelling) and sample arguments | why the queue needs it
_TABLE = """
info                          | ioredis ready check; BullMQ reads redis_version and maxmemory_policy
ping                          | health checks (cmem-ops, ioredis)
select 0                      | ioredis selects the URL's /db
client|setname cmemops        | ioredis names each worker connection (connectionName)
evalsha {sha} 1 {k}           | every BullMQ queue operation is a Lua script
eval return 1 {k}             | ioredis falls back to EVAL on NOSCRIPT
multi                         | BullMQ pipelines (job updates, bulk adds)
exec                          | BullMQ pipelines
bzpopmin {k} 1                | workers block on the queue's marker key
hgetall {k}                   | getJob, job metadata
del {k}                       | scripts; job and queue removal
exists {k}                    | scripts
get {k}                       | scripts
hlen {k}                      | scripts (paginate)
llen {k}                      | scripts
lpop {k}                      | scripts
persist {k}                   | scripts
pttl {k}                      | scripts
rpop {k}                      | scripts
scard {k}                     | scripts
smembers {k}                  | scripts; job dependencies
type {k}                      | scripts
incr {k}                      | scripts (job ids)
zcard {k}                     | scripts; counts
zpopmin {k}                   | scripts (rate limiter, priorities)
hdel {k} f                    | scripts
hexists {k} f                 | scripts
hget {k} f                    | scripts
hmget {k} f                   | scripts
hset {k} f v                  | scripts
hmset {k} f v                 | scripts
hincrby {k} f 1               | scripts (attempts)
lindex {k} 0                  | scripts
lpos {k} v                    | scripts
lrem {k} 0 v                  | scripts
lset {k} 0 v                  | scripts
pexpire {k} 1000              | scripts (locks)
rename {k} {k2}               | scripts
rpoplpush {k} {k2}            | scripts (moveToActive)
set {k} v                     | scripts (locks)
xadd {k} * f v                | scripts (the events stream)
xtrim {k} MAXLEN 10           | scripts (the events stream)
zadd {k} 1 m                  | scripts (delayed, completed, failed sets)
zcount {k} 0 1                | scripts
zremrangebyrank {k} 0 0       | scripts (removeOnComplete)
zremrangebyscore {k} 0 1      | scripts (clean)
zrangebyscore {k} 0 1         | scripts (delayed jobs)
zrevrangebyscore {k} 1 0      | scripts
hscan {k} 0                   | paginate script; job dependencies
sscan {k} 0                   | paginate script; job dependencies
lpush {k} m                   | scripts (wait list)
rpush {k} m                   | scripts (lifo)
sadd {k} m                    | scripts
srem {k} m                    | scripts
sismember {k} m               | scripts
zrem {k} m                    | scripts
zscore {k} m                  | scripts
lrange {k} 0 -1               | scripts; getters
ltrim {k} 0 -1                | scripts
zrange {k} 0 -1               | scripts; getters
zrevrange {k} 0 -1            | scripts; getters
"""


def parse_table(text: str) -> tuple[QueueCommand, ...]:
    """Rows `name args... | why` -> QueueCommand tuple (pure)."""
    rows = []
    for line in text.strip().splitlines():
        spec, _, why = line.rpartition("|")  # the last |: "client|setname" has one
        name, *args = spec.split()
        rows.append(QueueCommand(name, tuple("0" * 40 if a == "{sha}" else a for a in args), why.strip()))
    return tuple(rows)


COMMANDS: tuple[QueueCommand, ...] = parse_table(_TABLE)

# What cmem-ops' own doctor adds on top (its Lua probe and the BullMQ smoke in cmemops_smoke_* keys).
SMOKE_KEY_PATTERN = "cmemops_smoke_*"
DOCTOR_EXTRAS: tuple[QueueCommand, ...] = (
    QueueCommand("script|load", ("return 1",), "cmem-ops' Lua probe"),
    QueueCommand("scan", ("0",), "the smoke deletes its own keys afterwards"),
    QueueCommand("dbsize", (), "the smoke checks it left nothing behind"),
)


def key_pattern(prefix: str) -> str:
    """The ACL key pattern covering every key BullMQ makes under `prefix` (`<prefix>:<queue>:...`) (pure)."""
    return f"{prefix}:*"


def build_acl_setuser(user: str, password: str | None, prefix: str, *, doctor: bool = True) -> str:
    """`ACL SETUSER` for a least-privilege claude-mem user on `prefix` (pure).

    `password` None leaves the password as `>` + a placeholder; `doctor` adds what cmem-ops' doctor needs.
    """
    cmds = list(COMMANDS) + (list(DOCTOR_EXTRAS) if doctor else [])
    keys = [f"~{key_pattern(prefix)}"] + ([f"~{SMOKE_KEY_PATTERN}"] if doctor else [])
    secret = f">{password}" if password is not None else ">REPLACE_WITH_A_PASSWORD"
    return " ".join(["ACL", "SETUSER", user, "reset", "on", secret, "resetkeys", *keys, "resetchannels", "-@all",
                     *(f"+{c.name}" for c in cmds)])


def build_grant(user: str, commands: list[str], prefix: str | None) -> str:
    """`ACL SETUSER` that adds exactly `commands` (and the key pattern when `prefix`) to `user` (pure)."""
    parts = ["ACL", "SETUSER", user, *(f"+{c}" for c in commands)]
    if prefix is not None:
        parts.append(f"~{key_pattern(prefix)}")
    return " ".join(parts)
