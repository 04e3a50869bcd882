"""Top-level `cmem-ops status` on a managed store stopped by SIGSTOP: running, stopped, and the fix."""

from __future__ import annotations

import os
import signal
import time

import pytest

from cmem_ops.wait import Deadline, poll
from tests.faults import world
from tests.faults.world import assert_readable, cli, servers, write_acked

pytestmark = pytest.mark.faults


def test_status_names_a_stopped_store_and_its_fix(started):
    env = started
    data = write_acked(env, "before")
    pid = servers(env)[0]
    os.kill(pid, signal.SIGSTOP)
    try:
        poll(lambda: world.proc_state(pid) == "T", Deadline.after(5), what=f"pid {pid} to stop")
        t0 = time.monotonic()
        text = cli(env, "status")
        elapsed = time.monotonic() - t0
        assert text.returncode == 1, text.stdout + text.stderr  # running with a problem, not "not running" (7)
        assert f"pid {pid}" in text.stdout and "stopped" in text.stdout, text.stdout
        assert f"kill -CONT {pid}" in text.stdout and "cmem-ops store restart" in text.stdout
        assert "not running" not in text.stdout.split("Store:", 1)[-1]
        assert elapsed < 5, f"status took {elapsed:.1f}s on a stopped store"

        out = cli(env, "status", "--json")
        assert out.returncode == 1
        envelope = world.envelope(out)
        assert envelope["ok"] is False
        store = envelope["data"]["store"]
        assert store["running"] is True and store["pid"] == pid
        assert "stopped" in store["problem"] and store["hint"].startswith(f"kill -CONT {pid}")
    finally:
        os.kill(pid, signal.SIGCONT)
    assert_readable(env, data)


def test_status_of_a_store_that_is_not_running_still_exits_7(started):
    env = started
    assert cli(env, "store", "stop").returncode == 0
    out = cli(env, "status", "--json")
    assert out.returncode == 7 and world.envelope(out)["data"]["store"]["running"] is False
