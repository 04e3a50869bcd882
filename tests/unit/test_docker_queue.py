"""The docker queue probe's pure parts: the valkey-cli lines and script, its --json output read back into
the replies lanes.py takes (captured real output, tests/fixtures/valkey-cli), the docker hints."""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

import pytest

from cmem_ops.context import build_context
from cmem_ops.lifecycle import docker_stack_config as cfg
from cmem_ops.lifecycle.docker_stack_config import StackState, format_state
from cmem_ops.metrics import lanes
from cmem_ops.probes.base import Status
from cmem_ops.probes.docker_queue import (
    DOCKER_FIXES,
    PROVIDER_SCRIPT,
    build_cli_script,
    divergence_probe,
    format_cli_line,
    parse_cli_client_list,
    parse_cli_replies,
    parse_provider_env,
)
from cmem_ops.probes.queue import judge_divergence, judge_failed, judge_lane
from cmem_ops.resp import NoAuthError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "valkey-cli"
CLIS = ("valkey-cli-8.1", "redis-cli-7.0")
PREFIX = "claude_mem_stack"
NOW_MS = 1764630100000.0
READS = lanes.plan_lane_reads(PREFIX)


def fixture(cli: str, case: str) -> str:
    return (FIXTURES / f"{cli}-{case}.txt").read_text()


def test_lines_keep_safe_arguments_bare_and_quote_the_rest_as_valkey_cli_splits_them():
    assert format_cli_line(("LINDEX", "claude_mem_stack:server_beta_generate_event:wait", -1)) == \
        "LINDEX claude_mem_stack:server_beta_generate_event:wait -1"
    assert format_cli_line(("HGET", 'p:q:a b"c\\d', "timestamp")) == 'HGET "p:q:a b\\"c\\\\d" timestamp'
    assert format_cli_line(("GET", "é\n")) == 'GET "\\xc3\\xa9\\x0a"'


def test_the_script_feeds_every_command_to_one_valkey_cli_with_the_password_from_the_secret_file():
    script = build_cli_script([*READS, ("CLIENT", "LIST")])
    printf, cli = script.split(" | ")
    assert cli == 'REDISCLI_AUTH="$(cat /run/secrets/valkey-password)" valkey-cli --no-auth-warning --json'
    words = shlex.split(printf)
    assert words[:2] == ["printf", "%s\\n"]
    assert words[2:] == [format_cli_line(c) for c in [*READS, ("CLIENT", "LIST")]]
    assert script.count("valkey-cli") == 1


@pytest.mark.parametrize("cli", CLIS)
def test_the_backlog_output_builds_the_lanes_read_lanes_would(cli):
    replies, rest = parse_cli_replies(fixture(cli, "lanes-backlog"), len(READS))
    parsed = lanes.parse_lane_reads(PREFIX, lanes.QUEUES, replies)
    stamp_reads = lanes.plan_stamp_reads(parsed)
    assert stamp_reads == [("HGET", f"{PREFIX}:{lanes.EVENT_QUEUE}:evt_1", "timestamp"),
                           ("HGET", f"{PREFIX}:{lanes.SUMMARY_QUEUE}:sum_1", "timestamp")]
    stamps, _ = parse_cli_replies(fixture(cli, "stamps"), len(stamp_reads))
    event, summary = lanes.build_lane_stats(parsed, stamps, parse_cli_client_list(rest), NOW_MS)
    assert event == lanes.LaneStats(lanes.EVENT_QUEUE, {"active": 1, "completed": 0, "delayed": 0, "failed": 1,
                                                        "paused": 0, "prioritized": 0, "waiting": 2,
                                                        "waiting-children": 0}, 100.0, 2)
    assert summary.waiting == 1 and summary.oldest_waiting_age_s == 70.0 and summary.workers == 0


@pytest.mark.parametrize("cli", CLIS)
def test_an_empty_store_gives_empty_lanes_and_no_worker(cli):
    replies, rest = parse_cli_replies(fixture(cli, "lanes-empty"), len(READS))
    parsed = lanes.parse_lane_reads(PREFIX, lanes.QUEUES, replies)
    assert lanes.plan_stamp_reads(parsed) == []
    names = parse_cli_client_list(rest)
    assert names == [""]  # valkey-cli's own connection
    assert [(s.waiting, s.workers) for s in lanes.build_lane_stats(parsed, [], names, NOW_MS)] == [(0, 0), (0, 0)]


@pytest.mark.parametrize("cli", CLIS)
def test_a_refused_client_list_means_workers_unknown(cli):
    replies, rest = parse_cli_replies(fixture(cli, "lanes-client-list-refused"), len(READS))
    assert rest.startswith("NOPERM") and parse_cli_client_list(rest) is None
    parsed = lanes.parse_lane_reads(PREFIX, lanes.QUEUES, replies)
    assert [s.workers for s in lanes.build_lane_stats(parsed, [b"1", b"2"], None, NOW_MS)] == [None, None]


@pytest.mark.parametrize("cli", CLIS)
def test_a_wrong_password_gives_error_replies_with_their_cause(cli):
    replies, rest = parse_cli_replies(fixture(cli, "lanes-wrongpass"), len(READS))
    assert all(isinstance(r, NoAuthError) for r in replies) and str(replies[0]) == "NOAUTH Authentication required."
    assert parse_cli_client_list(rest) is None


def test_missing_or_unreadable_output_is_a_value_error_saying_how_much_came():
    with pytest.raises(ValueError, match="printed 0 of the 22 replies"):
        parse_cli_replies("", len(READS))
    cut = "\n".join(fixture("valkey-cli-8.1", "lanes-backlog").splitlines()[:10]) + "\n"
    with pytest.raises(ValueError, match="printed 10 of the 22 replies"):
        parse_cli_replies(cut, len(READS))
    with pytest.raises(ValueError, match="where a reply was expected"):
        parse_cli_replies("Could not connect to Valkey at 127.0.0.1:6379: Connection refused\n", 1)
    with pytest.raises(ValueError, match="replies to 22 lane reads"):
        lanes.parse_lane_reads(PREFIX, lanes.QUEUES, [0] * 21)


def test_a_null_stamp_is_none_and_a_quoted_client_list_is_read_too():
    stamps, _ = parse_cli_replies(fixture("valkey-cli-8.1", "stamps"), 3)
    assert stamps == [b"1764630000000", b"1764630030000", None]
    assert parse_cli_client_list('"id=3 addr=x name=p:q\\nid=4 addr=y name=\\n"\n') == ["p:q", ""]


def test_the_judges_name_the_docker_stacks_commands():
    dead = lanes.LaneStats(lanes.EVENT_QUEUE, {"waiting": 4, "failed": 1}, 300.0, 0)
    verdict = judge_lane(dead, "cmem-abc/valkey", 120.0, fixes=DOCKER_FIXES)
    assert verdict.status is Status.FAIL and verdict.name == "backlog event"
    assert verdict.hint == "cmem-ops stack up --docker --workers 1"
    busy = lanes.LaneStats(lanes.EVENT_QUEUE, {"waiting": 4}, 300.0, 2)
    assert judge_lane(busy, "x", 120.0, fixes=DOCKER_FIXES).hint == "cmem-ops stack up --docker --workers 3"
    assert judge_failed([dead], "x", DOCKER_FIXES).hint == \
        "cmem-ops jobs recover --docker   (and read why: cmem-ops stack logs --docker claude-mem-worker -n 100)"
    assert judge_divergence(1, 5, None, "x", DOCKER_FIXES).hint == "cmem-ops jobs recover --docker"
    # the native stack's own, unchanged
    assert judge_lane(dead, "x", 120.0).hint == "cmem-ops worker start"
    assert judge_lane(busy, "x", 120.0).hint == "cmem-ops worker start --count 3"
    assert judge_failed([dead], "x").hint == "cmem-ops jobs recover   (and read why: cmem-ops logs worker -n 100)"


def test_divergence_on_an_unpublished_stack_is_a_skip_saying_how_to_publish(tmp_path):
    stack = tmp_path / "data" / "docker-stack"
    (stack / "secrets").mkdir(parents=True)
    (stack / "state.json").write_text(format_state(StackState("cmem-1", 41000, "pfx")))
    ctx = build_context({"HOME": str(tmp_path), "CLAUDE_MEM_DATA_DIR": str(tmp_path / "data")})
    result = divergence_probe(ctx, 1.0)
    assert (result.name, result.status, result.required) == ("divergence", Status.SKIP, False)
    assert "CMEM_STACK_PUBLISH_STORES=1" in result.summary and "cmem-ops stack up --docker" in result.summary


def test_no_docker_stack_here_is_a_skip_of_every_queue_check(tmp_path):
    from cmem_ops.probes.docker_queue import queue_probes

    ctx = build_context({"HOME": str(tmp_path), "CLAUDE_MEM_DATA_DIR": str(tmp_path / "data")})
    results = queue_probes(ctx, lambda: 1.0)
    assert [(r.name, r.status) for r in results] == [("queue", Status.SKIP), ("divergence", Status.SKIP)]
    assert results[0].hint == "cmem-ops stack up --docker"


def test_the_provider_script_prints_names_only_and_its_output_parses(tmp_path):
    secret = tmp_path / "claude-mem.env"
    secret.write_text("OPENROUTER_API_KEY='sk-or-v1-secret'\n")
    script = PROVIDER_SCRIPT.replace(cfg.CLAUDE_MEM_ENV_FILE, str(secret))
    out = subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=True,
                         env={"PATH": os.environ["PATH"], "CLAUDE_MEM_SERVER_PROVIDER": "openrouter"}).stdout
    assert "sk-or-v1-secret" not in out  # no value leaves the container
    assert parse_provider_env(out) == {"CLAUDE_MEM_SERVER_PROVIDER": "openrouter", "OPENROUTER_API_KEY": "set"}
    bare = subprocess.run(["sh", "-c", PROVIDER_SCRIPT], capture_output=True, text=True, check=True,
                          env={"PATH": os.environ["PATH"]}).stdout
    assert parse_provider_env(bare) == {}
