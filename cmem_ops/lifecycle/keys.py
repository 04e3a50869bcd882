"""API keys of the stack: create and revoke through the server bundle's Postgres path (never the npx CLI)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..claudemem import apikeys
from ..claudemem.apikeys import ApiKey
from ..claudemem.env import build_cli_env
from ..context import Context
from ..errors import ConfigError
from ..paths import write_private_file
from .prestart import child_env, require_runtime
from .stack_config import load_config


@dataclass(frozen=True)
class KeyCreated:
    """A created key, and the file it was written to (if asked)."""

    key: ApiKey
    key_file: str | None


def cli_env(ctx: Context) -> dict[str, str]:
    """The environment of a one-shot bundle CLI call: the stack's keys and a tiny Postgres idle timeout."""
    cfg = load_config(ctx)
    if not cfg.database_url:
        raise ConfigError("no database is configured yet (CLAUDE_MEM_SERVER_DATABASE_URL)",
                          hint="cmem-ops stack up   (or cmem-ops postgres start)")
    return child_env(ctx, build_cli_env(cfg))


def create(ctx: Context, scopes: Sequence[str], *, team: str | None = None, project: str | None = None,
           name: str | None = None, key_file: Path | None = None) -> KeyCreated:
    """Create a key in Postgres; with `key_file`, also write the raw key there (0600)."""
    runtime = require_runtime(ctx)
    key = apikeys.create_api_key(ctx.runner, runtime, cli_env(ctx), scopes, team, project, name)
    if key_file is not None:
        write_private_file(key_file, key.key + "\n")
    return KeyCreated(key, str(key_file) if key_file else None)


def revoke(ctx: Context, key_id: str) -> str:
    """Revoke the key with id `key_id`; the server refuses it from its next request on."""
    return apikeys.revoke_api_key(ctx.runner, require_runtime(ctx), cli_env(ctx), key_id)
