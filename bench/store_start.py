"""Benchmark: `cmem-ops store start` against a raw start->PONG of the same binary, in the same run.

Prints medians and the ratio. The floor (raw) spawns the server binary with an equivalent config and
polls PING on a socket; the measured path is the CLI a user runs (process start, settings, discovery,
config, supervision) and the service call alone (no interpreter start).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cmem_ops.context import build_context
from cmem_ops.lifecycle import store as store_service
from cmem_ops.redis_url import RedisTarget
from cmem_ops.store.ports import choose_port, port_is_free
from cmem_ops.store.process import select_binary
from cmem_ops.store_client import open_store

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "7"))


def raw_start(binary: Path, workdir: Path) -> float:
    port = choose_port(port_is_free)
    t0 = time.perf_counter()
    proc = subprocess.Popen([str(binary), "--port", str(port), "--bind", "127.0.0.1", "--dir", str(workdir),
                             "--appendonly", "yes", "--appendfsync", "everysec", "--save", "60 1",
                             "--requirepass", "pw"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    target = RedisTarget("127.0.0.1", port, password="pw")
    while True:
        try:
            with open_store(target, 0.5) as conn:
                conn.command("PING")
            break
        except OSError:
            time.sleep(0.005)
    elapsed = time.perf_counter() - t0
    proc.kill()
    proc.wait()
    return elapsed


def cli_start(env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "cmem_ops", "store", "start"], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    elapsed = time.perf_counter() - t0
    subprocess.run([sys.executable, "-m", "cmem_ops", "store", "stop"], env=env, check=True, stdout=subprocess.DEVNULL)
    return elapsed


def service_start(env: dict[str, str]) -> float:
    ctx = build_context(env)
    t0 = time.perf_counter()
    store_service.start(ctx)
    elapsed = time.perf_counter() - t0
    store_service.stop(ctx.reload())
    return elapsed


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "HOME": tmp, "CLAUDE_MEM_DATA_DIR": f"{tmp}/.claude-mem"}
        binary = select_binary(build_context(env).paths, build_context(env).runner).path
        print(f"binary: {binary}  rounds: {ROUNDS}")
        raw = statistics.median(raw_start(binary, Path(tempfile.mkdtemp(dir=tmp))) for _ in range(ROUNDS))
        svc = statistics.median(service_start(env) for _ in range(ROUNDS))
        cli = statistics.median(cli_start(env) for _ in range(ROUNDS))
    print(f"floor  raw spawn -> PONG          {raw * 1000:8.1f} ms")
    print(f"store  service start -> PONG      {svc * 1000:8.1f} ms   ratio {svc / raw:5.2f}x")
    print(f"store  `cmem-ops store start`     {cli * 1000:8.1f} ms   ratio {cli / raw:5.2f}x")


if __name__ == "__main__":
    main()
