"""`cmem-ops stack up|down|status|logs --docker`: the deployable stack (compose/stack.yml) as a service.

up: engine and compose answer -> state and secrets written (0600, kept across runs) -> claude-mem's
Docker rules over the containers' environment -> images chosen (pulled only when absent) -> in order,
under one Deadline: postgres + valkey (`up --wait`), the server (healthy), N workers (running). A part
that exits, restarts or misses the deadline fails the run naming that service, with its last log lines.
Every compose call names this data dir's project (docker_stack_config.project_name): nothing else on
the engine is touched. down keeps the volumes and secrets unless `purge_data`.

This module holds the four commands and their results (the JSON schemas name these types here). Its
siblings hold the rest: docker_stack_config.py the pure decisions (state, secrets, images, compose
variables), docker_stack_project.py this data dir's files and the Compose bound to them,
docker_stack_ready.py the waits that name a failed service. Each name has one home: callers import
read_state, compose_for, existing, wait_ready, ... from the sibling that defines it, not through here.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..containers.compose import compose_available
from ..containers.compose_output import ComposeService
from ..containers.engine import Engine
from ..context import Context
from ..errors import ConfigError, MissingError, NotRunningError, OpsError
from ..probes.base import ProbeResult
from ..wait import Deadline
from . import docker_stack_config as cfg
from .docker_stack_config import ImageChoice
from .docker_stack_project import compose_for, ensure_secrets, ensure_state, image_settings, read_state
from .docker_stack_ready import start_naming_failure, wait_ready

UP_TIMEOUT_S = 180.0


@dataclass(frozen=True)
class ServiceState:
    """One service of the project as `docker compose ps --all` shows it."""

    service: str
    containers: int
    running: int
    healthy: int
    states: tuple[str, ...]


@dataclass(frozen=True)
class DockerStackUp:
    """What `stack up --docker` started: project, server URL, images, each service's state."""

    project: str
    url: str
    workers: int
    images: tuple[ImageChoice, ...]
    services: tuple[ServiceState, ...]
    elapsed_ms: float


@dataclass(frozen=True)
class DockerStackStatus:
    """Each service's containers and the server's probes; healthy when every part serves."""

    project: str
    url: str | None
    healthy: bool
    services: tuple[ServiceState, ...]
    checks: tuple[ProbeResult, ...]
    problem: str | None = None
    hint: str | None = None


@dataclass(frozen=True)
class DockerStackDown:
    """What `stack down --docker` removed and kept."""

    project: str
    removed: tuple[str, ...]
    kept: tuple[str, ...]

def check_docker_rules(ctx: Context) -> None:
    """Refuse, in claude-mem's words, what claude-mem itself would refuse inside the containers."""
    from ..claudemem.docker_rules import docker_violations, format_violations

    env = cfg.build_container_env(ctx.settings.get("CLAUDE_MEM_AUTH_MODE") or "api-key",
                                  ctx.settings.get("CLAUDE_MEM_ALLOW_LOCAL_DEV_BYPASS") or "")
    problems = docker_violations(env)
    if problems:
        raise ConfigError(format_violations(problems),
                          hint="set CLAUDE_MEM_AUTH_MODE=api-key (and unset CLAUDE_MEM_ALLOW_LOCAL_DEV_BYPASS), "
                               "then: cmem-ops stack up --docker")

def _engine_ready(ctx: Context) -> Engine:
    engine = Engine.connect(timeout=15)
    ok, why = compose_available(ctx.runner)
    if not ok:
        engine.close()
        raise MissingError(f"docker compose v2 is not available: {why}",
                           hint="install the compose v2 plugin (docker-compose-plugin), then: cmem-ops stack up "
                                "--docker")
    return engine


def _ensure_images(engine: Engine, images: list[ImageChoice]) -> None:
    present = engine.images()
    for choice in images:
        if choice.image in present:
            continue
        try:
            engine.pull(choice.image)
        except OpsError as exc:
            raise MissingError(f"image {choice.image} ({choice.part}) is not on this engine and cannot be pulled: "
                               f"{exc.message}", hint="cmem-ops images build   (no registry needed), or set "
                                                      f"{choice.env} to an image you have") from exc


def up(ctx: Context, *, workers: int = 1, timeout: float = UP_TIMEOUT_S, llm_double: bool = False,
       check_rules: bool = True, say: Callable[[str], None] = lambda _: None) -> DockerStackUp:
    """Start the stack in order under one deadline; raise naming the service that failed, with its logs."""
    started = time.monotonic()
    deadline = Deadline.after(timeout)
    if check_rules:
        check_docker_rules(ctx)
    engine = _engine_ready(ctx)
    try:
        state = ensure_state(ctx)
        ensure_secrets(ctx)
        images = cfg.choose_images(image_settings(ctx), engine.images())
        _ensure_images(engine, images)
    finally:
        engine.close()
    compose = compose_for(ctx, state, images, llm_double=llm_double)
    stores = ["postgres", "valkey", *(["llm-double"] if llm_double else [])]
    say(f"{', '.join(stores)} (project {state.project})")
    start_naming_failure(compose, stores, lambda: compose.up(stores, timeout=max(deadline.remaining(), 1)))
    say(cfg.SERVER)
    compose.up([cfg.SERVER], wait=False, no_deps=True, timeout=max(deadline.remaining(), 5))
    wait_ready(compose, cfg.SERVER, 1, deadline, healthy=True)
    say(f"{workers} worker(s)")
    compose.up([cfg.WORKER], wait=False, no_deps=True, scale={cfg.WORKER: workers},
               timeout=max(deadline.remaining(), 5))
    wait_ready(compose, cfg.WORKER, workers, deadline, healthy=False)
    services = summarize(compose.ps(all_=True))
    return DockerStackUp(state.project, f"http://127.0.0.1:{state.server_port}", workers, tuple(images),
                         services, round((time.monotonic() - started) * 1000, 1))

def summarize(rows: list[ComposeService]) -> tuple[ServiceState, ...]:
    """One ServiceState per service, in the stack's order (pure)."""
    order = [*cfg.SERVICES, *sorted({r.service for r in rows} - set(cfg.SERVICES))]
    out = []
    for service in order:
        mine = [r for r in rows if r.service == service]
        out.append(ServiceState(service, len(mine), sum(r.running for r in mine),
                                sum(r.health == "healthy" for r in mine),
                                tuple(f"{r.state}{'/' + r.health if r.health else ''}" for r in mine)))
    return tuple(out)


def status(ctx: Context, *, timeout: float = 2.0) -> DockerStackStatus:
    """The project's containers from `compose ps` plus the server's probes; never raises for the stack being down."""
    from ..probes.http import probe_http

    state = read_state(ctx)
    if state is None:
        return DockerStackStatus("", None, False, (), (), "no docker stack was started from this data dir",
                                 "cmem-ops stack up --docker")
    compose = compose_for(ctx, state, cfg.choose_images(image_settings(ctx), frozenset()))
    try:
        services = summarize(compose.ps(all_=True, timeout=30))
    except OpsError as exc:
        return DockerStackStatus(state.project, None, False, (), (), exc.message, exc.hint)
    url = f"http://127.0.0.1:{state.server_port}"
    checks = tuple(probe_http(url, None, timeout, required=True))
    down = [s.service for s in services if s.service in cfg.SERVICES and not s.running]
    unhealthy = [s.service for s in services if s.running and s.service != cfg.WORKER and s.healthy < s.running]
    failed = [c for c in checks if c.status.value == "FAIL"]
    problem = None
    if down or unhealthy or failed:
        parts = [f"not running: {', '.join(down)}" if down else "", f"unhealthy: {', '.join(unhealthy)}"
                 if unhealthy else "", failed[0].summary if failed else ""]
        problem = "; ".join(p for p in parts if p)
    return DockerStackStatus(state.project, url, problem is None, services, checks, problem,
                             "cmem-ops stack up --docker   (then: cmem-ops stack logs --docker SERVICE)"
                             if problem else None)


def logs(ctx: Context, services: list[str], *, lines: int = 50, follow: bool = False) -> str:
    """The services' last `lines` log lines (all services when none is named); `follow` never returns."""
    state = read_state(ctx)
    if state is None:
        raise NotRunningError("no docker stack was started from this data dir", hint="cmem-ops stack up --docker")
    unknown = [s for s in services if s not in (*cfg.SERVICES, "llm-double")]
    if unknown:
        raise ConfigError(f"unknown service {unknown[0]!r}; the stack has {', '.join(cfg.SERVICES)}",
                          hint="cmem-ops stack logs --docker claude-mem-server")
    compose = compose_for(ctx, state, cfg.choose_images(image_settings(ctx), frozenset()))
    if follow:
        compose.follow_logs(services, tail=lines)
    return compose.logs(services, tail=lines, timeout=60)


def down(ctx: Context, *, purge_data: bool = False, timeout: float = 60.0) -> DockerStackDown:
    """Remove this data dir's project (containers, network); volumes and secrets only with `purge_data`."""
    state = read_state(ctx)
    if state is None:
        return DockerStackDown("", (), ("nothing: no docker stack was started from this data dir",))
    compose = compose_for(ctx, state, cfg.choose_images(image_settings(ctx), frozenset()), llm_double=True)
    containers = [s.name for s in compose.ps(all_=True)]
    # Three tiers stop in turn (workers, server, stores), each container within `timeout` s.
    compose.down(volumes=purge_data, timeout=3 * timeout + 30, stop_timeout=timeout)
    removed = [f"container {name}" for name in containers]
    kept: list[str] = []
    if purge_data:
        removed += [f"volume {state.project}_postgres-data", f"volume {state.project}_valkey-data",
                    str(cfg.stack_dir(ctx.paths))]
        shutil.rmtree(cfg.stack_dir(ctx.paths), ignore_errors=True)
    else:
        kept += [f"volume {state.project}_postgres-data", f"volume {state.project}_valkey-data",
                 f"secrets in {cfg.secrets_dir(ctx.paths)} (remove both with: cmem-ops stack down --docker "
                 "--purge-data)"]
    return DockerStackDown(state.project, tuple(removed), tuple(kept))
