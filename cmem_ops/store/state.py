"""The managed store's identity and liveness, without the supervision machinery (cheap to import).

`cmem-ops status` reads only this; process.py builds start/stop on top of it.
"""

from __future__ import annotations

import os

from ..paths import Paths
from ..pidfile import PidRecord
from ..redis_url import RedisTarget
from ..resp import RespError
from ..store_client import StoreConnection, open_store
from ..store_client import ping as store_ping
from .config import parse_config_value
from .identity import observe

HOST = "127.0.0.1"
COMPONENT = "redis"


# The URL names the `default` user: redis-cli/valkey-cli send `AUTH "" <password>` (and fail) for
# `redis://:<password>@`, while every client authenticates `redis://default:<password>@` (Redis >= 6).
URL_USER = "default"


def managed_target(port: int, password: str) -> RedisTarget:
    """How claude-mem (and a person with redis-cli) reaches a store cmem-ops runs."""
    return RedisTarget(HOST, port, username=URL_USER, password=password)


def running_record(paths: Paths) -> PidRecord | None:
    """A record of the live server on our data dir (the PID file's when it agrees), else None.

    Read from the world (identity.observe): a garbage or missing PID file does not hide a running store.
    """
    view = observe(paths.redis_data, paths.redis_pid)
    server = view.server
    if server is None:
        return None
    if view.record is not None and view.record.pid == server.pid:
        return view.record
    return server.record(COMPONENT)


def ping(target: RedisTarget, timeout: float = 0.5) -> bool:
    """True when the server answers PING with our credentials."""
    return store_ping(target, timeout)


def new_password() -> str:
    """A fresh requirepass for the managed store (URL-safe): 24 bytes from the OS CSPRNG, as hex."""
    # os.urandom is what secrets.token_hex reads; `secrets` itself loads hashlib/OpenSSL (~9 ms)
    return os.urandom(24).hex()


def conf_password(paths: Paths) -> str | None:
    """The requirepass of the redis.conf we last rendered: the running server was started from it."""
    try:
        return parse_config_value(paths.redis_conf.read_text(encoding="utf-8"), "requirepass")
    except (OSError, UnicodeDecodeError):
        return None


def answering(port: int, passwords: list[str], timeout: float = 1.0) -> tuple[str, str] | None:
    """(password, CONFIG GET dir) for the first candidate password the server on `port` *requires*.

    A server without a password accepts any AUTH for the nopass `default` user, so accepting ours
    proves nothing: the server must report our password as its requirepass.
    """
    for password in dict.fromkeys(p for p in passwords if p):
        try:
            with open_store(managed_target(port, password), timeout) as conn:
                said = server_proof(conn, password)
        except OSError:
            return None
        except RespError:
            continue
        if said is not None:
            return password, said
    return None


def server_proof(conn: StoreConnection, password: str) -> str | None:
    """CONFIG GET dir when the server on `conn` *requires* `password` ("" when CONFIG is refused), else None.

    Raises OSError when the connection fails; run it only on a connection authenticated with `password`.
    """
    try:
        if _config_value(conn.command("CONFIG", "GET", "requirepass")) != password:
            return None
        return _config_value(conn.command("CONFIG", "GET", "dir"))
    except RespError as exc:
        if "NOPERM" in str(exc) or "unknown command" in str(exc).lower():
            return ""  # authenticated with our password; CONFIG is refused or renamed
        return None


def _config_value(reply: object) -> str:
    pair = reply if isinstance(reply, list) else []
    value = pair[1] if len(pair) > 1 and isinstance(pair[1], bytes) else b""
    return value.decode("utf-8", "replace")
