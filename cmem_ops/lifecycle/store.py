"""Queue-store services: ensure settings, start, stop, restart, status, and `up`."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, NamedTuple

from ..context import Context
from ..errors import ConfigError, OpsError
from ..redis_url import RedisTarget
from ..resp import LoadingError, RespAuthError, RespError
from ..settings import KEY_MODE, KEY_URL, RedisMode, Settings
from ..store import state
from ..store.identity import ServerProcess, StoreView, observe

if TYPE_CHECKING:
    from ..store import process


class StoreStatus(NamedTuple):
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


class ManagedIdentity(NamedTuple):
    """The managed store's persisted port and password."""

    port: int
    password: str

    @property
    def target(self) -> RedisTarget:
        return state.managed_target(self.port, self.password)


def managed_identity(ctx: Context, *, new_port: bool = False) -> ManagedIdentity:
    """The port/password settings.json names, adopting a running server's or choosing them the first time.

    Decided under the store lock, like every start and stop, after re-reading settings.json.
    """
    from . import store_control

    return store_control.identity(ctx, new_port=new_port)


def _require_managed(settings: Settings, action: str) -> None:
    mode = settings.redis_mode
    if mode is not RedisMode.MANAGED:
        url = settings.redis_url
        why = f"CLAUDE_MEM_REDIS_URL from {settings.source(KEY_URL)}" if url else f"{KEY_MODE}={mode.value}"
        raise ConfigError(
            f"the queue store is in {mode.value} mode ({why}); cmem-ops only {action}s a managed store",
            hint=f"to switch to the managed store: set {KEY_MODE}=managed (and unset CLAUDE_MEM_REDIS_URL "
                 "in the environment), then cmem-ops store start",
        )


def start(ctx: Context, *, binary: str | None = None, new_port: bool = False, timeout: float = 15.0
          ) -> process.StartResult:
    """Start the managed store; a second start while ours runs is a no-op that re-syncs settings.json."""
    from . import store_control  # supervision code: kept off the `status` import path

    return store_control.start(ctx, binary=binary, new_port=new_port, timeout=timeout)


def stop(ctx: Context, *, timeout: float = 15.0) -> process.StopResult:
    """Stop the managed store; external and docker stores are never stopped."""
    from . import store_control

    return store_control.stop(ctx, timeout=timeout)


def restart(ctx: Context, *, timeout: float = 15.0) -> process.StartResult:
    """Validate everything a start needs, then stop and start under one lock; a failed start says it is down."""
    from . import store_control

    return store_control.restart(ctx, timeout=timeout)


DOCKER_CONTAINER = "cmem-ops-valkey"  # installers/container.py names the docker-mode store this


def docker_logs(ctx: Context, lines: int) -> list[str]:
    """The docker-mode store's last `lines` log lines, read through the Docker SDK."""
    from ..installers.container import container_logs  # the docker SDK: loaded only in docker mode

    if ctx.settings.redis_mode is not RedisMode.DOCKER:
        raise ConfigError("the queue store is not in docker mode", hint="cmem-ops logs store")
    return container_logs(DOCKER_CONTAINER, tail=lines).splitlines()


def stopped_problem(server: ServerProcess) -> tuple[str, str]:
    """(problem, hint) for our server stopped by a signal: it holds its port and answers nobody (pure)."""
    return (f"the managed store (pid {server.pid}) is stopped (process state {server.state}, e.g. SIGSTOP): "
            "it accepts connections but answers nothing",
            f"kill -CONT {server.pid}   (or: cmem-ops store restart)")


def identity_problem(view: StoreView, configured_port: int | None) -> tuple[str, str] | None:
    """What is wrong with the servers on our data dir, judged from the world (pure given the view)."""
    server = view.server
    if server is None:
        return None
    if len(view.servers) > 1:
        return (f"{len(view.servers)} servers run on one data dir: " + "; ".join(s.describe() for s in view.servers),
                "cmem-ops store stop   (stops every one of them), then: cmem-ops store start")
    if server.stopped:
        return stopped_problem(server)
    if configured_port is not None and server.ports and configured_port not in server.ports:
        return (f"settings.json names port {configured_port} but the managed store (pid {server.pid}) listens on "
                f"{','.join(map(str, server.ports))}",
                "cmem-ops store start   (writes the running server's address into settings.json)")
    return None


def status(ctx: Context, *, timeout: float = 2.0) -> StoreStatus:
    """Report the queue store's state; never raises for the store itself being down."""
    mode = ctx.settings.redis_mode
    target = ctx.settings.redis_target()
    view = observe(ctx.paths.redis_data, ctx.paths.redis_pid) if mode is RedisMode.MANAGED else None
    server = view.server if view else None
    record = (view.record if view and view.record and server and view.record.pid == server.pid
              else server.record(state.COMPONENT) if server else None)
    base = dict(mode=mode.value, url=target.url(redact=True) if target else None,
                host=target.host if target else None, port=target.port if target else None,
                data_dir=str(ctx.paths.redis_data) if mode is RedisMode.MANAGED else None)
    if mode is RedisMode.MANAGED and view is not None and server is None:
        stale = " (its PID file is stale)" if view.pidfile_present else ""
        return StoreStatus(running=False, problem=f"the managed store is not running{stale}",
                           hint="cmem-ops store start", **base)  # type: ignore[arg-type]
    if server is not None and view is not None:
        problem = identity_problem(view, target.port if target else None)
        if problem is not None:
            return StoreStatus(running=True, pid=server.pid, binary=server.exe or None, problem=problem[0],
                               hint=problem[1], **base)  # type: ignore[arg-type]
    if target is None:
        return StoreStatus(running=False, problem="no queue store configured yet",
                           hint="cmem-ops up   (starts the managed store)", **base)  # type: ignore[arg-type]
    try:
        from ..store.status import read_facts  # INFO parsing: loaded by status, not by start/stop

        facts = read_facts(target, timeout=timeout)
    except RespAuthError as exc:
        return StoreStatus(running=True, problem=f"authentication failed: {exc}",
                           hint="check the password in CLAUDE_MEM_REDIS_URL", pid=record.pid if record else None,
                           **base)  # type: ignore[arg-type]
    except (OSError, RespError) as exc:
        if server is not None:  # our process is alive (the world says so): running, but not answering
            hint = ("wait for it to load, then: cmem-ops store status" if isinstance(exc, LoadingError)
                    else "cmem-ops doctor --only store   (names the cause), or: cmem-ops store restart")
            return StoreStatus(running=True, problem=f"the managed store (pid {server.pid}) runs but {target.address} "
                               f"does not answer as configured: {exc}", hint=hint, pid=server.pid,
                               binary=server.exe or None, **base)  # type: ignore[arg-type]
        return StoreStatus(running=False, problem=f"{target.address} does not answer: {exc}",
                           hint="cmem-ops store start" if mode is RedisMode.MANAGED
                           else f"check that the server at {target.address} is up: cmem-ops doctor",
                           **base)  # type: ignore[arg-type]
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
        from . import store_control

        result = store_control.ensure(ctx, timeout=timeout)  # start and check under one lock: no stop between
    else:
        result = status(ctx.reload())
    if not result.running or result.problem:
        raise OpsError(f"queue store ({result.mode}, {result.url}) is not usable: {result.problem}",
                       hint=result.hint)
    return result
