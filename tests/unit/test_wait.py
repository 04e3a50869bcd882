"""wait.poll: the one waiting loop (bounded, transient errors only, says what it waited for)."""

from __future__ import annotations

import time

import pytest

from cmem_ops.errors import OpsTimeoutError
from cmem_ops.wait import Deadline, format_seconds, poll


def test_poll_returns_the_first_truthy_answer() -> None:
    answers = iter([None, False, 0, "ready"])
    assert poll(lambda: next(answers), Deadline.after(2), what="x", interval=0.001) == "ready"


def test_poll_retries_only_declared_transient_errors() -> None:
    calls: list[int] = []

    def flaky() -> bool:
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionRefusedError("not yet")
        return True

    assert poll(flaky, Deadline.after(2), what="x", transient=(OSError,), interval=0.001)
    assert len(calls) == 3

    def broken() -> bool:
        raise ValueError("a programming error is not waited out")

    with pytest.raises(ValueError):
        poll(broken, Deadline.after(2), what="x", transient=(OSError,))


def test_poll_gives_up_at_the_deadline_naming_what_and_the_last_error() -> None:
    def refused() -> bool:
        raise ConnectionRefusedError("connection refused")

    t0 = time.monotonic()
    with pytest.raises(OpsTimeoutError) as info:
        poll(refused, Deadline.after(0.2), what="the store to answer PING", transient=(OSError,),
             hint="cmem-ops store start")
    assert time.monotonic() - t0 < 1.0
    assert str(info.value) == ("timed out after 0.2s waiting for the store to answer PING; "
                               "last: ConnectionRefusedError: connection refused")
    assert info.value.hint == "cmem-ops store start"


@pytest.mark.parametrize(("seconds", "text"), [(0.004, "4ms"), (0.05, "50ms"), (0.3, "0.3s"), (0.25, "0.25s"),
                                               (1.0, "1s"), (1.84954, "1.8s"), (15.0, "15s"), (150.4, "150s")])
def test_format_seconds(seconds: float, text: str) -> None:
    assert format_seconds(seconds) == text
