"""Waiting for the docker stack's services, and naming the one that did not come up, with its last log lines.

    wait_ready            poll `compose ps` until N containers of a service run (and are healthy); fail
                          fast when one exits, dies or restarts
    start_naming_failure  run a `compose up --wait`; when it fails, name the unhealthy service
    log_tail              a service's last log lines for an error message (never raises)

Every wait goes through cmem_ops.wait under the caller's Deadline. Used by docker_stack.up, by the
restore of a docker stack backup and by the e2e script's restarts.
"""

from __future__ import annotations

from collections.abc import Callable

from ..containers.compose import Compose
from ..containers.compose_argv import build_logs_argv
from ..errors import OpsError, ProcessError
from ..wait import Deadline, poll

LOG_TAIL = 20


def start_naming_failure(compose: Compose, services: list[str], action: Callable[[], None]) -> None:
    """Run `action` (an `up --wait` of `services`); on failure raise naming the unhealthy one, with its logs."""
    try:
        action()
    except OpsError as exc:
        rows = [s for s in compose.ps(all_=True) if s.service in services]
        bad = next((s.service for s in rows if not (s.running and s.health in ("", "healthy"))), services[0])
        raise ProcessError(f"{bad} did not become healthy: {exc.message}\n{log_tail(compose, bad)}",
                           hint=f"look at it: {compose.by_hand(build_logs_argv(compose.project, [bad], tail=100))}"
                           ) from exc


def wait_ready(compose: Compose, service: str, count: int, deadline: Deadline, *, healthy: bool) -> None:
    """Poll `compose ps` until `count` containers of `service` run (and are healthy); fail fast on a crash."""
    hint = f"look at it: {compose.by_hand(build_logs_argv(compose.project, [service], tail=100))}"

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
