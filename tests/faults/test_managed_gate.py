"""Managed means ours: a foreign server on the managed port gets TCP, AUTH and PING from us, and nothing else.

The foreign server's own `INFO commandstats`, read by the test before and after, is the witness.
"""

from __future__ import annotations

import json

import pytest
import redis

from tests.faults import world
from tests.faults.world import cli
from tests.support import free_port, real_server

pytestmark = pytest.mark.faults

# What a client may send before it knows who answers: the handshake and the liveness check.
ALLOWED = {"auth", "ping", "hello", "client|setinfo"}


def _calls(port: int) -> dict[str, int]:
    """calls= per command from the server's INFO commandstats (our own INFO included)."""
    stats = redis.Redis(port=port, socket_timeout=5).info("commandstats")
    return {name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in stats.items()}


def _sent_by_us(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """Commands the CLI sent between the two readings (the test's own INFO and handshake taken out)."""
    diff = {k: n - before.get(k, 0) for k, n in after.items() if n - before.get(k, 0) > 0}
    diff["info"] = diff.get("info", 0) - 1  # the `before` reading itself
    return {k: n for k, n in diff.items() if n > 0 and k not in ALLOWED}


def test_the_doctor_status_and_metrics_send_nothing_but_ping_to_a_foreign_server(env, tmp_path, redis_binary):
    with real_server(redis_binary, tmp_path / "foreign") as foreign:
        port = foreign.port
        settings = world.data_dir(env) / "settings.json"
        settings.parent.mkdir(parents=True)
        settings.write_text(json.dumps({"CLAUDE_MEM_REDIS_MODE": "managed", "CLAUDE_MEM_REDIS_PORT": str(port),
                                        "CLAUDE_MEM_QUEUE_ENGINE": "bullmq",
                                        # a server URL that refuses: the server group's stack checks still run
                                        "CLAUDE_MEM_SERVER_URL": f"http://127.0.0.1:{free_port()}",
                                        "CLAUDE_MEM_REDIS_URL": f"redis://default:secret@127.0.0.1:{port}/0"}))
        written = settings.read_bytes()
        before = _calls(port)

        doctor = cli(env, "doctor", "--timeout", "10", "--json")
        report = world.envelope(doctor)
        assert doctor.returncode == 1, doctor.stdout + doctor.stderr
        checks = {c["name"]: c for c in report["data"]["results"] if c["group"] == "store"}
        own = checks["ownership"]
        assert own["status"] == "fail" and f"pid {foreign.proc.pid}" in own["summary"], own
        assert "not the managed store" in own["summary"] and own["hint"]
        assert {checks[n]["status"] for n in ("server", "persistence", "lua", "bullmq")} == {"skip"}
        after_doctor = _calls(port)
        assert _sent_by_us(before, after_doctor) == {}, "the doctor sent more than AUTH/PING to a foreign server"

        status = cli(env, "status", "--json")
        assert status.returncode != 0
        metrics = cli(env, "metrics")
        assert "Traceback" not in metrics.stderr
        assert _sent_by_us(after_doctor, _calls(port)) == {}, "status/metrics read a foreign server"
        assert redis.Redis(port=port).dbsize() == 0, "something was written to a server that is not ours"
        assert settings.read_bytes() == written, "settings.json was rewritten"


def test_our_own_store_still_gets_every_check(started):
    env = started
    doctor = cli(env, "doctor", "--only", "store", "--no-smoke", "--timeout", "10", "--json")
    checks = {c["name"]: c for c in world.envelope(doctor)["data"]["results"]}
    assert checks["ownership"]["status"] == "ok", checks["ownership"]
    assert checks["persistence"]["status"] in ("ok", "warn") and checks["lua"]["status"] == "ok", checks
