"""`docker compose` argv, built where a test can compare it by equality (pure; runs nothing).

ComposeProject names the files, project and profiles; each build_*_argv returns the argv of one
compose verb, and format_by_hand the form hints print: copy-pasteable, with the variables the files
cannot be read without in front (compose refuses every verb while a `${VAR:?}` is unset). compose.py runs these argv;
compose_output.py reads what compose prints back.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

DOCKER_CLI = "docker"


@dataclass(frozen=True)
class ComposeProject:
    """Which compose files, under which project name, with which profiles enabled; `required_env` names
    the variables the files require (`${VAR:?}`), which a command printed for a user must set."""

    files: tuple[Path, ...]
    name: str
    profiles: tuple[str, ...] = ()
    docker: str = DOCKER_CLI
    required_env: tuple[str, ...] = ()


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

def format_argv(argv: Sequence[str]) -> str:
    """A copy-pasteable shell form of `argv` (pure)."""
    return shlex.join(argv)


def format_by_hand(project: ComposeProject, env: Mapping[str, str], argv: Sequence[str]) -> str:
    """`argv` as a user pastes it: `VAR=value ... docker compose ...`, each of the project's required
    variables that `env` sets in front (pure)."""
    assignments = [f"{key}={shlex.quote(env[key])}" for key in project.required_env if env.get(key)]
    return " ".join([*assignments, format_argv(argv)])
