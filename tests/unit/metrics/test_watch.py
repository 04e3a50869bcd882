"""Rates and the --watch screen (pure)."""

from __future__ import annotations

from cmem_ops.lifecycle.summary import ProcessLine, StackSummary
from cmem_ops.lifecycle.watch import LaneRate, compute_rates
from cmem_ops.metrics.lanes import EVENT_QUEUE, LaneStats
from cmem_ops.render.summary import format_rate


def summary(waiting: int, completed: int, failed: int) -> StackSummary:
    line = ProcessLine("server", False, None, None)
    lane = LaneStats(EVENT_QUEUE, {"waiting": waiting, "completed": completed, "failed": failed}, None, 1)
    return StackSummary(line, (), "bullmq", "p", None, lanes=(lane,))


def test_rates_between_two_readings() -> None:
    assert compute_rates(None, summary(5, 0, 0), 1.0) == {}
    rates = compute_rates(summary(10, 4, 0), summary(6, 7, 1), 2.0)
    assert rates == {EVENT_QUEUE: LaneRate(done_per_s=2.0, waiting_per_s=-2.0)}
    # completed jobs trimmed by BullMQ (removeOnComplete) never count as negative work
    assert compute_rates(summary(0, 10, 0), summary(0, 2, 0), 1.0)[EVENT_QUEUE].done_per_s == 0.0


def test_format_rate() -> None:
    assert format_rate(None) == ", rates next second"
    assert format_rate(LaneRate(2.5, -1.0)) == ", 2.5 done/s, backlog -1.0/s"
