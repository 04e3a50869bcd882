"""The queue-health verdicts (pure)."""

from __future__ import annotations

from cmem_ops.metrics.lanes import EVENT_QUEUE, LaneStats, format_age
from cmem_ops.probes.base import Status
from cmem_ops.probes.queue import IdleWorkers, judge_divergence, judge_failed, judge_idle_workers, judge_lane


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


RESTART = "cmem-ops worker stop && cmem-ops worker start"
LOGS = "cmem-ops logs worker -n 100"


def test_workers_that_run_without_a_provider_are_named_instead_of_start_workers() -> None:
    # claude-mem's worker runs but registers no BullMQ worker while generation is disabled
    idle = judge_idle_workers(1, {"CLAUDE_MEM_DATA_DIR": "/d"}, RESTART, LOGS)
    assert idle is not None and idle.running == 1 and "no CLAUDE_MEM_SERVER_PROVIDER" in idle.why
    assert idle.fix.startswith("set CLAUDE_MEM_SERVER_PROVIDER=") and idle.fix.endswith(f"then: {RESTART}")
    result = judge_lane(lane(5, 300, 0), "t", 120, idle)
    assert result.status is Status.FAIL and result.hint == idle.fix
    assert "1 worker process run but none serves this lane: no CLAUDE_MEM_SERVER_PROVIDER" in result.summary
    assert judge_lane(lane(5, 30, 0), "t", 120, idle).status is Status.WARN  # young: not yet a failure


def test_a_provider_without_its_key_is_named_and_a_full_provider_points_at_the_log() -> None:
    keyless = judge_idle_workers(2, {"CLAUDE_MEM_SERVER_PROVIDER": "openrouter"}, RESTART, LOGS)
    assert keyless is not None and "has no API key" in keyless.why and "OPENROUTER_API_KEY" in keyless.fix
    full = judge_idle_workers(2, {"CLAUDE_MEM_SERVER_PROVIDER": "openrouter", "OPENROUTER_API_KEY": "k"},
                              RESTART, LOGS)
    assert full == IdleWorkers(2, "none has registered a BullMQ worker (read its log for why)", LOGS)
    assert judge_idle_workers(1, None, RESTART, LOGS) == full._replace(running=1)  # environment unread
    assert judge_idle_workers(0, {}, RESTART, LOGS) is None  # no process runs: "start workers" stands
    served = judge_lane(lane(5, 300, 1), "t", 120, full)
    assert served.status is Status.WARN and served.hint == "cmem-ops worker start --count 2"  # idle is moot
