"""Benchmark: `cmem-ops stack up` from stopped (runtime installed) against the sum of its parts' own starts.

Same run, same private data dir: each round times `store start` + `postgres start` + `server start` +
`worker start` one after the other (the sum of the parts, each a CLI call as a user would make it),
then `stack up` alone (one CLI call), stopping everything between. The service calls (no interpreter
start) are timed the same way. Prints medians and the ratio stack/sum.

    python bench/stack_up.py [RUNTIME_DATA_DIR]      (default: $CMEM_OPS_TEST_RUNTIME_DIR, then yours)
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cmem_ops.context import build_context
from cmem_ops.lifecycle import postgres as pg_service
from cmem_ops.lifecycle import server as server_service
from cmem_ops.lifecycle import stack as stack_service
from cmem_ops.lifecycle import store as store_service
from cmem_ops.lifecycle import worker as worker_service
from cmem_ops.paths import Paths
from cmem_ops.runtime.locate import find_runtime, runtime_base

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))


def cli(env: dict[str, str], *args: str) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "cmem_ops", *args], env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=300)
    return time.perf_counter() - t0


def timed(action: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    action()
    return time.perf_counter() - t0


def down(env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "-m", "cmem_ops", "stack", "down"], env=env, check=True,
                   stdout=subprocess.DEVNULL, timeout=300)


def main() -> None:
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(
        os.environ.get("CMEM_OPS_TEST_RUNTIME_DIR") or Paths.from_env().data_dir)
    if find_runtime(Paths(source)) is None:
        sys.exit(f"no claude-mem runtime under {source}: cmem-ops server install (or pass a data dir that has one)")
    base = Path(tempfile.mkdtemp(prefix="cmem-ops-bench-"))
    os.chmod(base, 0o711)  # the Postgres user must reach PGDATA when we are root
    data = base / "home" / ".claude-mem"
    (data / "runtime").mkdir(parents=True)
    os.symlink(runtime_base(Paths(source)).resolve(), runtime_base(Paths(data)), target_is_directory=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLAUDE_MEM_", "CMEM_OPS_"))}
    env.update(HOME=str(base / "home"), CLAUDE_MEM_DATA_DIR=str(data), CMEM_OPS_POSTGRES_ROOT=str(base / "pg"))
    try:
        first = cli(env, "stack", "up")  # first start: initdb, createdb, schema
        down(env)
        print(f"runtime: {find_runtime(Paths(data))}\nfirst stack up (initdb, schema): {first * 1000:.0f} ms; "
              f"rounds: {ROUNDS}")
        parts: dict[str, list[float]] = {"store": [], "postgres": [], "server": [], "worker": []}
        sums, whole, svc_sums, svc_whole = [], [], [], []
        for _ in range(ROUNDS):
            times = [cli(env, "store", "start"), cli(env, "postgres", "start"), cli(env, "server", "start"),
                     cli(env, "worker", "start")]
            for name, value in zip(parts, times, strict=True):
                parts[name].append(value)
            sums.append(sum(times))
            down(env)
            whole.append(cli(env, "stack", "up"))
            down(env)
            svc = [timed(lambda: store_service.start(build_context(env))),
                   timed(lambda: pg_service.start(build_context(env))),
                   timed(lambda: server_service.start(build_context(env))),
                   timed(lambda: worker_service.start(build_context(env)))]
            svc_sums.append(sum(svc))
            down(env)
            svc_whole.append(timed(lambda: stack_service.up(build_context(env))))
            down(env)
        med = statistics.median
        for name, values in parts.items():
            print(f"  part  `cmem-ops {name} start`{'':<{9 - len(name)}} {med(values) * 1000:8.0f} ms")
        print(f"sum of the parts (4 CLI calls)        {med(sums) * 1000:8.0f} ms")
        print(f"`cmem-ops stack up` (1 CLI call)      {med(whole) * 1000:8.0f} ms   "
              f"ratio {med(whole) / med(sums):5.2f}x")
        print(f"sum of the parts (service calls)      {med(svc_sums) * 1000:8.0f} ms")
        print(f"stack.up (service call)               {med(svc_whole) * 1000:8.0f} ms   "
              f"ratio {med(svc_whole) / med(svc_sums):5.2f}x")
    finally:
        subprocess.run([sys.executable, "-m", "cmem_ops", "stack", "down"], env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=300, check=False)
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
