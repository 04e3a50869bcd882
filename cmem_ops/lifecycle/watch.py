"""`cmem-ops status --watch`: the status screen redrawn every second, with per-lane rates.

Rates come from two successive readings of the lane counts: jobs finished per second
(completed + failed) and how fast the backlog grows or drains. Ctrl-C (or SIGTERM) ends the watch
normally: the last screen stays, the exit code is 0. rich is imported here only, never by plain `status`.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..context import Context
from ..metrics.lanes import LaneStats
from ..wait import Deadline
from .summary import StackSummary, summarize

if TYPE_CHECKING:
    from rich.console import Console, RenderableType


@dataclass(frozen=True)
class LaneRate:
    """How one lane moved between two readings."""

    done_per_s: float
    waiting_per_s: float


def finished(lane: LaneStats) -> int:
    """Jobs that left the lane for good: completed + failed (pure)."""
    return lane.counts.get("completed", 0) + lane.counts.get("failed", 0)


def compute_rates(before: StackSummary | None, after: StackSummary, seconds: float) -> dict[str, LaneRate]:
    """Per-queue rates between two readings `seconds` apart; {} for the first reading (pure)."""
    if before is None or seconds <= 0:
        return {}
    old = {lane.queue: lane for lane in before.lanes}
    rates = {}
    for lane in after.lanes:
        prev = old.get(lane.queue)
        if prev is not None:
            rates[lane.queue] = LaneRate(max(finished(lane) - finished(prev), 0) / seconds,
                                         (lane.waiting - prev.waiting) / seconds)
    return rates


def watch(ctx: Context, console: Console, render: Callable[[StackSummary, dict[str, LaneRate], float], RenderableType],
          *, interval: float = 1.0, timeout: float = 1.0, frames: int | None = None) -> int:
    """Redraw `render(summary, rates, now)` every `interval` s until Ctrl-C (or `frames` redraws); returns 0."""
    from rich.live import Live

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, signal.default_int_handler)  # SIGTERM ends the watch like Ctrl-C
    before: StackSummary | None = None
    taken = 0.0
    drawn = 0
    try:
        with Live(console=console, auto_refresh=False, transient=False) as live:
            while frames is None or drawn < frames:
                # A frame clock, not a wait for a condition: there is nothing to poll for.
                frame = Deadline.after(interval)
                now = time.monotonic()
                summary = summarize(ctx, timeout=timeout)
                rates = compute_rates(before, summary, now - taken)
                before, taken = summary, now
                live.update(render(summary, rates, time.time()), refresh=True)
                drawn += 1
                if frames is None or drawn < frames:
                    time.sleep(frame.remaining())
    except KeyboardInterrupt:
        pass
    return 0
