"""Eight coding agents at once: concurrent start/up/restart/stop end with one server that settings.json names."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.faults import world
from tests.faults.world import assert_readable, assert_settings_name_the_server, servers, write_acked

pytestmark = pytest.mark.faults

ROUNDS = 5
MIXED = [("store", "start"), ("up", "--no-smoke", "--timeout", "20"), ("store", "restart"), ("store", "stop")] * 2


def _all_at_once(env: dict[str, str], commands: list[tuple[str, ...]]) -> list[tuple[tuple[str, ...], int, str]]:
    procs = [(args, subprocess.Popen([sys.executable, "-m", "cmem_ops", *args], env=env, text=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)) for args in commands]
    results = []
    for args, proc in procs:
        out, err = proc.communicate(timeout=120)
        assert "Traceback" not in err, err
        results.append((args, proc.returncode, out + err))
    return results


def test_eight_concurrent_commands_leave_one_server_named_by_settings(env):
    first = _all_at_once(env, [("store", "start")] * 8)
    assert [code for _, code, _ in first] == [0] * 8, first
    assert_settings_name_the_server(env)
    data = write_acked(env, "round0")
    for round_no in range(1, ROUNDS):
        commands = MIXED[round_no % 2:] + MIXED[:round_no % 2]  # vary who comes first
        results = _all_at_once(env, commands)
        # Every command succeeds; only `up`'s doctor (after its store step, outside the lock) may find the
        # store stopped by a concurrent `stop`: then it reports checks, never an error of its own.
        failed = [(args, code, text) for args, code, text in results
                  if code != 0 and not (args[0] == "up" and "error:" not in text and "Store" in text)]
        assert not failed, failed
        running = servers(env)
        assert len(running) <= 1, f"round {round_no}: two servers on one data dir: {running}"
        if running:
            assert_settings_name_the_server(env)
    start = world.cli(env, "store", "start")
    assert start.returncode == 0, start.stderr
    assert_settings_name_the_server(env)
    assert_readable(env, data)
