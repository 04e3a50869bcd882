"""This data dir's docker stack as files and a compose project: its record, its secrets, its Compose.

    <data dir>/docker-stack/state.json   read_state / ensure_state (project name, ports; no secret)
    <data dir>/docker-stack/secrets/     read_secrets / ensure_secrets (0600 files, made once and kept)
    compose_for / existing               a Compose bound to this data dir's project and stack.yml's variables
    wants_docker, locate_asset           CLAUDE_MEM_STACK=docker; compose/<name> from the wheel or checkout

What goes into those files and variables is decided in pure code in docker_stack_config.py; starting,
stopping and reporting on the stack is docker_stack.py's (which re-exports these names for its callers).
"""

from __future__ import annotations

import contextlib
import importlib.resources
import secrets as secrets_module
from pathlib import Path

from ..containers.compose import Compose
from ..containers.compose_argv import ComposeProject
from ..context import Context
from ..errors import MissingError, NotRunningError
from ..paths import ensure_private_dir, write_private_file
from ..store.ports import choose_port, port_is_free
from . import docker_stack_config as cfg
from .docker_stack_config import ImageChoice, StackSecrets, StackState

KEY_STACK = "CLAUDE_MEM_STACK"


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
    return Compose(ComposeProject(files, state.project, profiles, required_env=cfg.REQUIRED_ENV), ctx.runner, env)


def existing(ctx: Context) -> tuple[StackState, Compose]:
    """This data dir's stack state and a Compose for it; NotRunningError when `stack up --docker` never ran."""
    state = read_state(ctx)
    if state is None:
        raise NotRunningError(f"no docker stack was started from {ctx.paths.data_dir}",
                              hint="cmem-ops stack up --docker")
    return state, compose_for(ctx, state, cfg.choose_images(image_settings(ctx), frozenset()))


def read_secrets(ctx: Context) -> StackSecrets | None:
    """The stack's passwords from its secret files, or None when they are not there."""
    directory = cfg.secrets_dir(ctx.paths)
    try:
        return StackSecrets((directory / "valkey-password").read_text(encoding="utf-8").strip(),
                            (directory / "postgres-password").read_text(encoding="utf-8").strip())
    except OSError:
        return None


def image_settings(ctx: Context) -> dict[str, str]:
    """The CMEM_STACK_<PART>_IMAGE settings that are set (the input of cfg.choose_images)."""
    return {var: v for var, _, _ in cfg.IMAGE_TABLE.values() if (v := ctx.settings.get(var) or "")}
