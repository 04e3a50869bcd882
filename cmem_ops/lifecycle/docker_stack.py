"""`cmem-ops stack up|down|status|logs --docker`: the deployable stack (compose/stack.yml) as a service.

up: engine and compose answer -> state and secrets written (0600, kept across runs) -> claude-mem's
Docker rules over the containers' environment -> images chosen (pulled only when absent) -> in order,
under one Deadline: postgres + valkey (`up --wait`), the server (healthy), N workers (running). A part
that exits, restarts or misses the deadline fails the run naming that service, with its last log lines.
Every compose call names this data dir's project (docker_stack_config.project_name): nothing else on
the engine is touched. down keeps the volumes and secrets unless `purge_data`.
"""

from __future__ import annotations

import contextlib
import importlib.resources
import secrets as secrets_module
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..containers.compose import Compose, compose_available
from ..containers.compose_argv import ComposeProject, format_argv
from ..containers.compose_argv import build_logs_argv as compose_logs_argv
from ..containers.compose_output import ComposeService
from ..containers.engine import Engine
from ..context import Context
from ..errors import ConfigError, MissingError, NotRunningError, OpsError, ProcessError
from ..paths import ensure_private_dir, write_private_file
from ..probes.base import ProbeResult
from ..store.ports import choose_port, port_is_free
from ..wait import Deadline, poll
from . import docker_stack_config as cfg
from .docker_stack_config import ImageChoice, StackSecrets, StackState

UP_TIMEOUT_S = 180.0
LOG_TAIL = 20
KEY_STACK = "CLAUDE_MEM_STACK"


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


def wants_docker(ctx: Context, flag: bool) -> bool:
    """`--docker`, or CLAUDE_MEM_STACK=docker in the environment or settings.json."""
    return flag or (ctx.settings.get(KEY_STACK) or "").strip().lower() == "docker"


def locate_asset(name: str) -> Path:
    """compose/<name>: shipped in the wheel under cmem_ops/_assets/compose/, else the checkout's."""
    candidates: list[Path] = []
    with contextlib.suppress(ModuleNotFoundError, TypeError):
        candidates.append(Path(str(importlib.resources.files("cmem_ops") / "_assets" / "compose" / name)))
    candidates.append(Path(__file__).resolve().parents[2] / "compose" / name)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise MissingError(f"compose/{name} is missing (looked at {', '.join(map(str, candidates))})",
                       hint="pip install --force-reinstall cmem-ops")


def read_state(ctx: Context) -> StackState | None:
    """This data dir's stack state, or None when `stack up --docker` never ran here."""
    try:
        return cfg.parse_state((cfg.stack_dir(ctx.paths) / "state.json").read_text(encoding="utf-8"))
    except OSError:
        return None


def ensure_state(ctx: Context) -> StackState:
    """The recorded state, or a new one (project from the data dir, a free server port)."""
    recorded = read_state(ctx)
    state = recorded
    if state is None:
        port = int(ctx.settings.get("CMEM_STACK_SERVER_PORT") or 0) or choose_port(port_is_free)
        state = StackState(cfg.project_name(ctx.paths.data_dir), port)
    configured = (int(ctx.settings.get(cfg.KEY_VALKEY_PORT) or 0), int(ctx.settings.get(cfg.KEY_POSTGRES_PORT) or 0))
    state = cfg.plan_published_ports(state, cfg.wants_publish(ctx.settings.get(cfg.KEY_PUBLISH)), configured,
                                     lambda: choose_port(port_is_free))
    if state != recorded:
        ensure_private_dir(cfg.stack_dir(ctx.paths))
        write_private_file(cfg.stack_dir(ctx.paths) / "state.json", cfg.format_state(state))
    return state


def ensure_secrets(ctx: Context) -> StackSecrets:
    """Passwords made once and kept; every secret file (re)written 0600 in a 0700 directory."""
    directory = ensure_private_dir(cfg.secrets_dir(ctx.paths))

    def kept(name: str) -> str:
        path = directory / name
        with contextlib.suppress(OSError):
            if value := path.read_text(encoding="utf-8").strip():
                return value
        return secrets_module.token_hex(24)

    secrets = StackSecrets(kept("valkey-password"), kept("postgres-password"))
    provider_keys = {k: v for k in cfg.PROVIDER_SECRET_KEYS if (v := ctx.settings.get(k) or "")}
    for name, text in cfg.render_secret_files(secrets, provider_keys).items():
        write_private_file(directory / name, text)
    return secrets


def compose_for(ctx: Context, state: StackState, images: list[ImageChoice], *, llm_double: bool = False) -> Compose:
    """A Compose bound to this data dir's project and the variables stack.yml reads."""
    auth_mode = ctx.settings.get("CLAUDE_MEM_AUTH_MODE") or "api-key"
    env = cfg.build_compose_env(
        state, ctx.paths, images, auth_mode=auth_mode, provider=ctx.settings.get("CLAUDE_MEM_SERVER_PROVIDER") or "",
        openrouter_base_url=ctx.settings.get("CLAUDE_MEM_OPENROUTER_BASE_URL") or "",
        llm_double=locate_asset("llm-double.mjs"))
    profiles = ("llm-double",) if llm_double else ()
    files = (locate_asset("stack.yml"), *((locate_asset(cfg.PUBLISH_FILE),) if state.published else ()))
    return Compose(ComposeProject(files, state.project, profiles), ctx.runner, env)


def existing(ctx: Context) -> tuple[StackState, Compose]:
    """This data dir's stack state and a Compose for it; NotRunningError when `stack up --docker` never ran."""
    state = read_state(ctx)
    if state is None:
        raise NotRunningError(f"no docker stack was started from {ctx.paths.data_dir}",
                              hint="cmem-ops stack up --docker")
    return state, compose_for(ctx, state, cfg.choose_images(_image_settings(ctx), frozenset()))


def read_secrets(ctx: Context) -> StackSecrets | None:
    """The stack's passwords from its secret files, or None when they are not there."""
    directory = cfg.secrets_dir(ctx.paths)
    try:
        return StackSecrets((directory / "valkey-password").read_text(encoding="utf-8").strip(),
                            (directory / "postgres-password").read_text(encoding="utf-8").strip())
    except OSError:
        return None


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


def _image_settings(ctx: Context) -> dict[str, str]:
    return {var: v for var, _, _ in cfg.IMAGE_TABLE.values() if (v := ctx.settings.get(var) or "")}


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
        images = cfg.choose_images(_image_settings(ctx), engine.images())
        _ensure_images(engine, images)
    finally:
        engine.close()
    compose = compose_for(ctx, state, images, llm_double=llm_double)
    stores = ["postgres", "valkey", *(["llm-double"] if llm_double else [])]
    say(f"{', '.join(stores)} (project {state.project})")
    _step(compose, stores, deadline, lambda: compose.up(stores, timeout=max(deadline.remaining(), 1)))
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


def _step(compose: Compose, services: list[str], deadline: Deadline, action: Callable[[], None]) -> None:
    try:
        action()
    except OpsError as exc:
        rows = [s for s in compose.ps(all_=True) if s.service in services]
        bad = next((s.service for s in rows if not (s.running and s.health in ("", "healthy"))), services[0])
        raise ProcessError(f"{bad} did not become healthy: {exc.message}\n{log_tail(compose, bad)}",
                           hint=f"look at it: {format_argv(compose_logs_argv(compose.project, [bad], tail=100))}"
                           ) from exc


def wait_ready(compose: Compose, service: str, count: int, deadline: Deadline, *, healthy: bool) -> None:
    """Poll `compose ps` until `count` containers of `service` run (and are healthy); fail fast on a crash."""
    hint = f"look at it: {format_argv(compose_logs_argv(compose.project, [service], tail=100))}"

    def ready() -> bool:
        rows = [s for s in compose.ps(all_=True) if s.service == service]
        crashed = [s for s in rows if s.state in ("exited", "dead", "restarting")]
        if crashed:
            raise ProcessError(f"{service} {crashed[0].state} while starting (exit code {crashed[0].exit_code}):\n"
                               f"{log_tail(compose, service)}", hint=hint)
        good = [s for s in rows if s.running and (s.health == "healthy" or not healthy)]
        return len(good) >= count

    try:
        poll(ready, deadline, what=f"{count} {service} container(s) to be {'healthy' if healthy else 'running'}",
             interval=0.25, max_interval=1.0, hint=hint)
    except OpsError as exc:
        if isinstance(exc, ProcessError):
            raise
        raise type(exc)(f"{exc.message}\n{log_tail(compose, service)}", hint=hint) from exc


def log_tail(compose: Compose, service: str, lines: int = LOG_TAIL) -> str:
    """The last log lines of `service` (or why there are none)."""
    try:
        return compose.logs([service], tail=lines, timeout=15).rstrip() or f"({service} wrote no log lines)"
    except OpsError as exc:
        return f"(no logs of {service}: {exc.message})"


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
    compose = compose_for(ctx, state, cfg.choose_images(_image_settings(ctx), frozenset()))
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
    compose = compose_for(ctx, state, cfg.choose_images(_image_settings(ctx), frozenset()))
    if follow:
        compose.follow_logs(services, tail=lines)
    return compose.logs(services, tail=lines, timeout=60)


def down(ctx: Context, *, purge_data: bool = False, timeout: float = 60.0) -> DockerStackDown:
    """Remove this data dir's project (containers, network); volumes and secrets only with `purge_data`."""
    state = read_state(ctx)
    if state is None:
        return DockerStackDown("", (), ("nothing: no docker stack was started from this data dir",))
    compose = compose_for(ctx, state, cfg.choose_images(_image_settings(ctx), frozenset()), llm_double=True)
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
