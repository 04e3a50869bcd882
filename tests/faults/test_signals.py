"""SIGKILL and SIGSTOP of the store at each step of `store start` and `store stop`.

The store is given enough data that loading it takes a moment, so a signal sent as soon as the
server process appears lands while `start` is still waiting for PONG. Whatever the interleaving,
the outcome must hold: a bounded exit with a known code, no traceback, nothing left running that
the CLI does not account for, and every acknowledged write readable after recovery.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time

import pytest

from cmem_ops.wait import Deadline, poll
from tests.faults import world
from tests.faults.world import assert_readable, assert_settings_name_the_server, cli, servers, write_acked

pytestmark = pytest.mark.faults

SIGNALS = {"SIGKILL": signal.SIGKILL, "SIGSTOP": signal.SIGSTOP}


def _populate(env: dict[str, str], n: int = 150_000) -> None:
    c = world.client(env)
    pipe = c.pipeline(transaction=False)
    for chunk in range(0, n, 5000):
        pipe.mset({f"bulk:{i}": "v" * 20 for i in range(chunk, chunk + 5000)})
    pipe.execute()


def _spawn_cli(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "cmem_ops", *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _is_server(pid: int) -> bool:
    try:
        exe = os.path.basename(os.readlink(f"/proc/{pid}/exe"))
    except OSError:
        return False
    return "valkey" in exe or "redis" in exe


def _first_server(env: dict[str, str], proc: subprocess.Popen[str], timeout: float = 30) -> int:
    """The pid of the first server process `proc` (a `store start`) spawns, as soon as it has exec'd."""
    def spawned() -> int | None:
        # Only once it is the server: between fork and exec the child is still a Python copy of the CLI, and
        # stopping that would stop subprocess.Popen itself (which waits for the exec), not the store.
        found = [pid for pid in servers(env) if _is_server(pid)]
        if found:
            return found[0]
        assert proc.poll() is None, f"start never spawned a server: it exited with {proc.returncode}"
        return None

    # Every 5 ms: the signal must land while start is still waiting for the store to answer.
    return poll(spawned, Deadline.after(timeout), what="`store start` to spawn a store server process",
                interval=0.005, max_interval=0.005)


def _recover(env: dict[str, str], data: dict[str, str]) -> None:
    stop = cli(env, "store", "stop")  # resumes a stopped server, forgets a dead one
    assert stop.returncode == 0, stop.stdout + stop.stderr
    assert servers(env) == []
    start = cli(env, "store", "start")
    assert start.returncode == 0, start.stdout + start.stderr
    assert_settings_name_the_server(env)
    assert_readable(env, data)


@pytest.mark.parametrize("sig", SIGNALS)
def test_signal_while_start_waits_for_the_store(started, sig):
    env = started
    data = write_acked(env, "acked")
    _populate(env)
    assert cli(env, "store", "stop").returncode == 0
    proc = _spawn_cli(env, "store", "start", "--timeout", "4")
    pid = _first_server(env, proc)
    os.kill(pid, SIGNALS[sig])
    out, err = proc.communicate(timeout=60)
    assert "Traceback" not in err, err
    # 0: it was ready before the signal; 1: it died while starting; 6: it stopped answering (start killed it).
    assert proc.returncode in (0, 1, 6), (proc.returncode, out, err)
    if proc.returncode == 1:
        assert "while starting" in err
    if proc.returncode == 6:
        assert "stopped by a signal" in err and servers(env) == [], "start left a server it gave up on"
    _recover(env, data)


@pytest.mark.parametrize("sig", SIGNALS)
def test_signal_before_stop(started, sig):
    env = started
    data = write_acked(env, "acked")
    pid = servers(env)[0]
    os.kill(pid, SIGNALS[sig])
    t0 = time.monotonic()
    stop = cli(env, "store", "stop")
    assert stop.returncode == 0, stop.stdout + stop.stderr
    assert time.monotonic() - t0 < 10
    assert ("not running" in stop.stdout) if sig == "SIGKILL" else ("SIGCONT" in stop.stdout)
    assert servers(env) == []
    _recover(env, data)


@pytest.mark.parametrize("sig", SIGNALS)
def test_signal_while_stop_runs(started, sig):
    env = started
    data = write_acked(env, "acked")
    _populate(env, 50_000)
    pid = servers(env)[0]
    proc = _spawn_cli(env, "store", "stop")
    # The signal lands somewhere in stop's run (once the CLI has opened its first file), wherever it is then.
    poll(lambda: proc.poll() is not None or os.path.exists(f"/proc/{proc.pid}/fd/3"), Deadline.after(10),
         what="`store stop` to open its first file (or exit)", interval=0.005, max_interval=0.005)
    with contextlib.suppress(ProcessLookupError):  # stop may win the race
        os.kill(pid, SIGNALS[sig])
    out, err = proc.communicate(timeout=60)
    assert "Traceback" not in err, err
    assert proc.returncode == 0, (out, err)
    assert servers(env) == [], f"stop returned with the server still there: {out}"
    _recover(env, data)
