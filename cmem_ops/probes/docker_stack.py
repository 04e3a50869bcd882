"""The doctor over the docker stack (CLAUDE_MEM_STACK=docker): checks run inside the compose network.

The store and Postgres are not published, so their checks run in their own containers through
`docker compose exec` (an authenticated PING and the persistence/eviction settings with valkey-cli,
the password read from the mounted file inside the container; `pg_isready`); the server is probed
through its published port like the native one. Every FAIL names the docker command that shows why.
Probes never raise for the stack being down: each failure is a result.
"""

from __future__ import annotations

from pathlib import Path

from ..containers.compose import Compose
from ..containers.compose_argv import build_exec_argv, build_logs_argv, build_run_argv, build_service_argv
from ..containers.compose_output import ComposeService
from ..context import Context
from ..errors import OpsError
from ..lifecycle import docker_stack_config as cfg
from ..lifecycle.docker_stack_project import compose_for, read_state
from .base import Group, ProbeResult, Status, Stopwatch, skipped

UP_HINT = "cmem-ops stack up --docker"
# EVAL, then SCRIPT LOAD + EVALSHA, as probes/lua.py does natively: "1|<sha>|2" when Lua works.
LUA_SCRIPT = (f"a=$({cfg.VALKEY_CLI}EVAL 'return 1' 0); s=$({cfg.VALKEY_CLI}SCRIPT LOAD 'return 2'); "
              f'b=$({cfg.VALKEY_CLI}EVALSHA "$s" 0); echo "$a|$s|$b"')
SMOKE_DIR = "/cmem-ops-smoke"


def _compose(ctx: Context) -> Compose | None:
    state = read_state(ctx)
    if state is None:
        return None
    return compose_for(ctx, state, cfg.choose_images({}, frozenset()))


def _logs_hint(compose: Compose, service: str) -> str:
    return f"{compose.by_hand(build_logs_argv(compose.project, [service], tail=50))}   (then: {UP_HINT})"


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


def store_probes(ctx: Context, timeout: float, *, smoke: bool = False) -> list[ProbeResult]:
    """The valkey container: running and healthy, an authenticated PING, AOF on and noeviction, Lua; with
    `smoke`, the BullMQ smoke from a one-off claude-mem container."""
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
        return [*results, *(skipped(n, label, "skipped: the store container is not serving", Group.STORE)
                            for n in ("ping", "policy", "lua", *(["bullmq"] if smoke else [])))]
    ok, out = _exec(compose, "valkey", cfg.VALKEY_CLI + "ping", timeout)
    results.append(ProbeResult("ping", label, Status.OK if ok and out == "PONG" else Status.FAIL,
                               "authenticated PING: PONG" if ok and out == "PONG" else f"PING: {out[-200:]}",
                               hint=None if ok and out == "PONG" else _logs_hint(compose, "valkey"),
                               group=Group.STORE))
    ok, out = _exec(compose, "valkey", cfg.VALKEY_CLI + "config get appendonly maxmemory-policy", timeout)
    values = out.split()
    settings = dict(zip(values[::2], values[1::2], strict=False)) if ok else {}
    good = settings.get("appendonly") == "yes" and settings.get("maxmemory-policy") == "noeviction"
    results.append(ProbeResult("policy", label, Status.OK if good else Status.FAIL,
                               f"appendonly {settings.get('appendonly', '?')}, maxmemory-policy "
                               f"{settings.get('maxmemory-policy', '?')}",
                               hint=None if good else f"the store runs another config than {cfg.secrets_dir(ctx.paths)}"
                               f"/valkey.conf: {UP_HINT}", group=Group.STORE))
    results.append(lua_probe(ctx, compose, timeout))
    if smoke:
        results.append(smoke_probe(ctx, compose, timeout) if results[-1].status is Status.OK
                       else skipped("bullmq", label, "skipped: Lua does not work", Group.STORE))
    return results


def _exec_hint(compose: Compose, service: str, script: str) -> str:
    return compose.by_hand(build_exec_argv(compose.project, service, ["sh", "-c", script]))


def lua_probe(ctx: Context, compose: Compose, timeout: float) -> ProbeResult:
    """EVAL, SCRIPT LOAD and EVALSHA by valkey-cli inside the store container (BullMQ runs only Lua)."""
    sw = Stopwatch()
    label = f"{compose.project.name}/valkey"
    ok, out = _exec(compose, "valkey", LUA_SCRIPT, timeout)
    parts = out.split("|")
    if ok and len(parts) == 3 and parts[0] == "1" and parts[2] == "2":
        return ProbeResult("lua", label, Status.OK, "EVAL and EVALSHA work (valkey-cli in the container)",
                           group=Group.STORE).timed(sw.ms)
    restart = compose.by_hand(build_service_argv(compose.project, "restart", ["valkey"]))
    return ProbeResult("lua", label, Status.FAIL, f"EVAL/EVALSHA in the store container: {out[-200:] or 'no reply'}"
                       ": BullMQ cannot run without Lua", group=Group.STORE,
                       hint=f"remove any rename-command of EVAL/EVALSHA/SCRIPT (or ACL rule denying @scripting) from "
                            f"{cfg.secrets_dir(ctx.paths)}/valkey.conf, then: {restart}"
                            f"   (to see it: {_exec_hint(compose, 'valkey', LUA_SCRIPT)})"
                       ).timed(sw.ms)


def build_smoke_script(prefix: str, queue: str, timeout_s: float) -> str:
    """The one-off container's sh script: the queue URL from the mounted secret file, then smoke.mjs on
    the image's bun; the URL goes through the environment, never an argv (pure)."""
    from .bullmq_node import URL_ENV, build_smoke_argv

    argv = build_smoke_argv("/opt/bun/bun", Path(SMOKE_DIR) / "smoke.mjs", prefix, "roundtrip", queue, timeout_s)
    return (f'. {cfg.CLAUDE_MEM_ENV_FILE} && {URL_ENV}="$CLAUDE_MEM_REDIS_URL" && export {URL_ENV} && '
            f"cd {SMOKE_DIR} && exec {' '.join(argv)}")


def smoke_probe(ctx: Context, compose: Compose, timeout: float) -> ProbeResult:
    """The Node BullMQ smoke (probes/bullmq-smoke) on the claude-mem image's bun, in a one-off container
    on the compose network: the client claude-mem runs, against the store as its workers reach it."""
    from .bullmq import QUEUE
    from .bullmq_node import SmokeSetupError, parse_smoke_line, prepare_node_smoke
    from .smoke import MIN_TIMEOUT_S, new_smoke_prefix

    sw = Stopwatch()
    label = f"{compose.project.name}/valkey"
    try:
        # bullmq is inlined in claude-mem's bundle, not in the image's node_modules: npm ci on the host once.
        workdir = prepare_node_smoke(ctx.paths.cache_dir, 180.0, runner=ctx.runner)
    except SmokeSetupError as exc:
        return ProbeResult("bullmq", label, Status.WARN, f"smoke not run: {exc.message}", hint=exc.hint,
                           required=False, group=Group.STORE).timed(sw.ms)
    budget = max(timeout, MIN_TIMEOUT_S)
    script = build_smoke_script(new_smoke_prefix(), QUEUE, budget)
    code, out = compose.run_once(cfg.SERVER, ["-c", script], entrypoint="/bin/sh",
                                 volumes=[f"{workdir}:{SMOKE_DIR}:ro"], timeout=budget + 60)
    by_hand = compose.by_hand(build_run_argv(compose.project, cfg.SERVER, ["-c", script], entrypoint="/bin/sh",
                                             volumes=[f"{workdir}:{SMOKE_DIR}:ro"]))
    try:
        outcome = parse_smoke_line(out)
    except (ValueError, KeyError, TypeError):
        return ProbeResult("bullmq", label, Status.FAIL, f"the smoke container exited {code} without a result: "
                           f"{out.strip()[-200:] or 'no output'}", hint=by_hand, group=Group.STORE).timed(sw.ms)
    who = f"{outcome.client} {outcome.client_version} on the image's bun"
    if not outcome.ok:
        return ProbeResult("bullmq", label, Status.FAIL, f"smoke job failed with {who}: {outcome.error}",
                           hint=f"{_logs_hint(compose, 'valkey')}; by hand: {by_hand}", group=Group.STORE
                           ).timed(sw.ms)
    return ProbeResult("bullmq", label, Status.OK, f"job added, processed and removed with {who} in "
                       f"{outcome.elapsed_ms:.0f} ms (a one-off container on the compose network)",
                       group=Group.STORE).timed(sw.ms)


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
    state = read_state(ctx)
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


def stuck_jobs_probe(ctx: Context, timeout: float) -> ProbeResult:
    """`stuck jobs` on the docker stack: the rows and locks read inside the containers (jobs/docker_stack.py)."""
    from ..jobs.recover import detect, format_commands

    sw = Stopwatch()
    try:
        report = detect(ctx, timeout=timeout, docker=True)
    except OpsError as exc:  # the postgres and store groups report the cause with its fix
        return ProbeResult("stuck jobs", "postgres", Status.SKIP, f"not checked: {exc.message[:160]}",
                           required=False, group=Group.QUEUE).timed(sw.ms)
    if not report.stuck:
        summary = f"{len(report.jobs)} processing, none stuck" if report.jobs else "no job is processing"
        return ProbeResult("stuck jobs", f"{report.docker_project}/postgres", Status.OK, summary,
                           group=Group.QUEUE).timed(sw.ms)
    first = report.stuck[0]
    commands = format_commands(report)
    return ProbeResult("stuck jobs", f"{report.docker_project}/postgres", Status.WARN,
                       f"{len(report.stuck)} job(s) stuck processing: {first.job.id} ({first.reason})",
                       detail="by hand: " + " ; ".join(commands), hint="cmem-ops jobs recover --docker",
                       data={"stuck": [s.job.id for s in report.stuck], "commands": commands},
                       group=Group.QUEUE).timed(sw.ms)
