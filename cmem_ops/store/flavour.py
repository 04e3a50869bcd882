"""The Redis-compatible server families cmem-ops knows (a leaf module: cheap to import)."""

from __future__ import annotations

from enum import StrEnum


class Flavour(StrEnum):
    VALKEY = "valkey"
    REDIS = "redis"
    DRAGONFLY = "dragonfly"

    @property
    def display(self) -> str:
        return {"valkey": "Valkey", "redis": "Redis", "dragonfly": "Dragonfly"}[self.value]
