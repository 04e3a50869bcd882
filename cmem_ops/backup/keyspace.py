"""How many keys a store holds: INFO keyspace summed over every db, split into lasting and expiring.

Keys with a TTL (BullMQ's locks, stalled-check markers) may expire between two counts, so
comparisons across a snapshot or a restart hold the lasting keys equal and let the expiring
ones only shrink (`plan_key_check`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import ProcessError
from ..redis_url import RedisTarget
from ..resp import RespError, parse_info
from ..store_client import open_store

_DB_LINE = re.compile(r"keys=(\d+),expires=(\d+)")


@dataclass(frozen=True)
class KeyCount:
    """Keys in every db, and how many of them carry a TTL."""

    keys: int
    expires: int

    @property
    def lasting(self) -> int:
        return self.keys - self.expires


def parse_keyspace(info: dict[str, str]) -> KeyCount:
    """Sum `db<N>:keys=..,expires=..` lines of a parsed INFO (pure)."""
    keys = expires = 0
    for name, value in info.items():
        match = _DB_LINE.search(value) if name.startswith("db") and name[2:].isdigit() else None
        if match:
            keys += int(match.group(1))
            expires += int(match.group(2))
    return KeyCount(keys, expires)


def read_keyspace(target: RedisTarget, timeout: float = 5.0) -> KeyCount:
    """The key count a running server reports; ProcessError naming the server when it does not answer."""
    try:
        with open_store(target, timeout) as conn:
            return parse_keyspace(parse_info(conn.text("INFO", "keyspace")))
    except (OSError, RespError) as exc:
        raise ProcessError(f"cannot count the keys of {target.address}: {exc}",
                           hint="cmem-ops store status; read cmem-ops store logs -n 50") from exc


def plan_key_check(expected: KeyCount, found: KeyCount) -> str | None:
    """Why `found` does not match `expected`, or None: lasting keys equal, expiring ones never more (pure)."""
    if found.lasting != expected.lasting:
        return (f"{found.lasting} keys without a TTL, expected {expected.lasting} "
                f"({found.keys} keys in all, expected {expected.keys})")
    if found.expires > expected.expires:
        return f"{found.expires} keys with a TTL, more than the {expected.expires} expected"
    return None
