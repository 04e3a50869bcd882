"""Benchmark: `cmem-ops stack up --docker` against `docker compose up -d --wait` of the same file.

Same private data dir, same compose project, images present. Times the first `stack up --docker`
(empty volumes: Postgres initialises), then per round a warm one (`stack down --docker` between,
volumes kept) and a warm `docker compose -f compose/stack.yml -p <project> up -d --wait` with the same
variables. Prints medians and the ratio cmem-ops/compose (target: 1.2x at most); exits 1 on a miss.

    python bench/docker_stack_up.py          (BENCH_ROUNDS, default 3)
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cmem_ops.containers.compose_argv import build_base_argv
from cmem_ops.context import build_context
from cmem_ops.e2e.docker_world import engine_images
from cmem_ops.lifecycle import docker_stack_config as cfg
from cmem_ops.lifecycle.docker_stack_project import compose_for, read_state
from cmem_ops.runner import build_env

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
TARGET = 1.2


def cli(env: dict[str, str], *args: str) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "cmem_ops", *args], env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=600)
    return time.perf_counter() - t0


def main() -> None:
    base = Path(tempfile.mkdtemp(prefix="cmem-ops-bench-docker-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLAUDE_MEM_", "CMEM_STACK_"))}
    env["CLAUDE_MEM_DATA_DIR"] = str(base / "data")
    ratio = float("inf")
    try:
        first = cli(env, "stack", "up", "--docker")
        ctx = build_context(env)
        state = read_state(ctx)
        assert state is not None
        compose = compose_for(ctx, state, cfg.choose_images({}, engine_images()))
        direct_argv = [*build_base_argv(compose.project), "up", "-d", "--wait", "--wait-timeout", "300"]
        ours, direct = [], []
        for _ in range(ROUNDS):
            cli(env, "stack", "down", "--docker")
            ours.append(cli(env, "stack", "up", "--docker"))
            cli(env, "stack", "down", "--docker")
            t0 = time.perf_counter()
            subprocess.run(direct_argv, env=build_env(compose.env, base=env), check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=600)
            direct.append(time.perf_counter() - t0)
        ratio = statistics.median(ours) / statistics.median(direct)
        print(f"first stack up --docker (empty volumes): {first:.2f} s")
        print(f"warm stack up --docker: median {statistics.median(ours):.2f} s over {ROUNDS}")
        print(f"warm docker compose up -d --wait: median {statistics.median(direct):.2f} s over {ROUNDS}")
        print(f"ratio cmem-ops/compose: {ratio:.2f}x (target <= {TARGET}x): {'ok' if ratio <= TARGET else 'MISS'}")
    finally:
        subprocess.run([sys.executable, "-m", "cmem_ops", "stack", "down", "--docker", "--purge-data"], env=env,
                       check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600)
        shutil.rmtree(base, ignore_errors=True)
    sys.exit(0 if ratio <= TARGET else 1)


if __name__ == "__main__":
    main()
