"""The docker stack's stuck-job access: its pure builders and the dead-holder rule."""

from __future__ import annotations

import pytest

from cmem_ops.jobs.docker_stack import (
    build_locks_script,
    build_rows_sql,
    build_statuses_sql,
    judge_holder,
    parse_started_at,
)
from cmem_ops.jobs.stuck import PROCESSING_SQL


def test_started_at_with_nanoseconds_and_the_zero_time():
    assert parse_started_at("2026-12-01T20:59:01.123456789Z") == pytest.approx(1796158741.123456)
    assert parse_started_at("2026-12-01T20:59:01Z") == pytest.approx(1796158741.0)
    assert parse_started_at("2026-12-01T21:59:01.5+01:00") == pytest.approx(1796158741.5)
    assert parse_started_at("0001-01-01T00:00:00Z") is None
    assert parse_started_at("") is None


def test_a_holder_is_dead_only_when_every_running_worker_started_after_the_lock():
    assert judge_holder(100.0, [101.0, 150.0]) is False  # the crashed worker was restarted by its policy
    assert judge_holder(100.0, []) is False  # no worker runs at all
    assert judge_holder(100.0, [99.0, 150.0]) is None  # one was running then: it may still hold it
    assert judge_holder(None, [150.0]) is None  # no locked_at: nothing to prove


def test_sql_wraps_the_native_query_and_quotes_only_job_ids():
    sql = build_rows_sql(PROCESSING_SQL)
    assert sql.startswith("SELECT coalesce(json_agg(row_to_json(t)), '[]'::json) FROM (")
    assert "locked_at_epoch" in sql and "WHERE status = 'processing'" in sql
    assert "IN ('a1-b2','c3_d4')" in build_statuses_sql(["a1-b2", "c3_d4"])
    assert "IN (NULL)" in build_statuses_sql([])
    with pytest.raises(ValueError):
        build_statuses_sql(["x'; drop table jobs; --"])


def test_the_lock_script_reads_the_password_inside_the_container():
    script = build_locks_script("EXISTS", ["p:q:evt_1:lock", "p:q:evt 2:lock"])
    assert script.startswith("for k in p:q:evt_1:lock 'p:q:evt 2:lock'; do ")
    assert 'REDISCLI_AUTH="$(cat /run/secrets/valkey-password)" valkey-cli --no-auth-warning EXISTS "$k"' in script
