"""Ask a running Redis-compatible server what it is and how it is configured."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from ..redis_url import RedisTarget
from ..resp import RespAuthError, RespConnection, RespError, parse_config_pairs, parse_info
from .flavour import Flavour


@dataclass(frozen=True)
class ServerFacts:
    """What INFO and CONFIG GET report (CONFIG may be disabled on managed services: None then)."""

    flavour: Flavour
    version: str
    uptime_s: int | None
    appendonly: bool | None
    appendfsync: str | None
    maxmemory_policy: str | None
    process_id: int | None
    info: dict[str, str]
    config: dict[str, str]
    ping_ms: float


def detect_flavour(info: dict[str, str]) -> tuple[Flavour, str]:
    """Flavour and version from INFO server: Valkey reports redis_version 7.2.4, so read its own keys (pure)."""
    if "dragonfly_version" in info:
        match = re.search(r"\d+(?:\.\d+)*", info["dragonfly_version"])  # "df-v1.21.2"
        return Flavour.DRAGONFLY, match.group(0) if match else info["dragonfly_version"]
    if "valkey_version" in info or info.get("server_name", "").lower() == "valkey":
        return Flavour.VALKEY, info.get("valkey_version", info.get("redis_version", "unknown"))
    return Flavour.REDIS, info.get("redis_version", "unknown")


def read_facts(target: RedisTarget, timeout: float = 2.0) -> ServerFacts:
    """Connect, PING, read INFO and CONFIG GET; socket and RESP errors propagate to the caller."""
    with RespConnection(target, timeout=timeout) as conn:
        t0 = time.perf_counter()
        conn.command("PING")
        ping_ms = (time.perf_counter() - t0) * 1000
        info = parse_info(conn.text("INFO"))
        try:
            config = parse_config_pairs(
                conn.command("CONFIG", "GET", "*")
            )
        except RespError:
            config = {}
    flavour, version = detect_flavour(info)
    aof = config.get("appendonly", info.get("aof_enabled"))
    appendonly = None if aof is None else aof in ("yes", "1")
    policy = config.get("maxmemory-policy") or info.get("maxmemory_policy")
    uptime = info.get("uptime_in_seconds")
    pid = info.get("process_id")
    return ServerFacts(
        flavour=flavour, version=version,
        uptime_s=int(uptime) if uptime and uptime.isdigit() else None,
        appendonly=appendonly, appendfsync=config.get("appendfsync"),
        maxmemory_policy=policy, process_id=int(pid) if pid and pid.isdigit() else None,
        info=info, config=config, ping_ms=ping_ms,
    )


def describe_listener(host: str, port: int, timeout: float = 1.0) -> str:
    """Say what answers on host:port, for 'port already in use' messages (never raises)."""
    try:
        with RespConnection(RedisTarget(host, port), timeout=timeout, authenticate=False) as conn:
            try:
                conn.command("PING")
            except RespAuthError:
                return "a Redis-compatible server that requires a password"
            info = parse_info(conn.text("INFO", "server"))
            flavour, version = detect_flavour(info)
            return f"{flavour.display} {version} (pid {info.get('process_id', '?')}) without a password"
    except (OSError, RespError, ValueError):
        return "a program that does not answer the Redis protocol"
