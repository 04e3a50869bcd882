"""What every way of running a target's server shares: the started-server Protocol and the ready wait."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ...errors import ProcessError
from ...redis_url import RedisTarget
from ...resp import RespError
from ...store_client import open_store, ping_error
from ...wait import Deadline, poll


class ServerStartError(ProcessError):
    """A target's server did not start; the message carries its log tail."""


@dataclass(frozen=True)
class StartSpec:
    """Inputs of one start: a free loopback port, a password, a private work dir, one deadline."""

    port: int
    password: str
    workdir: Path
    deadline: Deadline


class StartedServer(Protocol):
    """A server the matrix runs against; `stop` undoes exactly what the start did."""

    @property
    def target(self) -> RedisTarget: ...

    @property
    def description(self) -> str: ...

    def stop(self) -> str:
        """Stop (or restore) it; return how, e.g. 'terminated', 'removed', 'config restored'."""
        ...


def ping_once(target: RedisTarget, timeout: float) -> str | None:
    """None when PING (with AUTH) answers, else the error text."""
    return ping_error(target, timeout)


def wait_for_ping(target: RedisTarget, deadline: Deadline, what: str, hint: str) -> None:
    """Poll PING until it answers; OpsTimeoutError naming `what` and the last error at the deadline."""
    def pong() -> bool:
        with open_store(target, timeout=max(min(0.5, deadline.remaining()), 0.05)) as conn:
            conn.command("PING")
        return True

    poll(pong, deadline, what=f"{what} to answer PING on {target.address}", transient=(OSError, RespError),
         interval=0.05, hint=hint)
