"""May the URL's ACL user run everything BullMQ and claude-mem need on the queue prefix's keys?

Two ways to ask, neither of which runs a command: `ACL DRYRUN <user> <command> <args>` where the
user may call it (Redis 7+/Valkey, usually an admin), else every command sent inside MULTI on keys
under the prefix: the server checks ACL when it queues a command (QUEUED or NOPERM), and a final
wrong-arity command makes EXEC abort, so nothing queued ever executes. The commands and sample
arguments are data (claudemem/queue_commands.py).

    parse_denial(text)                    pure: "command" | "key" | None for one reply
    judge_acl(user, prefix, denied, ...)  pure verdict with the ACL SETUSER line granting exactly what is missing
    probe_acl(conn, user, prefix, label)  acts: DRYRUN or the MULTI probe, on an open connection
"""

from __future__ import annotations

import secrets

from ..claudemem.queue_commands import COMMANDS, SMOKE_KEY_PATTERN, QueueCommand, build_grant, key_pattern
from ..resp import Reply, RespError
from ..store_client import StoreConnection
from .base import ProbeResult, Status, Stopwatch


def parse_denial(reply: Reply) -> str | None:
    """None when `reply` allows the command; "key" or "command" naming what the ACL refused (pure).

    MULTI answers QUEUED or `NOPERM ...`; ACL DRYRUN answers OK or "This user has no permissions to ...".
    """
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    lower = text.lower()
    if "noperm" not in lower and "no permissions" not in lower:
        return None
    return "key" if " key" in lower or "keys" in lower else "command"


def _args(cmd: QueueCommand, keys: tuple[str, str]) -> tuple[str, ...]:
    words = tuple(cmd.name.split("|"))
    return words + tuple(a.replace("{k}", keys[0]).replace("{k2}", keys[1]) for a in cmd.args)


def judge_acl(user: str, prefix: str, denied: dict[str, str], label: str, method: str,
              smoke_keys: bool | None = None, unverified: tuple[str, ...] = ()) -> ProbeResult:
    """OK when nothing is denied; FAIL listing the missing commands and the exact grant (pure)."""
    checked = len(COMMANDS)
    data = {"user": user, "prefix": prefix, "method": method, "denied": denied, "smoke_keys": smoke_keys,
            "unverified": list(unverified)}
    if not denied and not unverified:
        return ProbeResult("acl", label, Status.OK,
                           f"user {user} may run all {checked} commands BullMQ and claude-mem need on "
                           f"{key_pattern(prefix)} (checked with {method})", data=data)
    missing = sorted(c for c, why in denied.items() if why == "command")
    keys_denied = any(why == "key" for why in denied.values())
    parts = []
    if missing:
        parts.append(f"{len(missing)} command{'s' if len(missing) != 1 else ''}: {', '.join(missing)}")
    if keys_denied:
        parts.append(f"the keys {key_pattern(prefix)}")
    grant = build_grant(user, missing, prefix if keys_denied else None)
    detail = f"checked with {method}; claude-mem's queue would fail with NOPERM"
    if unverified:
        detail += f"; not verifiable without MULTI: {', '.join(unverified)}"
    return ProbeResult("acl", label, Status.FAIL,
                       f"user {user} may not use " + " and ".join(parts) + " (BullMQ needs them)",
                       detail=detail, hint=grant + "   (or print a whole least-privilege user: cmem-ops store acl)",
                       data=data)


def _dryrun(conn: StoreConnection, user: str, keys: tuple[str, str], smoke_key: str
            ) -> tuple[dict[str, str], bool] | None:
    """DRYRUN every command; None when this connection may not use ACL DRYRUN (or the server lacks it)."""
    try:
        conn.command("ACL", "DRYRUN", user, "PING")
    except RespError:
        return None
    replies = conn.pipeline(*[("ACL", "DRYRUN", user, *_args(c, keys)) for c in COMMANDS],
                            ("ACL", "DRYRUN", user, "HSET", smoke_key, "f", "v"))
    denied = {}
    for cmd, reply in zip(COMMANDS, replies, strict=False):
        if isinstance(reply, RespError) and "unknown" in str(reply).lower():
            continue  # a subcommand this server does not have (e.g. CLIENT SETINFO before 7.2)
        why = parse_denial(reply)
        if why:
            denied[cmd.name] = why
    return denied, parse_denial(replies[-1]) is None


def _multi(conn: StoreConnection, keys: tuple[str, str], smoke_key: str) -> tuple[dict[str, str], bool | None, bool]:
    """Queue every command inside MULTI, then abort: (denied, smoke keys allowed, MULTI allowed)."""
    queued = [c for c in COMMANDS if c.name not in ("multi", "exec")]
    # MULTI alone first: were it refused, a pipelined batch would execute for real.
    if parse_denial(conn.pipeline(("MULTI",))[0]):
        return {"multi": "command"}, None, False
    batch = [_args(c, keys) for c in queued]
    batch += [("HSET", smoke_key, "f", "v"), ("GET",), ("EXEC",)]  # GET without a key: EXEC aborts
    replies = conn.pipeline(*batch)
    denied = {}
    for cmd, reply in zip(queued, replies, strict=False):
        if isinstance(reply, RespError) and "unknown" in str(reply).lower():
            continue
        why = parse_denial(reply)
        if why:
            denied[cmd.name] = why
    if parse_denial(replies[-1]):
        denied["exec"] = "command"
    return denied, parse_denial(replies[-3]) is None, True


def probe_acl(conn: StoreConnection, user: str, prefix: str, label: str) -> ProbeResult:
    """Check the user's rights without executing anything; never raises for the server refusing."""
    sw = Stopwatch()
    probe = f"{prefix}:cmemops-acl-probe-{secrets.token_hex(4)}"
    keys = (f"{probe}:a", f"{probe}:b")
    smoke_key = f"{SMOKE_KEY_PATTERN.rstrip('*')}acl_probe:{secrets.token_hex(4)}"
    try:
        dry = _dryrun(conn, user, keys, smoke_key)
        if dry is not None:
            denied, smoke_ok = dry
            return judge_acl(user, prefix, denied, label, "ACL DRYRUN", smoke_ok).timed(sw.ms)
        denied, smoke, multi_ok = _multi(conn, keys, smoke_key)
    except (OSError, RespError) as exc:
        return ProbeResult("acl", label, Status.FAIL, f"the ACL check could not run: {exc}",
                           hint="check the connection, then: cmem-ops doctor --only store").timed(sw.ms)
    unverified = () if multi_ok else tuple(c.name for c in COMMANDS if c.name not in ("multi", "exec"))
    method = "commands queued in an aborted MULTI" if multi_ok else "MULTI (refused)"
    return judge_acl(user, prefix, denied, label, method, smoke, unverified).timed(sw.ms)
