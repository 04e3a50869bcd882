"""Ask a running Redis-compatible server what it is and how it is configured."""

from __future__ import annotations

import time
from typing import NamedTuple

from ..redis_url import RedisTarget
from ..resp import RespError, parse_config_pairs, parse_info
from ..store_answer import Failure, ask
from ..store_client import open_store
from .flavour import Flavour, detect_flavour


class ServerFacts(NamedTuple):
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


def read_facts(target: RedisTarget, timeout: float = 2.0) -> ServerFacts:
    """Connect, PING, read INFO and CONFIG GET; socket and RESP errors propagate to the caller."""
    with open_store(target, timeout) as conn:
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
    answer = ask(RedisTarget(host, port), timeout)
    if answer.failure is Failure.NOAUTH:
        return "a Redis-compatible server that requires a password"
    if answer.ok and answer.flavour is not None:
        pid = answer.info.get("process_id", "?")
        return f"{answer.flavour.display} {answer.version} (pid {pid}) without a password"
    return "a program that does not answer the Redis protocol"
