"""The Redis-compatible server families cmem-ops knows (a leaf module: cheap to import)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum


class Flavour(StrEnum):
    VALKEY = "valkey"
    REDIS = "redis"
    DRAGONFLY = "dragonfly"

    @property
    def display(self) -> str:
        return {"valkey": "Valkey", "redis": "Redis", "dragonfly": "Dragonfly"}[self.value]


def detect_flavour(info: Mapping[str, str]) -> tuple[Flavour, str]:
    """Flavour and version from INFO server: Valkey reports redis_version 7.2.4, so read its own keys (pure)."""
    if "dragonfly_version" in info:
        match = re.search(r"\d+(?:\.\d+)*", info["dragonfly_version"])  # "df-v1.21.2"
        return Flavour.DRAGONFLY, match.group(0) if match else info["dragonfly_version"]
    if "valkey_version" in info or info.get("server_name", "").lower() == "valkey":
        return Flavour.VALKEY, info.get("valkey_version", info.get("redis_version", "unknown"))
    return Flavour.REDIS, info.get("redis_version", "unknown")
