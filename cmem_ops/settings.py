"""Settings compatible with claude-mem's own: environment, then <data dir>/settings.json, then defaults.

settings.json belongs to claude-mem too. cmem-ops writes only its own keys, preserving every
other key, atomically (temp file + rename under a lock), and refuses to touch a malformed file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any, NamedTuple

from .errors import ConfigError, file_error
from .filelock import exclusive_lock
from .paths import Paths, ensure_private_dir, write_private_file
from .redis_url import RedisTarget, parse_redis_url


class QueueEngine(StrEnum):
    SQLITE = "sqlite"
    BULLMQ = "bullmq"


class RedisMode(StrEnum):
    MANAGED = "managed"
    EXTERNAL = "external"
    DOCKER = "docker"


# Keys cmem-ops itself writes (and clears on uninstall).
KEY_ENGINE = "CLAUDE_MEM_QUEUE_ENGINE"
KEY_MODE = "CLAUDE_MEM_REDIS_MODE"
KEY_URL = "CLAUDE_MEM_REDIS_URL"
KEY_HOST = "CLAUDE_MEM_REDIS_HOST"
KEY_PORT = "CLAUDE_MEM_REDIS_PORT"
KEY_PREFIX = "CLAUDE_MEM_QUEUE_REDIS_PREFIX"
KEY_STORE_BINARY = "CMEM_OPS_STORE_BINARY"  # the managed store's pinned server binary (store/pinned.py)
OWN_KEYS = (KEY_ENGINE, KEY_MODE, KEY_URL, KEY_PORT, KEY_STORE_BINARY)

LEGACY_PREFIX = "CLAUDE_MEM_SERVER_BETA_"
CURRENT_PREFIX = "CLAUDE_MEM_SERVER_"


class Settings(NamedTuple):
    """Resolved settings plus where each value came from (env / settings.json / default)."""

    paths: Paths
    env: Mapping[str, str]
    file_values: Mapping[str, Any]

    def get(self, key: str, default: str | None = None) -> str | None:
        """Resolve `key`: env, env legacy alias, settings.json, its legacy alias, then `default`."""
        return self._resolve(key, default)[0]

    def source(self, key: str) -> str:
        """Where the value of `key` comes from: `env NAME`, `settings.json NAME`, or `unset`."""
        value, where = self._resolve(key, None)
        if value is None and key == KEY_URL and self.env.get("REDIS_URL"):
            return "env REDIS_URL"  # redis_url's fallback
        return where

    def _resolve(self, key: str, default: str | None) -> tuple[str | None, str]:
        """(value, where it came from) for `key` (pure)."""
        for name in _aliases(key):
            value = self.env.get(name)
            if value not in (None, ""):
                return value, f"env {name}"
        for name in _aliases(key):
            file_value = self.file_values.get(name)
            if file_value not in (None, ""):
                return str(file_value), f"settings.json {name}"
        return default, "default" if default is not None else "unset"

    @property
    def queue_engine(self) -> QueueEngine:
        raw = self.get(KEY_ENGINE, QueueEngine.BULLMQ.value) or QueueEngine.BULLMQ.value
        try:
            return QueueEngine(raw.strip().lower())
        except ValueError:
            raise ConfigError(
                f"{KEY_ENGINE}={raw!r} ({self.source(KEY_ENGINE)}) is not one of sqlite, bullmq",
                hint=f"cmem-ops install --queue bullmq   (or set {KEY_ENGINE}=bullmq)",
            ) from None

    @property
    def redis_url(self) -> str | None:
        """The configured queue-store URL: CLAUDE_MEM_REDIS_URL, then plain REDIS_URL last."""
        url = self.get(KEY_URL)
        if url:
            return url
        return self.env.get("REDIS_URL") or None

    @property
    def redis_mode(self) -> RedisMode:
        """managed | external | docker. An explicit mode wins; a URL given in the environment means external."""
        explicit_env = self.env.get(KEY_MODE)
        if explicit_env:
            return _parse_mode(explicit_env, f"env {KEY_MODE}")
        if self.env.get(KEY_URL) or self.env.get(KEY_HOST):
            return RedisMode.EXTERNAL
        explicit_file = self.file_values.get(KEY_MODE)
        if explicit_file:
            return _parse_mode(str(explicit_file), f"{self.paths.settings_file} {KEY_MODE}")
        if self.file_values.get(KEY_URL) or self.file_values.get(KEY_HOST) or self.env.get("REDIS_URL"):
            return RedisMode.EXTERNAL
        return RedisMode.MANAGED

    def redis_target(self) -> RedisTarget | None:
        """The configured target from the URL, else HOST/PORT; None when nothing is configured."""
        url = self.redis_url
        if url:
            return parse_redis_url(url)
        host = self.get(KEY_HOST)
        if host:
            return RedisTarget(host=host, port=self.persisted_port or 6379)
        return None

    @property
    def persisted_port(self) -> int | None:
        raw = self.get(KEY_PORT)
        if raw in (None, ""):
            return None
        try:
            port = int(str(raw))
        except ValueError:
            raise ConfigError(f"{KEY_PORT}={raw!r} ({self.source(KEY_PORT)}) is not a port number",
                              hint=f"remove {KEY_PORT} from {self.paths.settings_file}; "
                              "cmem-ops store start picks a new one") from None
        if not 1 <= port <= 65535:
            raise ConfigError(f"{KEY_PORT}={port} is outside 1-65535",
                              hint=f"remove {KEY_PORT} from {self.paths.settings_file}")
        return port

    @property
    def queue_prefix(self) -> str | None:
        return self.get(KEY_PREFIX)


def _aliases(key: str) -> tuple[str, ...]:
    if key.startswith(CURRENT_PREFIX) and not key.startswith(LEGACY_PREFIX):
        return (key, LEGACY_PREFIX + key[len(CURRENT_PREFIX):])
    return (key,)


def _parse_mode(raw: str, where: str) -> RedisMode:
    try:
        return RedisMode(raw.strip().lower())
    except ValueError:
        raise ConfigError(f"{KEY_MODE}={raw!r} ({where}) is not one of managed, external, docker",
                          hint=f"set {KEY_MODE}=managed, or remove it") from None


def parse_settings_text(text: str, path: Path) -> dict[str, Any]:
    """Parse settings.json text; raise ConfigError naming the file, line and column."""
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{path} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
            hint=f"fix line {exc.lineno} of {path} (cmem-ops will not overwrite it until it parses)",
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a JSON object, found {type(data).__name__}",
                          hint=f"make {path} an object like {{\"{KEY_ENGINE}\": \"bullmq\"}}")
    return data


def read_settings_file(path: Path) -> dict[str, Any]:
    """Read settings.json; a missing file is empty, a malformed one raises ConfigError."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}", hint=f"check the permissions of {path}") from exc
    return parse_settings_text(text, path)


def load_settings(paths: Paths | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Resolve settings from the environment and the data dir's settings.json."""
    env = dict(os.environ if env is None else env)
    paths = paths or Paths.from_env(env)
    return Settings(paths=paths, env=env, file_values=read_settings_file(paths.settings_file))


def write_settings_keys(paths: Paths, updates: Mapping[str, str | None]) -> dict[str, Any]:
    """Set (or, for None, remove) `updates` in settings.json, keeping every other key; return the new dict.

    The file is rewritten atomically with mode 0600 (it may carry the store password).
    """
    path = paths.settings_file
    try:
        ensure_private_dir(paths.data_dir)
        with exclusive_lock(path.with_name(f".{path.name}.lock")):
            data = read_settings_file(path)  # raises on malformed: never overwrite what we cannot parse
            changed = False
            for key, value in updates.items():
                if value is None:
                    changed |= data.pop(key, None) is not None
                elif data.get(key) != value:
                    data[key] = value
                    changed = True
            if changed or not path.exists():
                write_private_file(path, json.dumps(data, indent=2) + "\n")
    except OSError as exc:  # EACCES, EPERM (chattr +i), EISDIR, ENOSPC: a message naming the path, no traceback
        raise file_error(exc, "write", path if exc.filename is None or "tmp" in str(exc.filename) else exc.filename
                         ) from None
    return data
