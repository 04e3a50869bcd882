"""Start, stop and restart the managed store, each decided in ONE critical section.

Every command takes the store lock (<data dir>/redis/.lock) first, then re-reads settings.json and
the live system (store/identity.py), decides, and acts, so eight concurrent `store start`, `up`,
`restart` and `stop` end with at most one server, and settings.json names its port and password:

    start    a server on our data dir -> adopt it (its port, the password it accepts) into settings.json;
             none -> choose port/password, refuse a port someone else holds (writing nothing), write
             redis.conf, then settings.json, then spawn
    stop     every server on our data dir, proven ours by its cwd, whatever the PID file or a broken
             settings.json says (passwords: settings.json's, then the redis.conf it was started from)
    restart  validate all a start needs (settings, port, binary, config, writable dirs) before stopping;
             a start that still fails says the store is down and what to run
    held     the lock for a whole stop -> swap the data -> start (restore, upgrade, their roll-backs):
             `with held(ctx) as store: store.stop(); ...; store.start(binary)`; a concurrent
             `store start` waits instead of starting the old data in between

An OSError from the filesystem becomes a FileError naming the path and errno.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from ..context import Context
from ..errors import ConfigError, ConflictError, NotRunningError, OpsError, file_error
from ..paths import Paths
from ..pidfile import write_pidfile
from ..settings import (
    KEY_PORT,
    RedisMode,
    Settings,
    load_settings,
    write_settings_keys,
)
from ..store import process, state
from ..store.identity import StoreView, describe_holders, observe
from ..store.ports import port_answers
from ..wait import Deadline
from .store import ManagedIdentity, StoreStatus, _require_managed, status, stopped_problem
from .store_plan import plan_identity, prepare, settings_updates


def describe_listener(host: str, port: int) -> str:
    """Who answers on host:port (store/status.py; loaded only on this error path)."""
    from ..store.status import describe_listener as describe

    return describe(host, port)


def _write_settings(paths: Paths, updates: dict[str, str | None]) -> None:
    write_settings_keys(paths, updates)  # an OSError arrives as a FileError naming settings.json


def _passwords(settings: Settings | None, paths: Paths) -> list[str]:
    """Passwords to try on our server: settings.json's, then the redis.conf it was started from."""
    found = []
    if settings is not None:
        try:
            target = settings.redis_target()
            if target is not None and target.password:
                found.append(target.password)
        except ConfigError:
            pass
    conf = state.conf_password(paths)
    if conf:
        found.append(conf)
    return found


def _adopt(paths: Paths, settings: Settings, view: StoreView, new_port: bool) -> process.StartResult:
    """A server already runs on our data dir: make settings.json name it, never start a second one."""
    server = view.server
    assert server is not None
    if len(view.servers) > 1:
        raise ConflictError(f"{len(view.servers)} servers run on the data dir {paths.redis_data}: "
                            + "; ".join(s.describe() for s in view.servers),
                            hint="cmem-ops store stop   (stops every one of them), then: cmem-ops store start")
    if server.stopped:
        problem, hint = stopped_problem(server)
        raise NotRunningError(problem, hint=hint)
    if new_port:
        raise ConflictError(f"the managed store is running (pid {server.pid}, port {server.port})",
                            hint="cmem-ops store stop   (then start again with --new-port)")
    if server.port is None:
        raise NotRunningError(f"the managed store (pid {server.pid}) runs on {paths.redis_data} but listens on no "
                              "port yet (still starting or loading its data)", hint="cmem-ops store status")
    proof = state.answering(server.port, _passwords(settings, paths))
    if proof is None:
        raise ConflictError(f"the server on our data dir ({server.describe()}) accepts neither the password in "
                            f"{paths.settings_file} nor the one in {paths.redis_conf}",
                            hint="cmem-ops store restart   (stops it by its process identity, starts it again)")
    password, server_dir = proof
    if server_dir and os.path.realpath(server_dir) != os.path.realpath(paths.redis_data):
        raise ConflictError(f"pid {server.pid} runs in {paths.redis_data} but says its dir is {server_dir}",
                            hint=f"stop it yourself (kill {server.pid}), then: cmem-ops store start")
    _write_settings(paths, settings_updates(settings, server.port, password))
    if view.record is None or view.record.pid != server.pid:
        try:
            write_pidfile(paths.redis_pid, server.record(state.COMPONENT))  # repair the cache
        except OSError as exc:
            raise file_error(exc, "write the PID file", paths.redis_pid) from None
    return process.StartResult(process.StartOutcome.ALREADY_RUNNING, server.pid, server.port, server.exe, 0.0)


def _start_locked(ctx: Context, binary: str | None, new_port: bool, timeout: float) -> process.StartResult:
    paths, env = ctx.paths, dict(ctx.settings.env)
    settings = load_settings(paths, env)  # re-read under the lock: another process may have just written it
    _require_managed(settings, "start")
    view = observe(paths.redis_data, paths.redis_pid)
    if view.server is not None:
        return _adopt(paths, settings, view, new_port)
    ready = prepare(paths, env, ctx.runner, binary, new_port)
    port = ready.plan.port
    if port_answers(state.HOST, port):
        raise ConflictError(
            f"port {port} already answers on {state.HOST}: {describe_listener(state.HOST, port)}, held by "
            f"{describe_holders(port)}; it is not the managed store (no server of ours runs on {paths.redis_data}); "
            "nothing was changed",
            hint=f"stop whatever listens there (ss -ltnp 'sport = :{port}'), or pick a new port: "
                 "cmem-ops store start --new-port")
    paths.redis_pid.unlink(missing_ok=True)  # names no live server (observe found none)
    process.write_files(paths, ready.cfg)
    _write_settings(paths, settings_updates(ready.settings, port, ready.plan.password))
    return process.spawn_store(paths, ctx.runner, ready.cfg, ready.binary, Deadline.after(timeout))


def start(ctx: Context, *, binary: str | None = None, new_port: bool = False, timeout: float = 15.0
          ) -> process.StartResult:
    """Start the managed store, or adopt the one already running on our data dir; one lock for all of it."""
    with process.store_lock(ctx.paths):
        return _start_locked(ctx, binary, new_port, timeout)


def ensure(ctx: Context, *, timeout: float = 15.0) -> StoreStatus:
    """`up`'s store step: start (or adopt) and read its status while holding the lock, so no stop slips between."""
    with process.store_lock(ctx.paths):
        _start_locked(ctx, None, False, timeout)
        return status(ctx.reload())


def identity(ctx: Context, *, new_port: bool = False) -> ManagedIdentity:
    """The identity settings.json names after this call (adopted from a running server, or planned and written)."""
    with process.store_lock(ctx.paths):
        settings = load_settings(ctx.paths, ctx.settings.env)
        view = observe(ctx.paths.redis_data, ctx.paths.redis_pid)
        if view.server is not None and view.server.port is not None and not view.server.stopped:
            proof = state.answering(view.server.port, _passwords(settings, ctx.paths))
            if proof is not None:
                _write_settings(ctx.paths, settings_updates(settings, view.server.port, proof[0]))
                return ManagedIdentity(view.server.port, proof[0])
        plan = plan_identity(settings, new_port)
        _write_settings(ctx.paths, settings_updates(settings, plan.port, plan.password))
        return ManagedIdentity(plan.port, plan.password)


def _fresh_settings(ctx: Context) -> Settings | None:
    """settings.json as it is now, or None when it does not parse (a stop must still work then)."""
    try:
        return load_settings(ctx.paths, ctx.settings.env)
    except ConfigError:
        return None


def _forget_pidfile(paths: Paths) -> str:
    """Remove the PID file (a cache); a note when the OS refuses, since the stop itself succeeded."""
    try:
        paths.redis_pid.unlink(missing_ok=True)
    except OSError as exc:
        err = file_error(exc, "remove", paths.redis_pid)
        return f"; but {err.message} ({err.hint})"
    return ""


def _stop_locked(paths: Paths, settings: Settings | None, timeout: float) -> process.StopResult:
    from ..store import shutdown  # SHUTDOWN and signalling: not loaded by a start
    view = observe(paths.redis_data, paths.redis_pid)
    if view.server is None:
        if view.pidfile_present:
            note = _forget_pidfile(paths)
            return process.StopResult(process.StopOutcome.STALE_PIDFILE, view.record.pid if view.record else None, "",
                                      f"the managed store is not running: no server runs on {paths.redis_data}; "
                                      f"removed the stale PID file {paths.redis_pid}; nothing was signalled{note}")
        return process.StopResult(process.StopOutcome.NOT_RUNNING, None, "",
                                  f"the managed store is not running (no server on {paths.redis_data})")
    deadline = Deadline.after(timeout)
    passwords = _passwords(settings, paths)
    done = []
    for server in view.servers:
        password = None
        if server.port is not None and passwords:
            if server.stopped:
                shutdown.resume(server, deadline)
            proof = state.answering(server.port, passwords)
            password = proof[0] if proof else None
        done.append(f"pid {server.pid}, {shutdown.stop_server(server, password, paths.redis_data, deadline)}")
    note = _forget_pidfile(paths)
    pids = ", ".join(str(s.pid) for s in view.servers)
    return process.StopResult(process.StopOutcome.STOPPED, view.servers[0].pid, "; ".join(done),
                              f"stopped the managed store ({'; '.join(done)}); data kept in {paths.redis_data}"
                              + (f" (stopped {len(view.servers)} servers on one data dir: {pids})"
                                 if len(view.servers) > 1 else "") + note)


def stop(ctx: Context, *, timeout: float = 15.0) -> process.StopResult:
    """Stop every server on our data dir (proven ours by the live process); docker/external are never stopped."""
    settings = _fresh_settings(ctx)
    mode = settings.redis_mode if settings is not None else RedisMode.MANAGED
    if mode is RedisMode.DOCKER:
        from .store import DOCKER_CONTAINER

        return process.StopResult(process.StopOutcome.NOT_RUNNING, None, "",
                                  "the queue store runs in Docker: `cmem-ops store stop` never stops it "
                                  f"(docker stop {DOCKER_CONTAINER}, or cmem-ops uninstall to remove the container)")
    if mode is not RedisMode.MANAGED:
        return process.StopResult(process.StopOutcome.NOT_RUNNING, None, "",
                                  f"the queue store is {mode.value}: cmem-ops never stops it")
    if not ctx.paths.redis_dir.is_dir():  # no server can run on a data dir that does not exist; create nothing
        return process.StopResult(process.StopOutcome.NOT_RUNNING, None, "",
                                  f"the managed store is not running (no {ctx.paths.redis_dir})")
    return stop_managed(ctx.paths, settings, timeout)


def stop_managed(paths: Paths, settings: Settings | None, timeout: float) -> process.StopResult:
    """Stop whatever server runs on our data dir, under the store lock (uninstall uses this directly)."""
    with process.store_lock(paths):
        try:
            return _stop_locked(paths, settings, timeout)
        except OSError as exc:
            raise file_error(exc, "remove", exc.filename or paths.redis_pid) from None


def _refuse_foreign_port(paths: Paths, port: int) -> None:
    """Before a restart stops anything: the port the start will use must be free or held by our own server."""
    view = observe(paths.redis_data, paths.redis_pid)
    if any(port in server.ports for server in view.servers) or not port_answers(state.HOST, port):
        return
    raise ConflictError(
        f"port {port} (from settings.json) already answers on {state.HOST}: {describe_listener(state.HOST, port)}, "
        f"held by {describe_holders(port)}; the restart would stop the store and fail to start it again, so "
        "nothing was stopped",
        hint=f"stop whatever listens there (ss -ltnp 'sport = :{port}'), or fix {KEY_PORT} in {paths.settings_file}")


def restart(ctx: Context, *, timeout: float = 15.0) -> process.StartResult:
    """Validate a start fully, then stop and start under one lock; if the start fails, say the store is down."""
    with process.store_lock(ctx.paths):
        ready = prepare(ctx.paths, dict(ctx.settings.env), ctx.runner, None, False,  # raises before anything stops
                        sync_probe=True)
        _refuse_foreign_port(ctx.paths, ready.plan.port)
        stopped = _stop_locked(ctx.paths, _fresh_settings(ctx), timeout)
        try:
            return _start_locked(ctx, None, False, timeout)
        except OpsError as exc:
            was = "the managed store was stopped" if stopped.outcome is process.StopOutcome.STOPPED else \
                "the managed store was not running"
            raise type(exc)(f"{was} and did not start again, so it is down: {exc.message}",
                            hint=f"{exc.hint + '; then: ' if exc.hint else ''}cmem-ops store start") from None




class HeldStore:
    """The managed store while this process holds its lock: stop and start without letting go of it."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def running(self) -> bool:
        """True when a server runs on our data dir (read from the live system)."""
        return state.running_record(self.ctx.paths) is not None

    def stop(self, timeout: float = 15.0) -> process.StopResult:
        """Stop every server on our data dir (as `store stop`), keeping the lock."""
        return _stop_locked(self.ctx.paths, _fresh_settings(self.ctx), timeout)

    def start(self, binary: str | None = None, timeout: float = 15.0) -> process.StartResult:
        """Start (or adopt) the managed store (as `store start`), keeping the lock."""
        return _start_locked(self.ctx.reload(), binary, False, timeout)


@contextmanager
def held(ctx: Context) -> Iterator[HeldStore]:
    """Hold the store lock for several steps: no `store start/stop/restart`, `up` or uninstall runs in between."""
    _require_managed(ctx.settings, "manage")
    with process.store_lock(ctx.paths):
        yield HeldStore(ctx)

