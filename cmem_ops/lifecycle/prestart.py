"""What is checked before a server or worker process is started: the runtime, the settings, the dependencies.

Each check raises the OpsError that names the problem and its fix; nothing here spawns anything.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..claudemem.env import StackConfig
from ..claudemem.validation import detect_docker, failures, format_refusal
from ..context import Context
from ..errors import ConfigError, MissingError, NotRunningError
from ..probes.base import ProbeResult
from ..redaction import redact_text
from ..redis_url import parse_redis_url
from ..runtime.locate import Runtime, find_runtime
from ..store_answer import Failure, ask
from .stack_config import persist_config, plan_start_config

DEPENDENCY_TIMEOUT_S = 2.0


def require_runtime(ctx: Context) -> Runtime:
    """The installed claude-mem runtime, or MissingError with the install command."""
    runtime = find_runtime(ctx.paths)
    if runtime is None:
        raise MissingError(f"the claude-mem server runtime is not installed under {ctx.paths.data_dir / 'runtime'}",
                           hint="cmem-ops server install")
    return runtime


def child_env(ctx: Context, built: Mapping[str, str]) -> dict[str, str]:
    """The environment a child really gets: ours (as the context saw it) overlaid with `built`."""
    return {**ctx.settings.env, **built}


def refuse_invalid(what: str, results: list[ProbeResult]) -> None:
    """Raise ConfigError listing every failed rule with its fix; return when none failed."""
    failed = failures(results)
    if failed:
        raise ConfigError(format_refusal(what, failed), hint=failed[0].hint)


def is_docker(ctx: Context) -> bool:
    """Whether claude-mem will apply its Docker rules to the processes we start."""
    return detect_docker(ctx.settings.env)


# Failures the URL in settings causes (wrong credentials, database, scheme): a config error, not "down".
CONFIG_FAILURES = frozenset({Failure.NOAUTH, Failure.WRONGPASS, Failure.NO_PASSWORD_SET, Failure.DB_RANGE,
                             Failure.TLS_TO_PLAIN, Failure.PLAIN_TO_TLS})


def check_queue_store(cfg: StackConfig, timeout: float = DEPENDENCY_TIMEOUT_S) -> None:
    """PING the queue store with the configured credentials; NotRunningError with the fix otherwise."""
    if not cfg.redis_url:
        raise ConfigError("no queue store URL is configured (CLAUDE_MEM_REDIS_URL)", hint="cmem-ops store start")
    target = parse_redis_url(cfg.redis_url)
    answer = ask(target, timeout)
    if answer.ok:
        return
    from ..probes.redis_conn import StoreHints, diagnose  # lazy: only a failing check needs the words

    hints = StoreHints.for_mode("external", target)
    d = diagnose(answer, hints, timeout)
    if answer.failure in CONFIG_FAILURES:
        raise ConfigError(f"the queue store at {target.address}: {d.summary}", hint=d.hint)
    raise NotRunningError(f"the queue store at {target.address} does not answer as it should: {d.summary}",
                          hint=d.hint if answer.failure not in (Failure.REFUSED, Failure.CONNECT_TIMEOUT)
                          else "cmem-ops store start   (or cmem-ops stack up)")


def check_postgres(cfg: StackConfig, timeout: float = DEPENDENCY_TIMEOUT_S) -> None:
    """A TCP connect to the database host; NotRunningError with the fix otherwise.

    Authentication is left to the server itself: it exits at once with the reason, which the start
    reports with the log tail.
    """
    if not cfg.database_url:
        raise ConfigError("no database is configured (CLAUDE_MEM_SERVER_DATABASE_URL)",
                          hint="cmem-ops postgres start   (or cmem-ops stack up)")
    parts = urlsplit(cfg.database_url)
    host = parts.hostname or "localhost"
    try:
        port = parts.port or 5432
    except ValueError:
        raise ConfigError(f"CLAUDE_MEM_SERVER_DATABASE_URL {redact_text(cfg.database_url)} has an invalid port",
                          hint="fix CLAUDE_MEM_SERVER_DATABASE_URL") from None
    if host.startswith("/"):
        if not os.path.exists(os.path.join(host, f".s.PGSQL.{port}")):
            raise NotRunningError(f"no Postgres socket in {host} for port {port}", hint="cmem-ops postgres start")
        return
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return
    except OSError as exc:
        raise NotRunningError(f"Postgres at {host}:{port} does not answer ({exc.strerror or exc})",
                              hint="cmem-ops postgres start   (or cmem-ops stack up)") from None


def check_dependencies(cfg: StackConfig) -> None:
    """Queue store, then Postgres (the start order)."""
    check_queue_store(cfg)
    check_postgres(cfg)


@dataclass(frozen=True)
class Prepared:
    """What a server or worker start works from, once its environment passed claude-mem's rules."""

    ctx: Context
    cfg: StackConfig
    checks: list[ProbeResult]
    runtime: Runtime


def prepare(ctx: Context, what: str, validate: Callable[[Context, StackConfig], list[ProbeResult]]) -> Prepared:
    """Plan the config, validate the environment `what` would get and find the runtime, refusing early;
    only then pin the config (the HTTP port, the queue prefix) in settings.json: a refused start writes nothing."""
    cfg = plan_start_config(ctx)
    checks = validate(ctx, cfg)
    refuse_invalid(what, checks)
    runtime = require_runtime(ctx)
    persist_config(ctx, cfg)
    return Prepared(ctx.reload(), cfg, checks, runtime)
