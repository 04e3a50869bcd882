"""`cmem-ops status` and `cmem-ops logs` as a user runs them."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from tests.support import run_cli, user_env

pytestmark = pytest.mark.integration


@pytest.fixture
def env(tmp_path):
    env = user_env(tmp_path)
    assert run_cli(env, "store", "start").returncode == 0
    yield env
    run_cli(env, "store", "stop")


def test_status_summary_and_json(env):
    out = run_cli(env, "status")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "Worker: not started by cmem-ops" and lines[1] == "Server: not started by cmem-ops"
    assert lines[2] == "Queue: BullMQ"
    assert lines[3].startswith("Store: managed Valkey") and lines[4] == "Persistence: AOF everysec"
    assert lines[5] == "Policy: noeviction"
    assert lines[6] == "Lane event: waiting 0 / active 0 / failed 0, oldest -, 0 workers"
    assert lines[7] == "Lane summary: waiting 0 / active 0 / failed 0, oldest -, 0 workers"
    payload = json.loads(run_cli(env, "status", "--json").stdout)
    assert payload["command"] == "status" and payload["ok"] is True
    assert list(payload["data"]) == ["server", "workers", "queue_engine", "queue_prefix", "store", "problem", "lanes"]
    assert [lane["queue"] for lane in payload["data"]["lanes"]] == ["server_beta_generate_event",
                                                                     "server_beta_generate_summary"]
    assert "***" in payload["data"]["store"]["url"]
    run_cli(env, "store", "stop")
    down = run_cli(env, "status")
    assert down.returncode == 7 and "Fix: cmem-ops store start" in down.stdout


def test_status_help_lists_the_exit_codes(env):
    out = run_cli(env, "status", "--help")
    assert out.returncode == 0 and "Exit codes" in out.stdout


def test_logs_span_day_boundaries(env):
    logs = Path(env["CLAUDE_MEM_DATA_DIR"]) / "logs"
    yesterday = dt.date.today() - dt.timedelta(days=1)
    (logs / f"redis-{yesterday.isoformat()}.log").write_text("old line 1\nold line 2\n")
    today = sorted(logs.glob("redis-*.log"))[-1].read_text().splitlines()
    out = run_cli(env, "logs", "store", "-n", str(len(today) + 1))
    assert out.returncode == 0
    assert out.stdout.splitlines() == ["old line 2", *today]
    since = run_cli(env, "logs", "store", "-n", "1000", "--since", dt.date.today().isoformat())
    assert "old line" not in since.stdout
    assert run_cli(env, "store", "logs", "-n", "1").stdout.strip() == today[-1]
    bad = run_cli(env, "logs", "nginx")
    assert bad.returncode == 2 and "choose one of" in bad.stderr
    bad_date = run_cli(env, "logs", "--since", "yesterday")
    assert bad_date.returncode == 2 and "use the form --since" in bad_date.stderr
