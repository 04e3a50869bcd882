"""Benchmark: CLI start-up against floors measured in the same run; exits 1 when a target is missed.

Targets (issue 8), each a ratio of medians:
  `cmem-ops --version`, `cmem-ops <group> --help`   <= 10x  `python -c pass`
  `cmem-ops status --json` (healthy managed store)  <=  3x  a raw-socket PING+INFO+CONFIG GET probe
  `cmem-ops store status`                           <=  4x  the same raw probe (a python subprocess)
  `cmem-ops store start` on a fresh data dir        <=  3x  a raw spawn-to-PONG of the same binary

The CLI is the venv's console script (next to this interpreter), so PYTHONPATH picks the tree.
CI does not run this (timings on shared runners are noise); run it by hand: python bench/cli_startup.py

It also prints, as context (no target), what no Python CLI can cut from `store start`: the interpreter
plus the stdlib modules any store start needs, against the same raw floor. The raw floor is mostly the
server's own fixed start-up (Valkey sleeps ~30 ms calibrating its clock), so when the machine's CPU is
slower than usual the interpreter's share grows and every Python-side ratio with it.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from store_start import raw_start

from cmem_ops.cli.commands import GROUPS
from cmem_ops.context import build_context
from cmem_ops.store.process import select_binary

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "11"))
CLI = str(Path(sys.executable).with_name("cmem-ops"))

# What any Python `store start` imports before it does anything (context line, no target).
STDLIB_FLOOR = "import gc; gc.disable(); import argparse, json, pathlib, socket, subprocess, typing"

# The floor for status: what any status must do at least, from a fresh interpreter, stdlib only.
RAW_PROBE = r"""
import socket, sys
host, port, password = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def cmd(sock, f, *args):
    sock.sendall(b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a.encode()) for a in args))
    line = f.readline()
    if line[:1] == b"$":
        n = int(line[1:])
        return f.read(n + 2) if n >= 0 else None
    if line[:1] == b"*":
        return [cmd_reply(f) for _ in range(int(line[1:]))]
    return line
def cmd_reply(f):
    line = f.readline()
    return f.read(int(line[1:]) + 2) if line[:1] == b"$" else line
s = socket.create_connection((host, port), timeout=1)
f = s.makefile("rb")
if password:
    cmd(s, f, "AUTH", password)
assert cmd(s, f, "PING").startswith(b"+PONG")
info = cmd(s, f, "INFO")
conf = cmd(s, f, "CONFIG", "GET", "maxmemory-policy")
print(len(info), conf)
"""


def timed(argv: Sequence[str], env: dict[str, str], *, ok_codes: tuple[int, ...] = (0,)) -> float:
    """Seconds for one run of argv; fails the benchmark if it exits with another code."""
    t0 = time.perf_counter()
    out = subprocess.run(list(argv), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    elapsed = time.perf_counter() - t0
    if out.returncode not in ok_codes:
        raise SystemExit(f"{' '.join(argv)} exited {out.returncode}: {out.stderr.decode()[-500:]}")
    return elapsed


def paired(floor: Callable[[], float], measured: Callable[[], float], rounds: int = ROUNDS) -> tuple[float, float]:
    """Medians of `floor` and `measured`, run alternately (so load on a shared machine hits both alike),
    after one warm-up call of each (page cache, .pyc)."""
    floor()
    measured()
    pairs = [(floor(), measured()) for _ in range(rounds)]
    return statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)


def fresh_env(root: Path) -> dict[str, str]:
    """A new user's environment under `root` (no inherited claude-mem settings)."""
    # PYTHONDONTWRITEBYTECODE is dropped: an installed package has its .pyc (pip compiles them),
    # so the warm-up run writes them here and the measured runs read them, as a user's would.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CLAUDE_MEM_", "CMEM_OPS_")) and k != "PYTHONDONTWRITEBYTECODE"}
    root.mkdir(parents=True, exist_ok=True)
    env.update(HOME=str(root), CLAUDE_MEM_DATA_DIR=str(root / ".claude-mem"))
    return env


def store_start_round(tmp: Path, counter: list[int]) -> float:
    """`cmem-ops store start` on a fresh data dir (then stopped, untimed)."""
    counter[0] += 1
    env = fresh_env(tmp / f"fresh-{counter[0]}")
    elapsed = timed([CLI, "store", "start"], env)
    subprocess.run([CLI, "store", "stop"], env=env, stdout=subprocess.DEVNULL, check=True)
    return elapsed


def main() -> int:
    results: list[tuple[str, float, float, float]] = []  # (what, floor s, measured s, target ratio)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        env = fresh_env(tmp / "home")
        print(f"cli: {CLI}  rounds: {ROUNDS}")

        def python_pass() -> float:
            return timed([sys.executable, "-c", "pass"], env)

        for argv in [["--version"], *([*g.words, "--help"] for g in GROUPS)]:
            floor, t = paired(python_pass, lambda argv=argv: timed([CLI, *argv], env))  # type: ignore[misc]
            results.append((f"cmem-ops {' '.join(argv)}", floor, t, 10.0))

        subprocess.run([CLI, "store", "start"], env=env, stdout=subprocess.DEVNULL, check=True)
        try:
            target = build_context(env).settings.redis_target()
            assert target is not None
            probe = [sys.executable, "-c", RAW_PROBE, target.host, str(target.port), target.password or ""]
            for argv, goal in ((["status", "--json"], 3.0), (["store", "status"], 4.0)):
                floor, t = paired(lambda: timed(probe, env), lambda argv=argv: timed([CLI, *argv], env))  # type: ignore[misc]
                results.append((f"cmem-ops {' '.join(argv)}", floor, t, goal))
        finally:
            subprocess.run([CLI, "store", "stop"], env=env, stdout=subprocess.DEVNULL, check=False)

        binary = select_binary(build_context(env).paths, build_context(env).runner).path
        counter = [0]
        floor, t = paired(lambda: raw_start(binary, Path(tempfile.mkdtemp(dir=tmp))),
                          lambda: store_start_round(tmp, counter))
        results.append(("cmem-ops store start (fresh data dir)", floor, t, 3.0))
        spawn_floor = floor
        stdlib = statistics.median(timed([sys.executable, "-c", STDLIB_FLOOR], env) for _ in range(ROUNDS))

    floors = {"cmem-ops --version": "python -c pass", "cmem-ops status --json": "raw PING+INFO+CONFIG GET",
              "cmem-ops store status": "raw PING+INFO+CONFIG GET", "cmem-ops store start (fresh data dir)":
              f"raw spawn -> PONG of {binary.name}"}
    missed = 0
    for what, floor, t, goal in results:
        ratio = t / floor
        verdict = "ok" if ratio <= goal else "MISS"
        missed += verdict == "MISS"
        against = floors.get(what, "python -c pass")
        print(f"{what:<38} {t * 1000:7.1f} ms  vs {against:<28} {floor * 1000:7.1f} ms  "
              f"ratio {ratio:5.2f}x  target <= {goal:g}x  {verdict}")
    print(f"context: interpreter + the stdlib store start needs {stdlib * 1000:7.1f} ms = {stdlib / spawn_floor:4.2f}x "
          f"the raw spawn floor (of the 3x it may take)")
    print("all targets met" if not missed else f"{missed} target(s) missed")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
