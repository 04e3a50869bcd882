"""What every probe returns, and the small timing helper they share.

A probe never raises for the thing it checks: connection refused, a wrong password, a silent
listener, a missing schema all become a ProbeResult with a status and a hint (the exact command
that fixes it). It raises only on programming errors.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from enum import StrEnum
from types import MappingProxyType
from typing import Any, NamedTuple


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"


class Group(StrEnum):
    STORE = "store"
    POSTGRES = "postgres"
    SERVER = "server"
    FILES = "files"
    QUEUE = "queue"


class ProbeResult(NamedTuple):
    """One check's verdict: every FAIL and WARN carries a hint."""

    name: str
    target: str
    status: Status
    summary: str
    detail: str = ""
    hint: str | None = None
    elapsed_ms: float = 0.0
    group: Group = Group.STORE
    required: bool = True
    data: Mapping[str, Any] = MappingProxyType({})  # read-only: the default is shared

    def timed(self, elapsed_ms: float) -> ProbeResult:
        """A copy with `elapsed_ms` set."""
        return self._replace(elapsed_ms=round(elapsed_ms, 2))


class Stopwatch:
    """Milliseconds since creation."""

    def __init__(self) -> None:
        self._t0 = time.perf_counter()

    @property
    def ms(self) -> float:
        return (time.perf_counter() - self._t0) * 1000


@contextmanager
def stopwatch() -> Iterator[Stopwatch]:
    """`with stopwatch() as sw: ...; sw.ms`."""
    yield Stopwatch()


def skipped(name: str, target: str, why: str, group: Group, required: bool = True) -> ProbeResult:
    """A SKIP result (the probe could not run because something before it failed or is not configured)."""
    return ProbeResult(name, target, Status.SKIP, why, group=group, required=required)
