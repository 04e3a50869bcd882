"""Which probes run, and running them: one thread per group, one deadline for the whole doctor.

Every probe bounds its own waits by what is left of the deadline, so a silent listener or a hung
HTTP endpoint costs at most the doctor's timeout. A group still running at the deadline is reported
as FAIL (timed out); its daemon thread is abandoned and cannot delay the exit.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass

from ..claudemem.queue_commands import SMOKE_KEY_PATTERN
from ..context import Context
from ..errors import ConfigError
from ..probes import bullmq as bullmq_probe
from ..probes import hosted, ownership, redis_checks, topology
from ..probes import stack as stack_probes
from ..probes import tls as tls_probe
from ..probes.base import Group, ProbeResult, Status, Stopwatch, skipped
from ..probes.files import probe_files
from ..probes.http import probe_http
from ..probes.lua import probe_lua
from ..probes.postgres import probe_postgres
from ..probes.queue import probe_queue
from ..probes.redis_conn import StoreHints, close_quietly, connect
from ..redis_url import RedisTarget
from ..resp import RespError
from ..settings import QueueEngine, RedisMode
from ..store_client import open_store
from ..tlstrust import KEY_EXTRA_CA
from ..wait import Deadline, format_seconds
from .report import DoctorReport

GROUP_ORDER = (Group.STORE, Group.POSTGRES, Group.SERVER, Group.QUEUE, Group.FILES)
OP_TIMEOUT_S = 2.0  # one round trip to a store or server; the deadline may cut it shorter
SAFETY_S = 0.15  # time kept back to assemble and print the report


@dataclass(frozen=True)
class DoctorOptions:
    """What to check and how long the whole run may take."""

    only: frozenset[Group] | None = None
    timeout: float = 15.0
    smoke: bool = True
    client: str = "auto"


def server_url(ctx: Context) -> str | None:
    """The claude-mem server's base URL when one is configured (explicitly, or by a server runtime)."""
    explicit = ctx.settings.get("CLAUDE_MEM_SERVER_URL")
    if explicit:
        return explicit
    port = ctx.settings.get("CLAUDE_MEM_SERVER_PORT")
    runtime = (ctx.settings.get("CLAUDE_MEM_RUNTIME") or "").startswith("server")
    if not port and not runtime:
        return None
    host = ctx.settings.get("CLAUDE_MEM_SERVER_HOST") or "127.0.0.1"
    return f"http://{host}:{port or 37877 + (os.getuid() if hasattr(os, 'getuid') else 0) % 100}"


def docker_stack_mode(ctx: Context) -> bool:
    """CLAUDE_MEM_STACK=docker: the checks run against the docker stack (probes/docker_stack.py)."""
    return (ctx.settings.get("CLAUDE_MEM_STACK") or "").strip().lower() == "docker"


def _op_budget(deadline: Deadline, cap: float = OP_TIMEOUT_S) -> float:
    """Seconds one round trip may take: `cap`, cut so the group still finishes before the deadline."""
    return max(min(cap, deadline.remaining() - SAFETY_S), 0.05)


def store_probes(ctx: Context, deadline: Deadline, options: DoctorOptions) -> list[ProbeResult]:
    """TCP, PING/AUTH, server, policy, persistence, memory, clients, latency, exposure, Lua, BullMQ smoke."""
    if docker_stack_mode(ctx):
        from ..probes import docker_stack as docker_probes

        return docker_probes.store_probes(ctx, _op_budget(deadline, 10.0), smoke=options.smoke)
    settings = ctx.settings
    broken = ownership.probe_settings(ctx.paths)  # the doctor reads a broken file as empty: say so first
    if broken is not None:
        return [broken]
    try:
        engine = settings.queue_engine
        mode = settings.redis_mode
        target = settings.redis_target()
    except ConfigError as exc:
        return [ProbeResult("settings", "queue store", Status.FAIL, exc.message, hint=exc.hint)]
    if engine is QueueEngine.SQLITE:
        return [skipped("queue store", "sqlite", "the queue engine is sqlite: no queue store needed", Group.STORE,
                        required=False)]
    if target is None:
        hint = "cmem-ops up" if mode is RedisMode.MANAGED else "set CLAUDE_MEM_REDIS_URL=redis://host:port/0"
        return [ProbeResult("queue store", mode.value, Status.FAIL, "no queue store is configured yet", hint=hint)]
    label = f"{mode.value} {target.url(redact=True)}"
    hints = StoreHints.for_mode(mode.value, target)
    later = ["server", "eviction policy", "persistence", "lua"] + (["bullmq"] if options.smoke else [])
    managed = mode is RedisMode.MANAGED
    frozen = ownership.probe_process(ctx.paths, label) if managed else None
    if frozen is not None:
        return [frozen] + [skipped(n, label, f"skipped: {frozen.summary}", Group.STORE) for n in later]
    # Managed means ours: after TCP, AUTH and PING, the ownership gate (probes/ownership.py) judges the server
    # before INFO, CONFIG or anything later is sent; on a foreign server nothing more runs and nothing is written.
    gate = (lambda c: ownership.probe_ownership(ctx.paths, target, c, label)) if managed else None
    results, conn, snap = connect(target, _op_budget(deadline), hints, label, gate=gate)
    # TLS as claude-mem's Node sees it (probes/tls.py): trust, names, handshake time; plain vs TLS mix-ups.
    extra_ca = settings.get(KEY_EXTRA_CA)
    results = tls_probe.with_tls_verdict(results, target, label, extra_ca, _op_budget(deadline))
    refused = next((r for r in results if r.name == "ownership" and r.status is Status.FAIL), None)
    if refused is not None:
        return results + [skipped(n, label, "skipped: the server on the managed port is not ours", Group.STORE)
                          for n in later]
    if conn is None or snap is None:
        done = {r.name for r in results}
        if target.username and any(r.data.get("failure") == "noperm" for r in results):
            results.append(_acl_probe(ctx, target, label, deadline))  # everything else it lacks, in one list
        return results + [skipped(n, label, "skipped: the store did not answer", Group.STORE) for n in later
                          if n not in done]
    # Topology first (probes/topology.py): a replica, a cluster node or a Sentinel cannot hold the queue,
    # and every check after this one would judge the wrong server.
    conn.timeout = _op_budget(deadline)
    role = topology.check_topology(topology.read_topology(conn, snap.info, snap.config), target, label)
    results.append(role)
    if role.status is Status.FAIL:
        close_quietly(conn)
        why = f"skipped: {target.address} is a {role.data.get('role')}, not the primary claude-mem needs"
        return results + [skipped(n, label, why, Group.STORE) for n in later]
    # An ACL user (probes/acl.py) must be allowed every command BullMQ runs, on the prefix's keys.
    # (The managed store's `default` user is ours and has every right: its checks stay as they were.)
    acl = _acl_probe(ctx, target, label, deadline) if target.username and mode is not RedisMode.MANAGED else None
    smoke_allowed = True
    if acl is not None:
        results.append(acl)
        smoke_allowed = acl.data.get("smoke_keys") is not False
    # The smoke is the slow part (a Node process): run it while the quick checks below read the snapshot.
    smoke: list[ProbeResult] = []
    smoke_thread = None
    if options.smoke and not smoke_allowed:
        user = target.username
        results.append(ProbeResult("bullmq", label, Status.WARN,
                                   f"smoke not run: user {user} may not touch the smoke's own keys "
                                   f"({SMOKE_KEY_PATTERN})", required=False,
                                   hint=f"ACL SETUSER {user} ~{SMOKE_KEY_PATTERN} +scan +dbsize +script|load   "
                                        "(or: cmem-ops doctor --no-smoke)"))
    elif options.smoke:
        budget = max(deadline.remaining() - SAFETY_S, 0.1)
        smoke_thread = threading.Thread(
            target=lambda: smoke.append(bullmq_probe.probe_bullmq(target, label, hints, budget, ctx.paths.cache_dir,
                                                                  options.client, extra_ca=extra_ca)),
            name="doctor-bullmq", daemon=True)
        smoke_thread.start()
    try:
        for check in (redis_checks.check_version, redis_checks.check_policy, redis_checks.check_persistence,
                      redis_checks.check_memory, redis_checks.check_clients, redis_checks.check_latency,
                      redis_checks.check_exposure):
            results.append(check(snap, label, hints))
        # A hosted service (probes/hosted.py) is fixed in its console or parameter group, not by CONFIG SET.
        blocked = snap.config is None and "noperm" not in (snap.config_error or "").lower()
        detection = hosted.detect_provider(target.host, blocked)
        results = [hosted.adjust(r, detection) for r in results]
        provider = hosted.check_provider(detection, label)
        if provider is not None:
            results.append(provider)
        dragonfly = redis_checks.check_dragonfly(snap, label, hints, settings.queue_prefix)
        if dragonfly is not None:
            results.append(dragonfly)
        conn.timeout = _op_budget(deadline)
        results.append(probe_lua(conn, label, hints))
    finally:
        close_quietly(conn)
    if smoke_thread is not None:
        smoke_thread.join(max(deadline.remaining() - SAFETY_S / 2, 0))
        if results[-1].status is Status.FAIL:
            results.append(skipped("bullmq", label, "skipped: Lua does not work", Group.STORE))
        elif smoke:
            results.append(smoke[0])
        else:
            results.append(ProbeResult("bullmq", label, Status.FAIL, "the smoke job did not finish before the deadline",
                                       hint=f"cmem-ops doctor --only store --timeout {options.timeout * 2:g}"))
    return results


def _acl_probe(ctx: Context, target: RedisTarget, label: str, deadline: Deadline) -> ProbeResult:
    """The ACL check on its own connection: a refused EXEC could leave a connection inside MULTI."""
    from ..claudemem.env import default_prefix, sanitize_prefix
    from ..probes.acl import probe_acl

    raw = ctx.settings.queue_prefix
    prefix = sanitize_prefix(raw) if raw else default_prefix(ctx.settings.get("CLAUDE_MEM_WORKER_PORT"),
                                                             os.getuid() if hasattr(os, "getuid") else 0)
    try:
        with open_store(target, _op_budget(deadline)) as conn:
            return probe_acl(conn, target.username or "default", prefix, label)
    except (OSError, RespError) as exc:
        return ProbeResult("acl", label, Status.FAIL, f"the ACL check could not connect: {exc}",
                           hint="cmem-ops doctor --only store")


def postgres_probes(ctx: Context, deadline: Deadline, options: DoctorOptions) -> list[ProbeResult]:
    """Postgres: connect, version, claude-mem's schema."""
    if docker_stack_mode(ctx):
        from ..probes import docker_stack as docker_probes

        return docker_probes.postgres_probes(ctx, _op_budget(deadline, 10.0))
    return probe_postgres(ctx.settings.get("CLAUDE_MEM_SERVER_DATABASE_URL"),
                          max(min(5.0, deadline.remaining() - SAFETY_S), 0.5))


def server_probes(ctx: Context, deadline: Deadline, options: DoctorOptions) -> list[ProbeResult]:
    """The claude-mem server's HTTP endpoints."""
    if docker_stack_mode(ctx):
        from ..probes import docker_stack as docker_probes

        lines, published = docker_probes.server_probes(ctx, _op_budget(deadline, 10.0))
        if published is None:
            return lines
        return lines + probe_http(published, ctx.settings.get("CLAUDE_MEM_SERVER_API_KEY"), OP_TIMEOUT_S * 2,
                                  budget=lambda: _op_budget(deadline, OP_TIMEOUT_S * 2))
    url = server_url(ctx)
    if url is None:
        return [skipped("server", "(not configured)", "no claude-mem server configured (CLAUDE_MEM_SERVER_URL unset)",
                        Group.SERVER, required=False)]
    results = probe_http(url, ctx.settings.get("CLAUDE_MEM_SERVER_API_KEY"), OP_TIMEOUT_S * 2,
                         budget=lambda: _op_budget(deadline, OP_TIMEOUT_S * 2))
    return stack_probes.with_stack(ctx, deadline, results, url)


def file_probes(ctx: Context, deadline: Deadline, options: DoctorOptions) -> list[ProbeResult]:
    """Data dir, settings.json, logs, PID files."""
    return probe_files(ctx.paths)


def queue_probes(ctx: Context, deadline: Deadline, options: DoctorOptions) -> list[ProbeResult]:
    """Backlog per lane, failed jobs, Postgres/BullMQ divergence (probes/queue.py); on the docker stack,
    the stuck jobs and the same judges read inside its containers (probes/docker_queue.py)."""
    from ..lifecycle.postgres import database_url

    if docker_stack_mode(ctx):
        from ..probes import docker_queue
        from ..probes import docker_stack as docker_probes

        return [*docker_queue.queue_probes(ctx, lambda: _op_budget(deadline, 10.0)),
                docker_probes.stuck_jobs_probe(ctx, _op_budget(deadline, 10.0))]

    try:
        url = database_url(ctx)
    except ConfigError:
        url = None
    from ..lifecycle.worker import idle_workers

    return probe_queue(ctx, url, _op_budget(deadline, OP_TIMEOUT_S * 2), idle_workers(ctx))


GROUPS: dict[Group, Callable[[Context, Deadline, DoctorOptions], list[ProbeResult]]] = {
    Group.STORE: store_probes,
    Group.POSTGRES: postgres_probes,
    Group.SERVER: server_probes,
    Group.QUEUE: queue_probes,
    Group.FILES: file_probes,
}


def run_doctor(ctx: Context, options: DoctorOptions) -> DoctorReport:
    """Run the selected groups concurrently; return within options.timeout whatever the probes do."""
    sw = Stopwatch()
    deadline = Deadline.after(options.timeout)
    selected = [g for g in GROUP_ORDER if options.only is None or g in options.only]
    outputs: dict[Group, list[ProbeResult]] = {}
    errors: dict[Group, BaseException] = {}

    def work(group: Group) -> None:
        try:
            outputs[group] = GROUPS[group](ctx, deadline, options)
        except BaseException as exc:  # a bug in a probe: report it, never hang the doctor
            errors[group] = exc

    threads = {g: threading.Thread(target=work, args=(g,), name=f"doctor-{g.value}", daemon=True) for g in selected}
    for thread in threads.values():
        thread.start()
    for thread in threads.values():
        thread.join(max(deadline.remaining(), 0))
    results: list[ProbeResult] = []
    for group in selected:
        if group in outputs:
            results.extend(outputs[group])
        elif group in errors:
            exc = errors[group]
            results.append(ProbeResult(group.value, "doctor", Status.FAIL, f"the {group.value} probes crashed: "
                                       f"{type(exc).__name__}: {exc}", group=group,
                                       hint="please report this with the output of: cmem-ops doctor --json"))
        else:
            results.append(ProbeResult(group.value, "doctor", Status.FAIL,
                                       f"the {group.value} checks did not finish within "
                                       f"{format_seconds(options.timeout)}",
                                       group=group, hint=f"cmem-ops doctor --only {group.value} --timeout "
                                                         f"{options.timeout * 2:g}"))
    return DoctorReport(tuple(results), round(sw.ms, 1), options.timeout)
