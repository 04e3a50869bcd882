"""`docker compose` run through the Runner: the only module that runs the docker CLI binary.

`Compose` runs one project's argv (built in compose_argv.py) with a timeout and turns a failure into
ComposeError with the stderr tail (read by compose_output.py) and a `Hint:` naming the command to look
further; `compose_available` asks whether the compose v2 plugin answers. `docker compose` has no SDK,
hence the binary; everything else talks to the engine through engine.py.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NoReturn

from ..errors import OpsError, OpsTimeoutError, ProcessError
from ..runner import Runner, build_env
from ..wait import format_seconds
from .compose_argv import (
    DOCKER_CLI,
    ComposeProject,
    build_config_argv,
    build_cp_argv,
    build_down_argv,
    build_exec_argv,
    build_logs_argv,
    build_ps_argv,
    build_run_argv,
    build_service_argv,
    build_up_argv,
    format_argv,
    format_by_hand,
)
from .compose_output import ComposeService, format_compose_error, format_tail, parse_compose_ps, parse_compose_version

COMPOSE_HINT = "install the compose v2 plugin (docker-compose-plugin, or Docker Desktop), then rerun"


class ComposeError(ProcessError):
    """A `docker compose` command failed or printed something we cannot read."""


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
                               hint=f"run it by hand: {self.by_hand(build_ps_argv(self.project))}") from exc

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

    def by_hand(self, argv: Sequence[str]) -> str:
        """`argv` (one of this project's) as a command a user can paste: with the variables it needs."""
        return format_by_hand(self.project, self.env, argv)

    def _run(self, argv: list[str], timeout: float, hint_services: Sequence[str] = ()) -> str:
        logs_hint = self.by_hand(build_logs_argv(self.project, hint_services, tail=50))
        try:
            done = self.runner.run(argv, timeout=timeout, env=self.env)
        except OpsTimeoutError as exc:
            raise OpsTimeoutError(f"`{format_argv(argv)}` did not finish within {format_seconds(timeout)}",
                                  hint=f"look at the containers: {logs_hint}") from exc
        if not done.ok:
            detail = format_compose_error(done.stderr) or format_tail(done.stdout) or "no output"
            raise ComposeError(f"`{format_argv(argv)}` failed (exit {done.returncode}): {detail}",
                               hint=f"look at the containers: {logs_hint}")
        return done.stdout
