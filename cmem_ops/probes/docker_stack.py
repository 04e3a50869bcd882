"""The doctor over the docker stack (CLAUDE_MEM_STACK=docker): checks run inside the compose network.

The store and Postgres are not published, so their checks run in their own containers through
`docker compose exec` (an authenticated PING and the persistence/eviction settings with valkey-cli,
the password read from the mounted file inside the container; `pg_isready`); the server is probed
through its published port like the native one. Every FAIL names the docker command that shows why.
Probes never raise for the stack being down: each failure is a result.
"""

from __future__ import annotations

from ..containers.compose import Compose, ComposeService, build_logs_argv, format_argv
from ..context import Context
from ..errors import OpsError
from ..lifecycle import docker_stack
from ..lifecycle import docker_stack_config as cfg
from .base import Group, ProbeResult, Status, Stopwatch, skipped

UP_HINT = "cmem-ops stack up --docker"
# The valkey-cli calls get the password through their environment, read inside the container.
VALKEY_CLI = 'REDISCLI_AUTH="$(cat /run/secrets/valkey-password)" valkey-cli --no-auth-warning '


def _compose(ctx: Context) -> Compose | None:
    state = docker_stack.read_state(ctx)
    if state is None:
        return None
    return docker_stack.compose_for(ctx, state, cfg.choose_images({}, frozenset()))


def _logs_hint(compose: Compose, service: str) -> str:
    return f"{format_argv(build_logs_argv(compose.project, [service], tail=50))}   (then: {UP_HINT})"


def _service_line(compose: Compose, rows: list[ComposeService], service: str, group: Group) -> ProbeResult:
    mine = [r for r in rows if r.service == service]
    running = [r for r in mine if r.running]
    label = f"{compose.project.name}/{service}"
    if not running:
        states = ", ".join(r.state for r in mine) or "no container"
        return ProbeResult(service, label, Status.FAIL, f"{service} is not running ({states})",
                           hint=_logs_hint(compose, service), group=group)
    unhealthy = [r for r in running if r.health not in ("", "healthy")]
    if unhealthy:
        return ProbeResult(service, label, Status.FAIL, f"{service} is {unhealthy[0].health}",
                           hint=_logs_hint(compose, service), group=group)
    return ProbeResult(service, label, Status.OK, f"{len(running)} running"
                       + (", healthy" if running[0].health == "healthy" else ""), group=group)


def _exec(compose: Compose, service: str, script: str, timeout: float) -> tuple[bool, str]:
    try:
        return True, compose.exec(service, ["sh", "-c", script], timeout=timeout).strip()
    except OpsError as exc:
        return False, exc.message


def _not_started(group: Group) -> list[ProbeResult]:
    return [ProbeResult("docker stack", "(none)", Status.FAIL, "CLAUDE_MEM_STACK=docker, but no docker stack was "
                        "started from this data dir", hint=UP_HINT, group=group)]


def store_probes(ctx: Context, timeout: float) -> list[ProbeResult]:
    """The valkey container: running and healthy, an authenticated PING, AOF on and noeviction."""
    compose = _compose(ctx)
    if compose is None:
        return _not_started(Group.STORE)
    sw = Stopwatch()
    try:
        rows = compose.ps(all_=True, timeout=timeout)
    except OpsError as exc:
        return [ProbeResult("docker stack", compose.project.name, Status.FAIL, exc.message, hint=exc.hint or UP_HINT)]
    line = _service_line(compose, rows, "valkey", Group.STORE)
    results = [line.timed(sw.ms)]
    label = f"{compose.project.name}/valkey"
    if line.status is not Status.OK:
        return [*results, skipped("ping", label, "skipped: the store container is not serving", Group.STORE)]
    ok, out = _exec(compose, "valkey", VALKEY_CLI + "ping", timeout)
    results.append(ProbeResult("ping", label, Status.OK if ok and out == "PONG" else Status.FAIL,
                               "authenticated PING: PONG" if ok and out == "PONG" else f"PING: {out[-200:]}",
                               hint=None if ok and out == "PONG" else _logs_hint(compose, "valkey"),
                               group=Group.STORE))
    ok, out = _exec(compose, "valkey", VALKEY_CLI + "config get appendonly maxmemory-policy", timeout)
    values = out.split()
    settings = dict(zip(values[::2], values[1::2], strict=False)) if ok else {}
    good = settings.get("appendonly") == "yes" and settings.get("maxmemory-policy") == "noeviction"
    results.append(ProbeResult("policy", label, Status.OK if good else Status.FAIL,
                               f"appendonly {settings.get('appendonly', '?')}, maxmemory-policy "
                               f"{settings.get('maxmemory-policy', '?')}",
                               hint=None if good else f"the store runs another config than {cfg.secrets_dir(ctx.paths)}"
                               f"/valkey.conf: {UP_HINT}", group=Group.STORE))
    return results


def postgres_probes(ctx: Context, timeout: float) -> list[ProbeResult]:
    """The postgres container: running and healthy, and pg_isready inside it."""
    compose = _compose(ctx)
    if compose is None:
        return _not_started(Group.POSTGRES)
    try:
        rows = compose.ps(all_=True, timeout=timeout)
    except OpsError as exc:
        return [ProbeResult("docker stack", compose.project.name, Status.FAIL, exc.message, hint=exc.hint or UP_HINT,
                            group=Group.POSTGRES)]
    line = _service_line(compose, rows, "postgres", Group.POSTGRES)
    if line.status is not Status.OK:
        return [line]
    ok, out = _exec(compose, "postgres", f"pg_isready -U {cfg.POSTGRES_USER} -d claude_mem", timeout)
    return [line, ProbeResult("pg_isready", f"{compose.project.name}/postgres", Status.OK if ok else Status.FAIL,
                              out[-200:] or "accepting connections", group=Group.POSTGRES,
                              hint=None if ok else _logs_hint(compose, "postgres"))]


def server_probes(ctx: Context, timeout: float) -> tuple[list[ProbeResult], str | None]:
    """The server and worker containers; the published URL for the HTTP probes (None when not started)."""
    compose = _compose(ctx)
    state = docker_stack.read_state(ctx)
    if compose is None or state is None:
        return _not_started(Group.SERVER), None
    try:
        rows = compose.ps(all_=True, timeout=timeout)
    except OpsError as exc:
        return [ProbeResult("docker stack", compose.project.name, Status.FAIL, exc.message, hint=exc.hint or UP_HINT,
                            group=Group.SERVER)], None
    lines = [_service_line(compose, rows, cfg.SERVER, Group.SERVER), _service_line(compose, rows, cfg.WORKER,
                                                                                   Group.SERVER)]
    return lines, f"http://127.0.0.1:{state.server_port}"
