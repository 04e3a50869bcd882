"""Queue-store services: ensure settings, start, stop, restart, status, and `up`."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..context import Context
from ..errors import ConfigError, ConflictError, OpsError
from ..paths import ensure_private_dir
from ..redis_url import RedisTarget, parse_redis_url
from ..resp import RespAuthError, RespError
from ..settings import (
    KEY_ENGINE,
    KEY_MODE,
    KEY_PORT,
    KEY_URL,
    QueueEngine,
    RedisMode,
    write_settings_keys,
)
from ..store import state
from ..store.pinned import pinned_binary

if TYPE_CHECKING:
    from ..store import process
from ..store.ports import choose_port, ipv6_loopback_available, port_is_free
from ..store.status import read_facts


@dataclass(frozen=True)
class StoreStatus:
    """What `cmem-ops store status` reports."""

    mode: str
    running: bool
    url: str | None
    host: str | None
    port: int | None
    flavour: str | None = None
    version: str | None = None
    pid: int | None = None
    uptime_s: int | None = None
    appendonly: bool | None = None
    appendfsync: str | None = None
    maxmemory_policy: str | None = None
    data_dir: str | None = None
    binary: str | None = None
    problem: str | None = None
    hint: str | None = None


@dataclass(frozen=True)
class ManagedIdentity:
    """The managed store's persisted port and password."""

    port: int
    password: str

    @property
    def target(self) -> RedisTarget:
        return state.managed_target(self.port, self.password)


def managed_identity(ctx: Context, *, new_port: bool = False) -> ManagedIdentity:
    """Read the persisted port/password, choosing and persisting them the first time."""
    settings = ctx.settings
    port = None if new_port else settings.persisted_port
    password = None
    url = settings.file_values.get(KEY_URL)
    if isinstance(url, str) and url:
        try:
            target = parse_redis_url(url)
            password = target.password
            if port is None and not new_port and target.host in ("127.0.0.1", "localhost"):
                port = target.port
        except ConfigError:
            password = None
    if port is None:
        ipv6 = ipv6_loopback_available()
        port = choose_port(lambda p: port_is_free(p, ipv6=ipv6))
    password = password or state.new_password()
    identity = ManagedIdentity(port, password)
    updates: dict[str, str | None] = {
        KEY_MODE: RedisMode.MANAGED.value,
        KEY_PORT: str(port),
        KEY_URL: identity.target.url(),
    }
    if not settings.get(KEY_ENGINE):
        updates[KEY_ENGINE] = QueueEngine.BULLMQ.value
    write_settings_keys(ctx.paths, updates)
    return identity


def _require_managed(ctx: Context, action: str) -> None:
    mode = ctx.settings.redis_mode
    if mode is not RedisMode.MANAGED:
        url = ctx.settings.redis_url
        why = f"CLAUDE_MEM_REDIS_URL from {ctx.settings.source(KEY_URL)}" if url else f"{KEY_MODE}={mode.value}"
        raise ConfigError(
            f"the queue store is in {mode.value} mode ({why}); cmem-ops only {action}s a managed store",
            hint=f"to switch to the managed store: set {KEY_MODE}=managed (and unset CLAUDE_MEM_REDIS_URL "
                 "in the environment), then cmem-ops store start",
        )


def start(ctx: Context, *, binary: str | None = None, new_port: bool = False, timeout: float = 15.0
          ) -> process.StartResult:
    """Start the managed store; a second start while ours runs is a no-op."""
    from ..store import process  # supervision code: kept off the `status` import path

    _require_managed(ctx, "start")
    ensure_private_dir(ctx.paths.data_dir)
    running = state.running_record(ctx.paths)
    if running is not None and new_port:
        raise ConflictError(f"the managed store is running (pid {running.pid}, port {running.port})",
                            hint="cmem-ops store stop   (then start again with --new-port)")
    identity = managed_identity(ctx, new_port=new_port)
    if running is not None and running.port == identity.port and state.ping(identity.target):
        return process.StartResult(process.StartOutcome.ALREADY_RUNNING, running.pid, identity.port,
                                   running.binary or "", 0.0)
    chosen = process.select_binary(ctx.paths, ctx.runner, binary or pinned_binary(ctx.settings))
    return process.start_store(ctx.paths, ctx.runner, identity.port, identity.password, chosen, timeout)


def stop(ctx: Context, *, timeout: float = 15.0) -> process.StopResult:
    """Stop the managed store; external and docker stores are never stopped."""
    from ..store import process

    mode = ctx.settings.redis_mode
    if mode is RedisMode.DOCKER:
        return process.StopResult(process.StopOutcome.NOT_RUNNING, None, "",
                                  "the queue store runs in Docker: `cmem-ops store stop` never stops it "
                                  f"(docker stop {DOCKER_CONTAINER}, or cmem-ops uninstall to remove the container)")
    if mode is not RedisMode.MANAGED:
        return process.StopResult(process.StopOutcome.NOT_RUNNING, None, "",
                                  f"the queue store is {mode.value}: cmem-ops never stops it")
    if not ctx.paths.redis_dir.is_dir():  # no PID file can exist: nothing to stop, and nothing is created
        return process.StopResult(process.StopOutcome.NOT_RUNNING, None, "",
                                  "the managed store is not running (no PID file)")
    target = ctx.settings.redis_target()
    return process.stop_store(ctx.paths, target.password if target else None, timeout)


DOCKER_CONTAINER = "cmem-ops-valkey"  # installers/container.py names the docker-mode store this


def docker_logs(ctx: Context, lines: int) -> list[str]:
    """The docker-mode store's last `lines` log lines, read through the Docker SDK."""
    from ..installers.container import container_logs  # the docker SDK: loaded only in docker mode

    if ctx.settings.redis_mode is not RedisMode.DOCKER:
        raise ConfigError("the queue store is not in docker mode", hint="cmem-ops logs store")
    return container_logs(DOCKER_CONTAINER, tail=lines).splitlines()


def status(ctx: Context, *, timeout: float = 2.0) -> StoreStatus:
    """Report the queue store's state; never raises for the store itself being down."""
    mode = ctx.settings.redis_mode
    target = ctx.settings.redis_target()
    record = state.running_record(ctx.paths) if mode is RedisMode.MANAGED else None
    base = dict(mode=mode.value, url=target.url(redact=True) if target else None,
                host=target.host if target else None, port=target.port if target else None,
                data_dir=str(ctx.paths.redis_data) if mode is RedisMode.MANAGED else None)
    if target is None:
        return StoreStatus(running=False, problem="no queue store configured yet",
                           hint="cmem-ops up   (starts the managed store)", **base)  # type: ignore[arg-type]
    if mode is RedisMode.MANAGED and record is None:
        return StoreStatus(running=False, problem="the managed store is not running",
                           hint="cmem-ops store start", **base)  # type: ignore[arg-type]
    try:
        facts = read_facts(target, timeout=timeout)
    except RespAuthError as exc:
        return StoreStatus(running=True, problem=f"authentication failed: {exc}",
                           hint="check the password in CLAUDE_MEM_REDIS_URL", pid=record.pid if record else None,
                           **base)  # type: ignore[arg-type]
    except (OSError, RespError) as exc:
        return StoreStatus(running=False, problem=f"{target.address} does not answer: {exc}",
                           hint="cmem-ops store start" if mode is RedisMode.MANAGED
                           else f"check that the server at {target.address} is up: cmem-ops doctor",
                           pid=record.pid if record else None, **base)  # type: ignore[arg-type]
    uptime = facts.uptime_s
    if record and record.started_at and uptime is None:
        uptime = int(time.time() - record.started_at)
    # A replica, a cluster node or a Sentinel answers PING but cannot hold claude-mem's queue.
    wrong_role = None
    if facts.info.get("role") != "master" or facts.info.get("cluster_enabled") == "1" or \
            "min_slaves_good_slaves" in facts.info:
        from ..probes.topology import status_problem  # off the happy path only: status stays light

        wrong_role = status_problem(facts.info, target, facts.config)
    return StoreStatus(
        running=True, flavour=facts.flavour.display, version=facts.version,
        pid=record.pid if record else facts.process_id if mode is RedisMode.MANAGED else None,
        uptime_s=uptime, appendonly=facts.appendonly, appendfsync=facts.appendfsync,
        maxmemory_policy=facts.maxmemory_policy, binary=record.binary if record else None,
        problem=wrong_role[0] if wrong_role else None, hint=wrong_role[1] if wrong_role else None,
        **base,  # type: ignore[arg-type]
    )


def up(ctx: Context, *, timeout: float = 15.0) -> StoreStatus:
    """Ensure the queue store: start the managed one, or check the configured external one."""
    mode = ctx.settings.redis_mode
    if mode is RedisMode.MANAGED:
        start(ctx, timeout=timeout)
        ctx = ctx.reload()
    result = status(ctx.reload() if mode is not RedisMode.MANAGED else ctx)
    if not result.running or result.problem:
        raise OpsError(f"queue store ({result.mode}, {result.url}) is not usable: {result.problem}",
                       hint=result.hint)
    return result
