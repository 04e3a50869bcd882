"""The one way cmem-ops waits for something: `poll(until, deadline, transient=...)`.

Every wait in the package goes through here, so every wait is bounded by a `Deadline`, retries
only the errors its caller declared transient, and, when it gives up, says what it waited for and
what it saw last (`OpsTimeoutError` with a hint). A `Deadline` is shared by all the waits of one
operation, so a start that spends 3 s waiting for a port has 3 s less for the next wait.

    poll(check, deadline, what="the store to answer PING", transient=(OSError,))
        check() -> T | None    None (or False) means "not yet"; anything else is the answer
        raises OpsTimeoutError("timed out after 5s waiting for the store to answer PING; last: ...")

A check that wants to stop the wait early (a child exited while starting) raises its own OpsError:
only `transient` errors are swallowed, and the last one is named in the timeout message.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import NamedTuple, TypeVar

from .errors import OpsTimeoutError

T = TypeVar("T")


class Deadline(NamedTuple):
    """A point in monotonic time shared by every wait of one operation."""

    at: float
    seconds: float = 0.0  # the budget it was made with, for messages

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        return cls(time.monotonic() + seconds, seconds)

    def remaining(self) -> float:
        return max(0.0, self.at - time.monotonic())

    def expired(self) -> bool:
        return time.monotonic() >= self.at


def format_seconds(seconds: float) -> str:
    """A duration as people read it: `40ms`, `0.25s`, `0.3s`, `1.8s`, `15s` (pure)."""
    if seconds < 0.1:
        return f"{seconds * 1000:.0f}ms"
    if seconds >= 10:
        return f"{seconds:.0f}s"
    text = f"{seconds:.1f}" if seconds >= 1 else f"{seconds:.2f}"
    return text.rstrip("0").rstrip(".") + "s"


def poll(
    until: Callable[[], T | None],
    deadline: Deadline,
    *,
    what: str,
    transient: tuple[type[BaseException], ...] = (),
    interval: float = 0.02,
    max_interval: float = 0.25,
    hint: str | None = None,
) -> T:
    """Call `until` until it returns a truthy value, and return that value.

    Errors of the `transient` types count as "not yet"; any other error propagates at once.
    The interval grows from `interval` to `max_interval` so long waits do not spin. On the
    deadline, raise OpsTimeoutError naming `what` and the last transient error seen.
    """
    last: BaseException | None = None
    delay = interval
    while True:
        try:
            value = until()
        except transient as exc:
            last, value = exc, None
        if value:
            return value
        remaining = deadline.remaining()
        if remaining <= 0:
            seen = f"; last: {type(last).__name__}: {last}" if last is not None else ""
            raise OpsTimeoutError(f"timed out after {format_seconds(deadline.seconds)} waiting for {what}{seen}",
                                  hint=hint)
        time.sleep(min(delay, remaining))
        delay = min(delay * 1.5, max_interval)
