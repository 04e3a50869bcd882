"""Connect to the queue store: TCP, PING (with AUTH), and one INFO + CONFIG snapshot for the checks."""

from __future__ import annotations

import socket
import ssl
import time
from dataclasses import dataclass

from ..redis_url import RedisTarget
from ..resp import RespAuthError, RespConnection, RespError, parse_config_pairs, parse_info
from .base import ProbeResult, Status, Stopwatch

# The CONFIG keys the checks read; asked one by one so a partial CONFIG (managed services) still helps.
CONFIG_KEYS = ("maxmemory-policy", "maxmemory", "maxclients", "appendonly", "appendfsync", "save", "bind",
               "protected-mode", "requirepass", "cluster_mode", "lock_on_hashtags", "default_lua_flags")


@dataclass(frozen=True)
class StoreSnapshot:
    """What the store told us, read once and judged by the pure checks in redis_checks.py."""

    target: RedisTarget
    info: dict[str, str]
    config: dict[str, str] | None  # None when CONFIG is disabled or renamed
    config_error: str | None
    ping_ms: float


@dataclass(frozen=True)
class StoreHints:
    """Fix commands that depend on how the store is run (managed by us or someone else's)."""

    start: str
    restart: str
    set_password: str

    @classmethod
    def for_mode(cls, mode: str, target: RedisTarget) -> StoreHints:
        if mode == "managed":
            return cls(start="cmem-ops store start", restart="cmem-ops store restart",
                       set_password="cmem-ops store restart   (the managed URL in settings.json carries the password)")
        where = target.address
        return cls(start=f"start the server at {where}, or point CLAUDE_MEM_REDIS_URL at one that runs",
                   restart=f"restart the server at {where} after changing its config",
                   set_password="put the password in the URL: CLAUDE_MEM_REDIS_URL=redis://:<password>@"
                                f"{where}/{target.db}")


def connect(target: RedisTarget, timeout: float, hints: StoreHints, label: str
            ) -> tuple[list[ProbeResult], RespConnection | None, StoreSnapshot | None]:
    """Run the TCP and PING probes and take the snapshot; the connection is returned open for later probes."""
    results: list[ProbeResult] = []
    sw = Stopwatch()
    try:
        sock = socket.create_connection((target.host, target.port), timeout=timeout)
        sock.close()
    except TimeoutError:
        results.append(ProbeResult("tcp", label, Status.FAIL,
                                   f"no TCP answer from {target.address} within {timeout:g}s",
                                   detail="a firewall may drop the packets, or the host is down",
                                   hint=hints.start).timed(sw.ms))
        return results, None, None
    except OSError as exc:
        results.append(ProbeResult("tcp", label, Status.FAIL,
                                   f"cannot connect to {target.address}: {exc.strerror or exc}",
                                   hint=hints.start).timed(sw.ms))
        return results, None, None
    results.append(ProbeResult("tcp", label, Status.OK, f"connected to {target.address}").timed(sw.ms))

    sw = Stopwatch()
    try:
        conn = RespConnection(target, timeout=timeout)
        t0 = time.perf_counter()
        conn.command("PING")
        ping_ms = (time.perf_counter() - t0) * 1000
    except RespAuthError as exc:
        why = "the password is wrong" if "WRONGPASS" in str(exc).upper() or "invalid" in str(exc).lower() \
            else "the server requires a password and none was given"
        results.append(ProbeResult("ping", label, Status.FAIL, f"authentication failed: {why}", detail=str(exc),
                                   hint=hints.set_password).timed(sw.ms))
        return results, None, None
    except TimeoutError:
        results.append(ProbeResult("ping", label, Status.FAIL,
                                   f"{target.address} accepted the connection but did not answer PING "
                                   f"within {timeout:g}s",
                                   detail="it is not a Redis-compatible server, or it is stuck (a long script, "
                                          "a full disk, or a TLS server spoken to in plain text)",
                                   hint=f"check what listens there: ss -ltnp 'sport = :{target.port}'").timed(sw.ms))
        return results, None, None
    except (OSError, RespError, ssl.SSLError) as exc:
        results.append(ProbeResult("ping", label, Status.FAIL, f"PING failed: {exc}",
                                   hint=f"check that {target.address} is a Redis-compatible server "
                                        "(and whether it needs rediss://)").timed(sw.ms))
        return results, None, None
    results.append(ProbeResult("ping", label, Status.OK, f"PONG in {ping_ms:.1f} ms",
                               data={"ping_ms": round(ping_ms, 3)}).timed(sw.ms))
    try:
        info = parse_info(conn.text("INFO"))
        config: dict[str, str] | None = {}
        config_error = None
        for key in CONFIG_KEYS:
            try:
                config.update(parse_config_pairs(conn.command("CONFIG", "GET", key)))  # type: ignore[union-attr]
            except RespError as exc:
                if "unknown command" in str(exc).lower() or "unknown subcommand" in str(exc).lower() or \
                        "noperm" in str(exc).lower():
                    config, config_error = None, str(exc)
                    break
    except (OSError, RespError) as exc:
        conn.close()
        results.append(ProbeResult("info", label, Status.FAIL, f"INFO failed: {exc}",
                                   hint="the queue store must allow INFO; check its ACL / rename-command settings"))
        return results, None, None
    return results, conn, StoreSnapshot(target, info, config, config_error, ping_ms)


def close_quietly(conn: RespConnection | None) -> None:
    """Close `conn` if open."""
    if conn is not None:
        conn.close()

