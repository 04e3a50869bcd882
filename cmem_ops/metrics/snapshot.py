"""One scrape: read the queue store, Postgres and the server once, into a MetricsSnapshot.

Each source is read under its own bound and reported separately: a store that is down gives
`store.up = False` and no lane counts, but Postgres and /healthz are still read. Nothing raises for
the systems being measured; a broken setting is an OpsError for the caller (the metrics command).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ..context import Context
from ..redis_url import RedisTarget
from ..resp import RespError, parse_info
from ..settings import RedisMode
from ..store_client import StoreConnection, open_store
from .generation import GenerationStats, read_generation, short_error
from .lanes import LaneStats, queue_prefix, read_lanes
from .store import StoreStats, parse_store_stats


@dataclass(frozen=True)
class HealthStats:
    """The server's /healthz: None `up` when no server is configured."""

    url: str | None
    up: bool | None
    error: str | None = None


@dataclass(frozen=True)
class MetricsSnapshot:
    """Everything one scrape read, and how long each part took."""

    prefix: str
    store: StoreStats
    lanes: tuple[LaneStats, ...]
    generation: GenerationStats | None
    health: HealthStats
    durations: dict[str, float] = field(default_factory=dict)


def read_store(target: RedisTarget | None, prefix: str, timeout: float,
               gate: Callable[[StoreConnection], bool] | None = None
               ) -> tuple[StoreStats, list[LaneStats], StoreConnection | None]:
    """INFO and both lanes over one connection; the connection is returned open for the divergence check.

    `gate(conn)` (managed mode: the server is proven ours) is asked first; when False nothing is read.
    """
    if target is None:
        return StoreStats(up=False, error="no queue store is configured"), [], None
    try:
        conn = open_store(target, timeout)
    except (OSError, RespError) as exc:
        return StoreStats(up=False, error=short_error(exc)), [], None
    if gate is not None and not gate(conn):
        conn.close()
        return StoreStats(up=False, error=f"the server on {target.address} is not the managed store "
                                          "(cmem-ops doctor --only store names it)"), [], None
    try:
        stats = parse_store_stats(parse_info(conn.text("INFO")))
        lanes = read_lanes(conn, prefix, time.time() * 1000)
    except (OSError, RespError) as exc:
        conn.close()
        return StoreStats(up=False, error=short_error(exc)), [], None
    return stats, lanes, conn


def read_health(base_url: str | None, timeout: float) -> HealthStats:
    """GET /healthz: up when it answers 200 with status ok."""
    if base_url is None:
        return HealthStats(None, None)
    from ..claudemem.api import ApiClient
    from ..http_client import HttpError

    try:
        resp = ApiClient(base_url, timeout=timeout).healthz()
    except (HttpError, OSError, ValueError) as exc:
        return HealthStats(base_url, False, short_error(exc))
    ok = resp.status == 200 and resp.body.get("status") == "ok"
    return HealthStats(base_url, ok, None if ok else f"GET /healthz answered {resp.status}")


@dataclass(frozen=True)
class Sources:
    """Where one scrape reads: the store, its queue prefix, Postgres, the server; or why the first two cannot be."""

    target: RedisTarget | None
    prefix: str
    database_url: str | None
    server_url: str | None
    unreachable: str | None = None


def native_sources(ctx: Context) -> Sources:
    """The native stack's store, Postgres and server, from the settings."""
    from ..doctor.suite import server_url
    from ..lifecycle.postgres import database_url

    return Sources(ctx.settings.redis_target(), queue_prefix(ctx.settings), database_url(ctx), server_url(ctx))


def docker_sources(ctx: Context) -> Sources:
    """The docker stack's store and Postgres on their loopback publication (state.json), its server's port."""
    from ..lifecycle import docker_stack_config as cfg
    from ..lifecycle.docker_stack_project import read_secrets, read_state
    from ..redis_url import parse_redis_url

    state = read_state(ctx)
    if state is None:
        return Sources(None, cfg.DEFAULT_PREFIX, None, None, "no docker stack was started from this data dir "
                                                             "(cmem-ops stack up --docker)")
    server = f"http://127.0.0.1:{state.server_port}"
    passwords = read_secrets(ctx)
    if not state.published or passwords is None:
        return Sources(None, state.prefix, None, server,
                       "the docker stack's store and Postgres are not published on loopback "
                       f"(set {cfg.KEY_PUBLISH}=1, then: cmem-ops stack up --docker)")
    store_url = cfg.build_store_url(state, passwords.valkey_password) or ""
    return Sources(parse_redis_url(store_url), state.prefix,
                   cfg.build_database_url(state, passwords.postgres_password), server)


def collect(ctx: Context, timeout: float = 2.0, docker: bool = False) -> MetricsSnapshot:
    """Read every source once (each bounded by `timeout` per round trip); ConfigError on broken settings.

    `docker` (or CLAUDE_MEM_STACK=docker): the docker stack's sources (docker_sources).
    """
    from ..lifecycle.docker_stack_project import wants_docker

    sources = docker_sources(ctx) if wants_docker(ctx, docker) else native_sources(ctx)
    prefix = sources.prefix
    durations: dict[str, float] = {}
    t0 = time.perf_counter()
    target = sources.target
    gate = None
    if target is not None and not sources.unreachable and not wants_docker(ctx, docker) \
            and ctx.settings.redis_mode is RedisMode.MANAGED:
        from ..probes.ownership import proven_ours

        gate = lambda conn: proven_ours(ctx.paths, target, conn)  # noqa: E731
    store, lanes, conn = (read_store(target, prefix, timeout, gate) if not sources.unreachable
                          else (StoreStats(up=False, error=sources.unreachable), [], None))
    durations["store"] = time.perf_counter() - t0
    try:
        t0 = time.perf_counter()
        generation = (GenerationStats({}, 0, 0, error=sources.unreachable) if sources.unreachable
                      else read_generation(sources.database_url, conn, prefix, timeout))
        durations["postgres"] = time.perf_counter() - t0
    finally:
        if conn is not None:
            conn.close()
    t0 = time.perf_counter()
    health = read_health(sources.server_url, timeout)
    durations["server"] = time.perf_counter() - t0
    return MetricsSnapshot(prefix, store, tuple(lanes), generation, health, durations)
