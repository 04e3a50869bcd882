"""The environment claude-mem's server bundle runs with, built from one resolved StackConfig (pure).

The bundle reads most of its server settings from the process environment only (the database URL,
the provider keys, the auth mode, the generation switch); only the queue keys also fall back to
settings.json. So cmem-ops persists its choices in settings.json (for claude-mem's hooks and for
the next start) *and* passes every key explicitly to each process it starts: the environment is
the one source both processes agree on, which is what keeps their queue prefix from drifting.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import NamedTuple

KEY_DATA_DIR = "CLAUDE_MEM_DATA_DIR"
KEY_RUNTIME = "CLAUDE_MEM_RUNTIME"
KEY_DATABASE_URL = "CLAUDE_MEM_SERVER_DATABASE_URL"
KEY_ENGINE = "CLAUDE_MEM_QUEUE_ENGINE"
KEY_REDIS_URL = "CLAUDE_MEM_REDIS_URL"
KEY_PREFIX = "CLAUDE_MEM_QUEUE_REDIS_PREFIX"
KEY_HOST = "CLAUDE_MEM_SERVER_HOST"
KEY_PORT = "CLAUDE_MEM_SERVER_PORT"
KEY_IDLE_TIMEOUT = "CLAUDE_MEM_POSTGRES_IDLE_TIMEOUT_MS"
KEY_GENERATION_DISABLED = "CLAUDE_MEM_GENERATION_DISABLED"
KEY_AUTH_MODE = "CLAUDE_MEM_AUTH_MODE"
KEY_LOCAL_DEV_BYPASS = "CLAUDE_MEM_ALLOW_LOCAL_DEV_BYPASS"
KEY_DOCKER = "CLAUDE_MEM_DOCKER"
KEY_WORKER_PORT = "CLAUDE_MEM_WORKER_PORT"
KEY_PROVIDER = "CLAUDE_MEM_SERVER_PROVIDER"

RUNTIME_SERVER = "server"
ENGINE_BULLMQ = "bullmq"
DEFAULT_HOST = "127.0.0.1"

# The long-running processes keep idle Postgres connections this long (claude-mem's default is 30 s,
# which is also how long every one of its CLI calls lingers before exiting).
PROCESS_IDLE_TIMEOUT_MS = "10000"
# One-shot CLI calls (api-key create/revoke) close their pool at once and exit in ~0.5 s.
CLI_IDLE_TIMEOUT_MS = "300"

# Keys the bundle reads from its environment only. cmem-ops resolves each of them (environment,
# then settings.json) and hands them on, so settings.json is enough to configure the server.
PASSTHROUGH_KEYS = (
    KEY_AUTH_MODE, KEY_LOCAL_DEV_BYPASS, KEY_DOCKER,
    KEY_PROVIDER, "CLAUDE_MEM_SERVER_MODEL", "CLAUDE_MEM_SERVER_MAX_OUTPUT_TOKENS",
    "ANTHROPIC_API_KEY", "CLAUDE_MEM_ANTHROPIC_API_KEY", "GEMINI_API_KEY", "CLAUDE_MEM_GEMINI_API_KEY",
    "OPENROUTER_API_KEY", "CLAUDE_MEM_OPENROUTER_API_KEY", "CLAUDE_MEM_OPENROUTER_BASE_URL", "OPENROUTER_BASE_URL",
    "CLAUDE_MEM_RATE_LIMIT_PER_MIN", "CLAUDE_MEM_MONTHLY_REQUEST_CAP", "CLAUDE_MEM_MONTHLY_TOKEN_CAP",
    "CLAUDE_MEM_USAGE_METERING", "CLAUDE_MEM_PUBLIC_URL", "CLAUDE_MEM_SUMMARY_INPUT_BUDGET_BYTES",
    "CLAUDE_MEM_POSTGRES_POOL_MAX", "CLAUDE_MEM_POSTGRES_CONNECTION_TIMEOUT_MS",
    "CLAUDE_MEM_POSTGRES_STATEMENT_TIMEOUT_MS", "CLAUDE_MEM_POSTGRES_SSL",
    # Node reads its extra CA bundle from the environment only: a rediss:// store with a private CA needs it.
    "NODE_EXTRA_CA_CERTS",
)

# Which API-key variable each provider needs (first one found wins, as in the bundle).
PROVIDER_KEYS: dict[str, tuple[str, ...]] = {
    "claude": ("ANTHROPIC_API_KEY", "CLAUDE_MEM_ANTHROPIC_API_KEY"),
    "anthropic": ("ANTHROPIC_API_KEY", "CLAUDE_MEM_ANTHROPIC_API_KEY"),
    "gemini": ("GEMINI_API_KEY", "CLAUDE_MEM_GEMINI_API_KEY"),
    "openrouter": ("OPENROUTER_API_KEY", "CLAUDE_MEM_OPENROUTER_API_KEY"),
}


class StackConfig(NamedTuple):
    """Everything the server and worker processes are started with, resolved once."""

    data_dir: Path
    database_url: str | None
    redis_url: str | None
    prefix: str
    host: str = DEFAULT_HOST
    port: int = 0
    engine: str = ENGINE_BULLMQ
    idle_timeout_ms: str = PROCESS_IDLE_TIMEOUT_MS
    passthrough: Mapping[str, str] = MappingProxyType({})  # read-only: the default is shared

    @property
    def base_url(self) -> str:
        """http://host:port of the HTTP server."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


def sanitize_prefix(raw: str) -> str:
    """The prefix exactly as claude-mem normalises it: empty -> claude_mem; other characters -> _ (pure)."""
    return re.sub(r"[^a-zA-Z0-9_-]", "_", raw.strip() or "claude_mem")


def default_prefix(worker_port: str | None, uid: int) -> str:
    """claude-mem's own default prefix, so pinning it keeps queues that already exist (pure)."""
    port = worker_port.strip() if worker_port and worker_port.strip() else str(37700 + uid % 100)
    return sanitize_prefix(f"claude_mem_{port}")


def default_server_port(uid: int) -> int:
    """claude-mem's default HTTP port, 37877 + uid % 100 (pure)."""
    return 37877 + uid % 100


def _stack_keys(cfg: StackConfig) -> dict[str, str]:
    """The keys that pin how claude-mem runs: given to every process and persisted in settings.json (pure)."""
    return {
        KEY_RUNTIME: RUNTIME_SERVER,
        KEY_ENGINE: cfg.engine,
        KEY_PREFIX: cfg.prefix,
        KEY_HOST: cfg.host,
        KEY_PORT: str(cfg.port),
        KEY_IDLE_TIMEOUT: cfg.idle_timeout_ms,
    }


def build_common_env(cfg: StackConfig) -> dict[str, str]:
    """The keys every process of the stack gets: data dir, runtime, database, queue, address (pure)."""
    env = dict(cfg.passthrough)
    env[KEY_DATA_DIR] = str(cfg.data_dir)
    env.update(_stack_keys(cfg))
    if cfg.database_url:
        env[KEY_DATABASE_URL] = cfg.database_url
    if cfg.redis_url:
        env[KEY_REDIS_URL] = cfg.redis_url
    return env


def build_server_env(cfg: StackConfig, *, separate_workers: bool = True) -> dict[str, str]:
    """The HTTP process: generation disabled when workers run as their own processes (pure)."""
    env = build_common_env(cfg)
    if separate_workers:
        env[KEY_GENERATION_DISABLED] = "1"
    return env


def build_worker_env(cfg: StackConfig) -> dict[str, str]:
    """The generation worker: the common keys with generation explicitly enabled (pure).

    The worker drops CLAUDE_MEM_GENERATION_DISABLED from its own environment; setting it to 0 here also
    overrides a 1 the caller's shell may carry.
    """
    env = build_common_env(cfg)
    env[KEY_GENERATION_DISABLED] = "0"
    return env


def build_cli_env(cfg: StackConfig) -> dict[str, str]:
    """A one-shot bundle CLI call (api-key, jobs): a tiny idle timeout so it exits in ~0.5 s, not 30 s (pure)."""
    env = build_common_env(cfg)
    env[KEY_IDLE_TIMEOUT] = CLI_IDLE_TIMEOUT_MS
    return env


def settings_updates(cfg: StackConfig) -> dict[str, str | None]:
    """The keys cmem-ops persists in settings.json for claude-mem and for its own next start (pure).

    The database URL is left to whoever owns it (the managed Postgres service or the user): writing
    a managed cluster's URL here would make it look external.
    """
    return dict(_stack_keys(cfg))


def provider_of(env: Mapping[str, str]) -> tuple[str | None, bool]:
    """(provider name, whether its API key is present) as the bundle would see `env` (pure)."""
    name = (env.get(KEY_PROVIDER) or "").strip().lower() or None
    if name is None:
        return None, False
    return name, any(env.get(k) for k in PROVIDER_KEYS.get(name, ()))
