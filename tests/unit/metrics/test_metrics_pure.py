"""The pure parts of `cmem-ops metrics`: client names, job states, INFO, the exposition, the listen policy."""

from __future__ import annotations

from pathlib import Path

import pytest

from cmem_ops.errors import ConfigError, UsageError
from cmem_ops.metrics.exposition import format_exposition
from cmem_ops.metrics.generation import GenerationStats, bullmq_state, diverges
from cmem_ops.metrics.lanes import (
    EVENT_QUEUE,
    SUMMARY_QUEUE,
    LaneStats,
    count_workers,
    job_age_s,
    lane_label,
    parse_client_names,
    worker_client_name,
)
from cmem_ops.metrics.serve import authorized, is_loopback, parse_listen, plan_serve
from cmem_ops.metrics.snapshot import HealthStats, MetricsSnapshot
from cmem_ops.metrics.store import StoreStats, parse_store_stats
from cmem_ops.resp import parse_info

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def test_workers_are_counted_from_a_real_claude_mem_client_list() -> None:
    names = parse_client_names((FIXTURES / "claude-mem" / "valkey-client-list.txt").read_text())
    assert len(names) == 9
    # one blocking worker connection per lane; the `:qe` QueueEvents connections are not workers
    assert count_workers(names, "claude_mem_37700", EVENT_QUEUE) == 1
    assert count_workers(names, "claude_mem_37700", SUMMARY_QUEUE) == 1
    assert count_workers(names, "claude_mem_37701", EVENT_QUEUE) == 0


def test_worker_names_follow_bullmq() -> None:
    expected = "claude_mem_37700:c2VydmVyX2JldGFfZ2VuZXJhdGVfZXZlbnQ="
    assert worker_client_name("claude_mem_37700", EVENT_QUEUE) == expected
    base = worker_client_name("p", SUMMARY_QUEUE)
    assert count_workers([base, base + ":w:named", base + ":qe", "other"], "p", SUMMARY_QUEUE) == 2
    assert lane_label(EVENT_QUEUE) == "event"


def test_job_age() -> None:
    assert job_age_s(b"1000", 6000) == 5.0
    assert job_age_s(b"9000", 6000) == 0.0
    assert job_age_s(None, 1) is None and job_age_s(b"x", 1) is None


@pytest.mark.parametrize(("fields", "state"), [
    ([None, None, None], "missing"),
    ([b"1", None, None], "pending"),
    ([b"1", b"2", b"null"], "completed"),
    ([b"1", b"2", None], "failed"),
])
def test_bullmq_state(fields: list[bytes | None], state: str) -> None:
    assert bullmq_state(fields) == state


@pytest.mark.parametrize(("pg", "bull", "diverged"), [
    ("queued", "pending", False), ("processing", "pending", False), ("processing", "completed", True),
    ("queued", "missing", True), ("failed", "pending", True), ("cancelled", "pending", True),
    ("failed", "failed", False), ("failed", "missing", False), ("completed", "completed", False),
    ("failed", "completed", True),
])
def test_divergence_rules(pg: str, bull: str, diverged: bool) -> None:
    assert diverges(pg, bull) is diverged


def test_store_stats_from_real_info() -> None:
    stats = parse_store_stats(parse_info((FIXTURES / "servers" / "info-valkey-9.1.2.txt").read_text()))
    assert stats.up and stats.role == "master" and stats.version == "9.1.2"
    assert stats.eviction_policy == "noeviction" and stats.aof_last_write_ok is True and stats.evicted_keys == 0
    assert stats.used_memory and stats.max_memory is not None and stats.connected_clients is not None
    redis = parse_store_stats(parse_info((FIXTURES / "servers" / "info-redis-6.2.5.txt").read_text()))
    assert redis.version == "6.2.5"


def snapshot(**kw: object) -> MetricsSnapshot:
    base: dict[str, object] = dict(
        prefix="p", store=StoreStats(True, role="master", version="9.1.2", used_memory=100, max_memory=1000,
                                     eviction_policy="noeviction", aof_enabled=True, aof_last_write_ok=False,
                                     connected_clients=3, blocked_clients=1, evicted_keys=2),
        lanes=(LaneStats(EVENT_QUEUE, {"waiting": 4, "failed": 1}, 12.5, 0), LaneStats(SUMMARY_QUEUE, {}, None, None)),
        generation=GenerationStats({"queued": 4, "failed": 1}, 1, 5), health=HealthStats("http://h", True),
        durations={"store": 0.002})
    base.update(kw)
    return MetricsSnapshot(**base)  # type: ignore[arg-type]


def test_exposition_names_match_bullmq_and_ours() -> None:
    text = format_exposition(snapshot())
    assert "# TYPE bullmq_job_count gauge" in text
    assert 'bullmq_job_count{queue="server_beta_generate_event",state="waiting"} 4.0' in text
    assert 'bullmq_job_count{queue="server_beta_generate_summary",state="waiting-children"} 0.0' in text
    assert 'cmem_ops_queue_oldest_waiting_age_seconds{queue="server_beta_generate_event"} 12.5' in text
    assert 'cmem_ops_queue_workers{queue="server_beta_generate_event"} 0.0' in text
    assert 'cmem_ops_queue_workers{queue="server_beta_generate_summary"}' not in text  # CLIENT LIST refused
    assert "cmem_ops_queue_workers_visible 0.0" in text
    assert "cmem_ops_store_aof_last_write_ok 0.0" in text and "cmem_ops_store_evicted_keys_total 2.0" in text
    assert 'cmem_ops_store_info{eviction_policy="noeviction",role="master",version="9.1.2"} 1.0' in text
    assert 'cmem_ops_generation_jobs{status="queued"} 4.0' in text and "cmem_ops_generation_jobs_divergent 1.0" in text
    assert "cmem_ops_server_up 1.0" in text


def test_exposition_of_a_store_that_is_down() -> None:
    text = format_exposition(snapshot(store=StoreStats(False, error="refused"), lanes=(), generation=None,
                                      health=HealthStats(None, None)))
    assert "cmem_ops_store_up 0.0" in text and "bullmq_job_count{" not in text
    assert "cmem_ops_store_memory" not in text and "\ncmem_ops_server_up " not in text


@pytest.mark.parametrize(("text", "host", "port"), [
    ("127.0.0.1:9464", "127.0.0.1", 9464), ("[::1]:9000", "::1", 9000), ("0.0.0.0:80", "0.0.0.0", 80),
    ("localhost:9464", "localhost", 9464),
])
def test_parse_listen(text: str, host: str, port: int) -> None:
    assert parse_listen(text) == (host, port)


@pytest.mark.parametrize("text", ["9464", ":9464", "127.0.0.1:0", "127.0.0.1:x", "::1:9464"])
def test_parse_listen_refuses(text: str) -> None:
    with pytest.raises(UsageError):
        parse_listen(text)


def test_loopback_is_the_default_and_wider_needs_flag_and_token(tmp_path: Path) -> None:
    assert is_loopback("127.0.0.2") and is_loopback("::1") and not is_loopback("0.0.0.0")
    assert plan_serve("127.0.0.1:9464", False, None, None).token is None
    with pytest.raises(UsageError, match="not a loopback address"):
        plan_serve("0.0.0.0:9464", False, None, None)
    with pytest.raises(UsageError, match="needs --token-file"):
        plan_serve("0.0.0.0:9464", True, None, None)
    token_file = tmp_path / "t"
    with pytest.raises(ConfigError, match="empty"):
        plan_serve("0.0.0.0:9464", True, "\n", token_file)
    plan = plan_serve("0.0.0.0:9464", True, "s3cret-token-0123456789\n", token_file)
    assert plan.token == "s3cret-token-0123456789" and plan.url == "http://0.0.0.0:9464/metrics"


def test_bearer_check() -> None:
    assert authorized(None, None)
    assert authorized("Bearer abc", "abc") and authorized("bearer abc", "abc")
    assert not authorized(None, "abc") and not authorized("Bearer abd", "abc") and not authorized("Basic abc", "abc")


def test_lane_reads_skip_the_legacy_marker_and_name_the_oldest() -> None:
    from cmem_ops.metrics.lanes import STATES, parse_reads, plan_reads

    plan = plan_reads("p", EVENT_QUEUE)
    assert plan[0] == ("LLEN", "p:server_beta_generate_event:active") and len(plan) == len(STATES) + 3
    assert ("LLEN", "p:server_beta_generate_event:wait") in plan
    assert ("ZCARD", "p:server_beta_generate_event:waiting-children") in plan
    # states in STATES order: active completed delayed failed paused prioritized waiting waiting-children
    counts, ids = parse_reads([1, 0, 0, 2, 1, 1, 5, 0, b"0:", b"job-7", [b"job-3"]])
    assert counts["waiting"] == 4 and counts["paused"] == 1 and ids == ["job-7", "job-3"]
    counts, ids = parse_reads([0, 0, 0, 0, 0, 0, 3, 0, b"job-1", None, []])
    assert counts["waiting"] == 3 and ids == ["job-1"]
