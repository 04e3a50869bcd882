"""The managed store's identity and liveness, without the supervision machinery (cheap to import).

`cmem-ops status` reads only this; process.py builds start/stop on top of it.
"""

from __future__ import annotations

from ..paths import Paths
from ..pidfile import PidRecord, identify, read_pidfile
from ..redis_url import RedisTarget
from ..resp import RespConnection, RespError

HOST = "127.0.0.1"
COMPONENT = "redis"


def running_record(paths: Paths) -> PidRecord | None:
    """Our PID record when its process is alive and proven ours, else None."""
    record = read_pidfile(paths.redis_pid)
    if record is None or identify(record) is None:
        return None
    return record


def ping(target: RedisTarget, timeout: float = 0.5) -> bool:
    """True when the server answers PING with our credentials."""
    try:
        with RespConnection(target, timeout=timeout) as conn:
            conn.command("PING")
        return True
    except (OSError, RespError):
        return False


def new_password() -> str:
    """A fresh requirepass for the managed store (URL-safe)."""
    import secrets  # pulls in hashlib: only the first start needs it

    return secrets.token_hex(24)
