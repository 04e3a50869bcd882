"""The managed store's identity and liveness, without the supervision machinery (cheap to import).

`cmem-ops status` reads only this; process.py builds start/stop on top of it.
"""

from __future__ import annotations

from ..paths import Paths
from ..pidfile import PidRecord, identify, read_pidfile
from ..redis_url import RedisTarget
from ..store_client import ping as store_ping

HOST = "127.0.0.1"
COMPONENT = "redis"


# The URL names the `default` user: redis-cli/valkey-cli send `AUTH "" <password>` (and fail) for
# `redis://:<password>@`, while every client authenticates `redis://default:<password>@` (Redis >= 6).
URL_USER = "default"


def managed_target(port: int, password: str) -> RedisTarget:
    """How claude-mem (and a person with redis-cli) reaches a store cmem-ops runs."""
    return RedisTarget(HOST, port, username=URL_USER, password=password)


def running_record(paths: Paths) -> PidRecord | None:
    """Our PID record when its process is alive and proven ours, else None."""
    record = read_pidfile(paths.redis_pid)
    if record is None or identify(record) is None:
        return None
    return record


def ping(target: RedisTarget, timeout: float = 0.5) -> bool:
    """True when the server answers PING with our credentials."""
    return store_ping(target, timeout)


def new_password() -> str:
    """A fresh requirepass for the managed store (URL-safe)."""
    import secrets  # pulls in hashlib: only the first start needs it

    return secrets.token_hex(24)
