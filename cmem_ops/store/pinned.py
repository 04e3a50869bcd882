"""The server binary the managed store is pinned to (settings.json CMEM_OPS_STORE_BINARY).

Without a pin, every `store start` picks the best binary found (Valkey first, newest first), so a
store started on Redis 7.0 would silently move to Valkey 9.1 at its next start. `store upgrade`
writes the pin, `lifecycle/store.start` honours it when no --binary is given, and uninstall
clears it (it is one of settings.OWN_KEYS).
"""

from __future__ import annotations

from ..paths import Paths
from ..settings import KEY_STORE_BINARY, Settings, write_settings_keys


def pinned_binary(settings: Settings) -> str | None:
    """The pinned server binary path, or None when the best one found is used."""
    return settings.get(KEY_STORE_BINARY) or None


def write_pinned_binary(paths: Paths, binary: str | None) -> None:
    """Pin the managed store to `binary` (None removes the pin)."""
    write_settings_keys(paths, {KEY_STORE_BINARY: binary})
