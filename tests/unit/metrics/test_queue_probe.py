"""The queue-health verdicts (pure)."""

from __future__ import annotations

from cmem_ops.metrics.lanes import EVENT_QUEUE, LaneStats, format_age
from cmem_ops.probes.base import Status
from cmem_ops.probes.queue import judge_divergence, judge_failed, judge_lane


def lane(waiting: int, age: float | None, workers: int | None, failed: int = 0) -> LaneStats:
    return LaneStats(EVENT_QUEUE, {"waiting": waiting, "active": 0, "failed": failed}, age, workers)


def test_old_backlog_with_no_worker_fails_with_the_start_command() -> None:
    result = judge_lane(lane(5, 300, 0), "t", 120)
    assert result.status is Status.FAIL and result.hint == "cmem-ops worker start"
    assert "5 job(s) waiting" in result.summary and "5 min 0 s" in result.summary


def test_young_backlog_with_no_worker_warns() -> None:
    assert judge_lane(lane(5, 10, 0), "t", 120).status is Status.WARN


def test_old_backlog_with_workers_asks_for_more() -> None:
    result = judge_lane(lane(50, 600, 2), "t", 120)
    assert result.status is Status.WARN and result.hint == "cmem-ops worker start --count 3"


def test_idle_or_keeping_up_is_ok() -> None:
    assert judge_lane(lane(0, None, 0), "t", 120).status is Status.OK
    ok = judge_lane(lane(2, 5, 1), "t", 120)
    assert ok.status is Status.OK and ok.summary == "waiting 2, active 0, failed 0; oldest 5 s; 1 worker"
    unknown = judge_lane(lane(2, 5, None), "t", 120)
    assert unknown.status is Status.OK and "workers unknown" in unknown.summary


def test_failed_and_divergence_warn_with_recover() -> None:
    failed = judge_failed([lane(0, None, 1, failed=3)], "t")
    assert failed.status is Status.WARN and failed.hint is not None and failed.hint.startswith("cmem-ops jobs recover")
    assert judge_failed([lane(0, None, 1)], "t").status is Status.OK
    div = judge_divergence(2, 10, None, "t")
    assert div.status is Status.WARN and div.hint == "cmem-ops jobs recover"
    assert judge_divergence(0, 10, None, "t").status is Status.OK
    assert judge_divergence(0, 0, "refused", "t").status is Status.SKIP


def test_format_age() -> None:
    assert [format_age(x) for x in (None, 5, 65, 7300)] == ["-", "5 s", "1 min 5 s", "2 h 1 min"]
