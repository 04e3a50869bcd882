"""Resolve, once, what the server and worker processes run with, and persist it in settings.json.

The HTTP port is chosen the first time (a free private port) and pinned, as is the queue prefix
(claude-mem's own default for this user, so queues that exist keep being read). Keys given in the
environment are used but never copied into settings.json.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from ..claudemem.env import (
    DEFAULT_HOST,
    ENGINE_BULLMQ,
    KEY_HOST,
    KEY_PORT,
    KEY_PREFIX,
    KEY_WORKER_PORT,
    PASSTHROUGH_KEYS,
    StackConfig,
    default_prefix,
    sanitize_prefix,
    settings_updates,
)
from ..context import Context
from ..errors import ConfigError
from ..settings import Settings, write_settings_keys
from ..store.ports import choose_port, port_is_free
from . import postgres as pg_service


def plan_config(settings: Settings, database_url: str | None, uid: int,
                pick_port: Callable[[], int]) -> StackConfig:
    """The StackConfig for these settings; `pick_port` is called only when no port is configured yet."""
    raw_port = (settings.get(KEY_PORT) or "").strip()
    if raw_port:
        if not raw_port.isdigit() or not 1 <= int(raw_port) <= 65535:
            raise ConfigError(f"{KEY_PORT}={raw_port!r} ({settings.source(KEY_PORT)}) is not a port number",
                              hint=f"remove {KEY_PORT} from {settings.paths.settings_file}; "
                                   "cmem-ops server start picks a free one")
        port = int(raw_port)
    else:
        port = pick_port()
    prefix = settings.get(KEY_PREFIX)
    pinned = sanitize_prefix(prefix) if prefix else default_prefix(settings.get(KEY_WORKER_PORT), uid)
    passthrough = {k: v for k in PASSTHROUGH_KEYS if (v := settings.get(k))}
    return StackConfig(
        data_dir=settings.paths.data_dir,
        database_url=database_url,
        redis_url=settings.redis_url,
        prefix=pinned,
        host=(settings.get(KEY_HOST) or DEFAULT_HOST).strip(),
        port=port,
        engine=(settings.get("CLAUDE_MEM_QUEUE_ENGINE") or ENGINE_BULLMQ).strip().lower(),
        passthrough=passthrough,
    )


def persist_config(ctx: Context, cfg: StackConfig) -> None:
    """Write the keys claude-mem reads to settings.json, except those the environment sets (kept as they are)."""
    updates = {k: v for k, v in settings_updates(cfg).items()
               if not ctx.settings.source(k).startswith("env")}
    write_settings_keys(ctx.paths, updates)


def load_config(ctx: Context) -> StackConfig:
    """Resolve the config without writing anything (port 0 when none was chosen yet)."""
    return plan_config(ctx.settings, pg_service.database_url(ctx), os.getuid(), lambda: 0)


def plan_start_config(ctx: Context) -> StackConfig:
    """Resolve the config a start uses, choosing the HTTP port the first time; writes nothing."""
    return plan_config(ctx.settings, pg_service.database_url(ctx), os.getuid(), lambda: choose_port(port_is_free))

