"""The queue store's health as metrics, from one INFO reply (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class StoreStats:
    """What INFO says about the store; `up` False means it did not answer (the rest is then empty)."""

    up: bool
    error: str | None = None
    role: str | None = None
    version: str | None = None
    used_memory: int | None = None
    max_memory: int | None = None
    eviction_policy: str | None = None
    aof_enabled: bool | None = None
    aof_last_write_ok: bool | None = None
    connected_clients: int | None = None
    blocked_clients: int | None = None
    evicted_keys: int | None = None


def _int(info: Mapping[str, str], key: str) -> int | None:
    raw = info.get(key)
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


def parse_store_stats(info: Mapping[str, str]) -> StoreStats:
    """StoreStats from a parsed INFO dict (resp.parse_info) of Valkey, Redis or Dragonfly (pure)."""
    aof_status = info.get("aof_last_write_status")
    aof_enabled = info.get("aof_enabled")
    version = info.get("valkey_version") or info.get("dragonfly_version") or info.get("redis_version")
    return StoreStats(
        up=True,
        role=info.get("role"),
        version=version,
        used_memory=_int(info, "used_memory"),
        max_memory=_int(info, "maxmemory"),
        eviction_policy=info.get("maxmemory_policy"),
        aof_enabled=None if aof_enabled is None else aof_enabled == "1",
        aof_last_write_ok=None if aof_status is None else aof_status == "ok",
        connected_clients=_int(info, "connected_clients"),
        blocked_clients=_int(info, "blocked_clients"),
        evicted_keys=_int(info, "evicted_keys"),
    )
