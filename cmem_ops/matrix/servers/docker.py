"""Run one compose/matrix.yml service for a matrix target under a project name of its own.

The project name (`cmem-matrix-<token>`) is the identity: `down -v` removes only that project's
container, network and volumes, never anything else on the engine. The image, port and password
reach compose as environment variables (never in argv).
"""

from __future__ import annotations

import contextlib
import importlib.resources
import secrets
from dataclasses import dataclass
from pathlib import Path

from ...containers.compose import Compose
from ...containers.compose_argv import ComposeProject, build_logs_argv, format_argv
from ...errors import MissingError, OpsError
from ...redis_url import RedisTarget
from ...runner import Runner
from ..targets import PASSWORD_ENV, Target
from .base import ServerStartError, StartSpec, wait_for_ping

HOST = "127.0.0.1"
CONTAINER_PORT = 6379
PROJECT_STEM = "cmem-matrix-"


def locate_matrix_compose() -> Path:
    """compose/matrix.yml: shipped in the wheel as cmem_ops/_assets/compose/matrix.yml, else the checkout's."""
    candidates: list[Path] = []
    with contextlib.suppress(ModuleNotFoundError, TypeError):
        candidates.append(Path(str(importlib.resources.files("cmem_ops") / "_assets" / "compose" / "matrix.yml")))
    candidates.append(Path(__file__).resolve().parents[3] / "compose" / "matrix.yml")
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise MissingError(f"the matrix compose file is missing (looked at {', '.join(map(str, candidates))})",
                       hint="pip install --force-reinstall cmem-ops")


def build_compose_env(target: Target, image: str, spec: StartSpec) -> dict[str, str]:
    """The variables compose/matrix.yml reads for `target` (pure)."""
    return {target.image_env: image, target.port_env: str(spec.port), PASSWORD_ENV: spec.password}


def build_project(target: Target, file: Path, token: str) -> ComposeProject:
    """A private project for one target run; its profile enabled when it has one (pure)."""
    profiles = (target.compose_profile,) if target.compose_profile else ()
    return ComposeProject((file,), f"{PROJECT_STEM}{token}", profiles)


@dataclass
class DockerServer:
    """A compose project this run created; `stop` removes it with its volumes."""

    target: RedisTarget
    description: str
    compose: Compose

    def stop(self) -> str:
        self.compose.down(volumes=True, timeout=60)
        return f"removed project {self.compose.project.name}"

    def log_tail(self, lines: int = 15) -> str:
        try:
            return self.compose.logs(tail=lines, timeout=15).strip()
        except OpsError as exc:
            return f"(no logs: {exc.message})"


def start_docker(target: Target, image: str, spec: StartSpec, runner: Runner,
                 file: Path | None = None) -> DockerServer:
    """`compose up -d --wait` the target's service, check its published port, wait for PONG."""
    token = secrets.token_hex(5)
    project = build_project(target, file or locate_matrix_compose(), token)
    compose = Compose(project, runner, build_compose_env(target, image, spec))
    server = DockerServer(RedisTarget(HOST, spec.port, password=spec.password),
                          f"{image} (compose project {project.name})", compose)
    logs_hint = f"look at it: {format_argv([*compose_logs_argv(compose), target.compose_service])}"
    try:
        try:
            compose.up([target.compose_service], timeout=max(spec.deadline.remaining(), 5.0))
        except OpsError as exc:  # the project is removed below: the hint must reproduce it, not read its logs
            raise type(exc)(exc.message, hint=reproduce_hint(target, image, compose)) from exc
        services = [s for s in compose.ps(timeout=30) if s.service == target.compose_service]
        published = services[0].published_port(CONTAINER_PORT) if services else None
        if published != spec.port:
            raise ServerStartError(
                f"{target.compose_service} is not published on {HOST}:{spec.port} "
                f"(compose ps: {services[0].state + ', port ' + str(published) if services else 'no container'})",
                hint=logs_hint)
        wait_for_ping(server.target, spec.deadline, f"{target.name} in {image}", hint=logs_hint)
    except BaseException as exc:
        tail = server.log_tail() if isinstance(exc, OpsError) else ""
        with contextlib.suppress(OpsError):
            compose.down(volumes=True, timeout=60)
        if isinstance(exc, OpsError) and tail:
            raise type(exc)(f"{exc.message}\n{tail}", hint=exc.hint) from exc
        raise
    return server


def reproduce_hint(target: Target, image: str, compose: Compose) -> str:
    """The command that starts the same service by hand (password left to the default) (pure)."""
    files = " ".join(f"-f {f}" for f in compose.project.files)
    profiles = "".join(f" --profile {p}" for p in compose.project.profiles)
    return (f"{target.image_env}={image} docker compose {files} -p cmem-matrix-debug{profiles} up "
            f"{target.compose_service}")


def compose_logs_argv(compose: Compose) -> list[str]:
    """`docker compose -f FILE -p NAME logs` for hints (pure)."""
    return build_logs_argv(compose.project, tail=50)
