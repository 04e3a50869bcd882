"""`docker compose` argv built where a test can compare it, `compose ps` parsed in both JSON shapes.

Compose before 2.21 prints `ps --format json` as one JSON array; from 2.21 on it prints one object per
line (NDJSON); with nothing running it prints `[]` or nothing at all. `parse_compose_ps` takes all of
them. `Compose` runs the argv through the Runner with a timeout and turns a failure into ComposeError
with the stderr tail and a `Hint:` naming the command to look further. This is the only module
that runs the docker CLI binary (for `docker compose`, which has no SDK); everything else talks to
the engine through engine.py.
"""

from __future__ import annotations

import json
import os
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from ..errors import OpsError, OpsTimeoutError, ProcessError
from ..runner import Runner, build_env
from ..wait import format_seconds

COMPOSE_HINT = "install the compose v2 plugin (docker-compose-plugin, or Docker Desktop), then rerun"
DOCKER_CLI = "docker"

_TAIL_CHARS = 600


class ComposeError(ProcessError):
    """A `docker compose` command failed or printed something we cannot read."""


@dataclass(frozen=True)
class ComposeProject:
    """Which compose files, under which project name, with which profiles enabled."""

    files: tuple[Path, ...]
    name: str
    profiles: tuple[str, ...] = ()
    docker: str = DOCKER_CLI


@dataclass(frozen=True)
class Publisher:
    """One published port of a service container."""

    url: str
    target_port: int
    published_port: int
    protocol: str


@dataclass(frozen=True)
class ComposeService:
    """One container as `docker compose ps --format json` describes it."""

    name: str
    service: str
    project: str
    image: str
    state: str
    health: str
    exit_code: int
    publishers: tuple[Publisher, ...]

    @property
    def running(self) -> bool:
        return self.state == "running"

    def published_port(self, target_port: int, protocol: str = "tcp") -> int | None:
        """The host port that `target_port` is published on, or None."""
        for pub in self.publishers:
            if pub.target_port == target_port and pub.protocol == protocol and pub.published_port:
                return pub.published_port
        return None


def build_base_argv(project: ComposeProject) -> list[str]:
    """`docker compose -f FILE... -p NAME [--profile P]...` (pure)."""
    argv = [project.docker, "compose"]
    for file in project.files:
        argv += ["-f", str(file)]
    argv += ["-p", project.name]
    for profile in project.profiles:
        argv += ["--profile", profile]
    return argv


def build_up_argv(project: ComposeProject, services: Sequence[str] = (), *, wait: bool = True,
                  wait_timeout: int | None = None, scale: Mapping[str, int] | None = None,
                  no_deps: bool = False) -> list[str]:
    """`... up -d [--no-deps] [--wait [--wait-timeout N]] [--scale S=N]... [SERVICE...]` (pure)."""
    argv = [*build_base_argv(project), "up", "-d", *(["--no-deps"] if no_deps else [])]
    if wait:
        argv.append("--wait")
        if wait_timeout is not None:
            argv += ["--wait-timeout", str(wait_timeout)]
    for service, count in (scale or {}).items():
        argv += ["--scale", f"{service}={count}"]
    return argv + list(services)


def build_ps_argv(project: ComposeProject, *, all_: bool = False) -> list[str]:
    """`... ps [--all] --format json` (pure)."""
    return [*build_base_argv(project), "ps", *(["--all"] if all_ else []), "--format", "json"]


def build_down_argv(project: ComposeProject, *, volumes: bool = False, timeout: int | None = None) -> list[str]:
    """`... down [-v] [--timeout N] --remove-orphans` (pure)."""
    argv = [*build_base_argv(project), "down"]
    if volumes:
        argv.append("-v")
    if timeout is not None:
        argv += ["--timeout", str(timeout)]
    return [*argv, "--remove-orphans"]


def build_logs_argv(project: ComposeProject, services: Sequence[str] = (), *, tail: int | None = None,
                    follow: bool = False) -> list[str]:
    """`... logs --no-color [--tail N] [--follow] [SERVICE...]` (pure)."""
    argv = [*build_base_argv(project), "logs", "--no-color"]
    if tail is not None:
        argv += ["--tail", str(tail)]
    if follow:
        argv.append("--follow")
    return argv + list(services)


def build_exec_argv(project: ComposeProject, service: str, command: Sequence[str], *, index: int | None = None,
                    env: Mapping[str, str] | None = None) -> list[str]:
    """`... exec -T [--index N] [-e K=V]... SERVICE COMMAND...` (pure; `env` holds no secret)."""
    argv = [*build_base_argv(project), "exec", "-T"]
    if index is not None:
        argv += ["--index", str(index)]
    for key, value in (env or {}).items():
        argv += ["-e", f"{key}={value}"]
    return [*argv, service, *command]


def build_run_argv(project: ComposeProject, service: str, command: Sequence[str] = (), *,
                   env: Mapping[str, str] | None = None, entrypoint: str | None = None,
                   volumes: Sequence[str] = ()) -> list[str]:
    """`... run --rm --no-deps -T [-e K=V]... [--entrypoint E] [-v SRC:DST]... SERVICE [COMMAND...]`:
    a one-off container on the project's network, with the service's secrets (pure)."""
    argv = [*build_base_argv(project), "run", "--rm", "--no-deps", "-T"]
    for key, value in (env or {}).items():
        argv += ["-e", f"{key}={value}"]
    if entrypoint is not None:
        argv += ["--entrypoint", entrypoint]
    for volume in volumes:
        argv += ["-v", volume]
    return [*argv, service, *command]


def build_cp_argv(project: ComposeProject, source: str, dest: str) -> list[str]:
    """`... cp SOURCE DEST`, one of them `SERVICE:PATH` (pure)."""
    return [*build_base_argv(project), "cp", source, dest]


def build_service_argv(project: ComposeProject, verb: str, services: Sequence[str], *,
                       timeout: int | None = None) -> list[str]:
    """`... stop|start|restart [--timeout N] SERVICE...` (pure)."""
    argv = [*build_base_argv(project), verb]
    if timeout is not None and verb != "start":
        argv += ["--timeout", str(timeout)]
    return argv + list(services)


def build_config_argv(project: ComposeProject, *, quiet: bool = True) -> list[str]:
    """`... config [--quiet]`: validate the files and resolve variables (pure)."""
    return [*build_base_argv(project), "config", *(["--quiet"] if quiet else [])]


def parse_compose_ps(text: str) -> list[ComposeService]:
    """Parse `docker compose ps --format json`: a JSON array (< 2.21), NDJSON (>= 2.21) or empty (pure)."""
    stripped = text.strip()
    if not stripped:
        return []
    rows: list[Any]
    if stripped.startswith("["):
        rows = json.loads(stripped)
        if not isinstance(rows, list):
            raise ValueError("compose ps output starts with '[' but is not a JSON array")
    else:
        rows = []
        for number, line in enumerate(stripped.splitlines(), 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ValueError(f"compose ps line {number} is not JSON: {line[:80]!r}") from exc
    return [_service(row) for row in rows]


def _service(row: Any) -> ComposeService:
    if not isinstance(row, dict):
        raise ValueError(f"compose ps entry is not an object: {row!r:.80}")
    publishers = tuple(
        Publisher(str(p.get("URL") or ""), int(p.get("TargetPort") or 0), int(p.get("PublishedPort") or 0),
                  str(p.get("Protocol") or "tcp"))
        for p in row.get("Publishers") or [] if isinstance(p, dict)
    )
    return ComposeService(
        name=str(row.get("Name") or ""), service=str(row.get("Service") or ""), project=str(row.get("Project") or ""),
        image=str(row.get("Image") or ""), state=str(row.get("State") or "").lower(),
        health=str(row.get("Health") or ""), exit_code=int(row.get("ExitCode") or 0), publishers=publishers,
    )


_PROGRESS_RE = re.compile(
    r"^\s*(Network|Container|Volume|Image)\s+\S+\s+(Creating|Created|Starting|Started|Waiting|Healthy|Running|"
    r"Recreate|Recreated|Stopping|Stopped|Removing|Removed|Pulling|Pulled)\s*$")


def format_compose_error(text: str) -> str:
    """The error lines of compose's stderr, without its progress lines ('Container x  Created') (pure)."""
    lines = [line.strip() for line in text.splitlines() if line.strip() and not _PROGRESS_RE.match(line)]
    return _tail("\n".join(lines))


def format_argv(argv: Sequence[str]) -> str:
    """A copy-pasteable shell form of `argv` (pure)."""
    return shlex.join(argv)


_COMPOSE_VERSION_RE = re.compile(r"v?(\d+\.\d+(?:\.\d+)?)")


def parse_compose_version(text: str) -> str | None:
    """'2.40.3' from `docker compose version` text or its `--format json` object (pure)."""
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError:
            return None
        stripped = str(data.get("version") or "") if isinstance(data, dict) else ""
    if "compose" not in stripped.lower() and not stripped.lstrip("v")[:1].isdigit():
        return None
    match = _COMPOSE_VERSION_RE.search(stripped)
    return match.group(1) if match else None


def compose_available(runner: Runner, timeout: float = 15.0) -> tuple[bool, str]:
    """(True, 'compose 2.40.3') when `docker compose version` answers; else (False, why)."""
    try:
        done = runner.run([DOCKER_CLI, "compose", "version"], timeout=timeout)
    except OpsError as exc:
        return False, exc.message
    version = parse_compose_version(done.stdout) if done.ok else None
    if version is None:
        first = next((line.strip() for line in (done.stderr or done.stdout).splitlines() if line.strip()), "")
        return False, first or f"`docker compose version` exited {done.returncode}"
    return True, f"compose {version}"


class Compose:
    """Runs `docker compose` for one project through the Runner; failures become ComposeError."""

    def __init__(self, project: ComposeProject, runner: Runner, env: Mapping[str, str] | None = None) -> None:
        self.project = project
        self.runner = runner
        self.env = dict(env or {})

    def up(self, services: Sequence[str] = (), *, timeout: float = 120.0, wait: bool = True,
           scale: Mapping[str, int] | None = None, no_deps: bool = False) -> None:
        """Create and start `services`; with `wait`, until they are running (healthy where they have a check)."""
        argv = build_up_argv(self.project, services, wait=wait, wait_timeout=max(1, int(timeout)) if wait else None,
                             scale=scale, no_deps=no_deps)
        self._run(argv, timeout + 10, hint_services=services)

    def ps(self, *, all_: bool = False, timeout: float = 30.0) -> list[ComposeService]:
        """The project's containers (only running ones unless `all_`)."""
        out = self._run(build_ps_argv(self.project, all_=all_), timeout)
        try:
            return parse_compose_ps(out)
        except (ValueError, TypeError) as exc:
            raise ComposeError(f"cannot read `docker compose ps` output: {exc}",
                               hint=f"run it by hand: {format_argv(build_ps_argv(self.project))}") from exc

    def ps_text(self, *, all_: bool = True, timeout: float = 30.0) -> str:
        """`compose ps --format json` as compose printed it (the support bundle keeps it verbatim)."""
        return self._run(build_ps_argv(self.project, all_=all_), timeout)

    def down(self, *, volumes: bool = True, timeout: float = 60.0, stop_timeout: float | None = None) -> None:
        """Stop and remove the project's containers and networks (and its volumes with `volumes`).

        Each container gets `stop_timeout` s (default: half of `timeout`) between SIGTERM and SIGKILL.
        """
        stop = max(1, int(stop_timeout if stop_timeout is not None else timeout / 2))
        self._run(build_down_argv(self.project, volumes=volumes, timeout=stop), timeout)

    def logs(self, services: Sequence[str] = (), *, tail: int = 30, timeout: float = 30.0) -> str:
        """The last `tail` log lines of `services`."""
        return self._run(build_logs_argv(self.project, services, tail=tail), timeout)

    def follow_logs(self, services: Sequence[str] = (), *, tail: int = 30) -> NoReturn:
        """Replace this process by `docker compose logs --follow` (Ctrl-C stops it; nothing to clean up)."""
        argv = build_logs_argv(self.project, services, tail=tail, follow=True)
        os.execvpe(argv[0], argv, build_env(self.env))

    def exec(self, service: str, command: Sequence[str], *, index: int | None = None,
             env: Mapping[str, str] | None = None, timeout: float = 60.0) -> str:
        """Run `command` in a running container of `service`; its stdout (ComposeError when it fails)."""
        return self._run(build_exec_argv(self.project, service, command, index=index, env=env), timeout,
                         hint_services=[service])

    def exec_status(self, service: str, command: Sequence[str], *, timeout: float = 60.0) -> tuple[int, str]:
        """Like `exec`, but (exit code, stdout + stderr) whatever the command's exit (a checker's verdict)."""
        done = self.runner.run(build_exec_argv(self.project, service, command), timeout=timeout, env=self.env)
        return done.returncode, done.stdout + done.stderr

    def run_once(self, service: str, command: Sequence[str] = (), *, env: Mapping[str, str] | None = None,
                 timeout: float = 120.0, entrypoint: str | None = None, volumes: Sequence[str] = ()
                 ) -> tuple[int, str]:
        """A one-off container of `service` (removed after): (exit code, stdout + stderr); never raises on exit."""
        done = self.runner.run(build_run_argv(self.project, service, command, env=env, entrypoint=entrypoint,
                                              volumes=volumes), timeout=timeout, env=self.env)
        return done.returncode, done.stdout + done.stderr

    def copy_from(self, service: str, path: str, dest: Path, *, timeout: float = 300.0) -> None:
        """Copy `path` out of `service`'s (first) container to the host file `dest`."""
        self._run(build_cp_argv(self.project, f"{service}:{path}", str(dest)), timeout, hint_services=[service])

    def copy_to(self, source: Path, service: str, path: str, *, timeout: float = 300.0) -> None:
        """Copy the host file `source` into `service`'s (first) container at `path`."""
        self._run(build_cp_argv(self.project, str(source), f"{service}:{path}"), timeout, hint_services=[service])

    def stop_services(self, services: Sequence[str], *, timeout: float = 60.0) -> None:
        """`compose stop` (a manual stop: restart policies leave them stopped)."""
        self._run(build_service_argv(self.project, "stop", services, timeout=max(1, int(timeout / 2))), timeout,
                  hint_services=services)

    def start_services(self, services: Sequence[str], *, timeout: float = 60.0) -> None:
        """`compose start` of stopped services."""
        self._run(build_service_argv(self.project, "start", services), timeout, hint_services=services)

    def restart_services(self, services: Sequence[str], *, timeout: float = 60.0) -> None:
        """`compose restart` (SIGTERM, then start again)."""
        self._run(build_service_argv(self.project, "restart", services, timeout=max(1, int(timeout / 2))), timeout,
                  hint_services=services)

    def config(self, *, timeout: float = 30.0) -> None:
        """Validate the compose files (variables resolved with this object's env)."""
        self._run(build_config_argv(self.project), timeout)

    def _run(self, argv: list[str], timeout: float, hint_services: Sequence[str] = ()) -> str:
        logs_hint = format_argv(build_logs_argv(self.project, hint_services, tail=50))
        try:
            done = self.runner.run(argv, timeout=timeout, env=self.env)
        except OpsTimeoutError as exc:
            raise OpsTimeoutError(f"`{format_argv(argv)}` did not finish within {format_seconds(timeout)}",
                                  hint=f"look at the containers: {logs_hint}") from exc
        if not done.ok:
            detail = format_compose_error(done.stderr) or _tail(done.stdout) or "no output"
            raise ComposeError(f"`{format_argv(argv)}` failed (exit {done.returncode}): {detail}",
                               hint=f"look at the containers: {logs_hint}")
        return done.stdout


def _tail(text: str) -> str:
    text = text.strip()
    return text if len(text) <= _TAIL_CHARS else "..." + text[-_TAIL_CHARS:]
