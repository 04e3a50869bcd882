"""Benchmarks for the probe suite, each against a floor measured in the same run.

1. `cmem-ops status --json` (a fresh process) against a fresh Python process doing a raw-socket
   AUTH + PING + INFO + CONFIG GET on the same store. Target: within 4x.
2. The full doctor (every group, with the BullMQ smoke) against the smoke alone, both run in-process
   through the same code (`run_doctor` vs `probe_bullmq`): what all the other checks add on top of
   the smoke. Target: within 1.3x.
3. For information: `cmem-ops doctor --only store` as a fresh process against `node smoke.mjs` run
   directly; the difference is Python's start-up and imports (~0.1-0.15 s), which the doctor pays once.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cmem_ops.context import build_context
from cmem_ops.doctor.suite import DoctorOptions, run_doctor
from cmem_ops.probes.bullmq import probe_bullmq
from cmem_ops.probes.bullmq_node import prepare_node_smoke
from cmem_ops.probes.redis_conn import StoreHints

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "9"))

RAW = r"""
import socket, sys
host, port, pw = "127.0.0.1", int(sys.argv[1]), sys.argv[2]
def cmd(*a):
    return b"*%d\r\n" % len(a) + b"".join(b"$%d\r\n%s\r\n" % (len(x), x) for x in (s.encode() for s in a))
s = socket.create_connection((host, port), timeout=2)
s.sendall(cmd("AUTH", pw) + cmd("PING") + cmd("INFO") + cmd("CONFIG", "GET", "maxmemory-policy") +
          cmd("CONFIG", "GET", "appendonly") + cmd("CONFIG", "GET", "appendfsync"))
buf = b""
while buf.count(b"\r\n") < 12 or not buf.endswith(b"\r\n"):
    buf += s.recv(65536)
"""


def timed(argv: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "HOME": tmp, "CLAUDE_MEM_DATA_DIR": f"{tmp}/.claude-mem"}
        cli = [sys.executable, "-m", "cmem_ops"]
        subprocess.run([*cli, "store", "start"], env=env, check=True, stdout=subprocess.DEVNULL)
        try:
            settings = json.loads(Path(env["CLAUDE_MEM_DATA_DIR"], "settings.json").read_text())
            port = settings["CLAUDE_MEM_REDIS_PORT"]
            password = settings["CLAUDE_MEM_REDIS_URL"].split(":")[2].split("@")[0]
            raw = statistics.median(timed([sys.executable, "-c", RAW, port, password], env) for _ in range(ROUNDS))
            status = statistics.median(timed([*cli, "status", "--json"], env) for _ in range(ROUNDS))
            print(f"floor   raw socket AUTH+PING+INFO+CONFIG GET (python -c)  {raw * 1000:7.1f} ms")
            print(f"status  cmem-ops status --json                           {status * 1000:7.1f} ms   "
                  f"ratio {status / raw:4.2f}x (target <= 4x)")

            ctx = build_context(env)
            workdir = prepare_node_smoke(ctx.paths.cache_dir, 300)
            url = settings["CLAUDE_MEM_REDIS_URL"]
            smoke_env = {**env, "CMEM_OPS_SMOKE_URL": url}
            smoke_argv = ["node", str(workdir / "smoke.mjs"), "--prefix", "cmemops_smoke_bench", "--mode", "roundtrip",
                          "--queue", "bench", "--timeout-ms", "10000"]
            target = ctx.settings.redis_target()
            assert target is not None
            hints = StoreHints.for_mode("managed", target)
            options = DoctorOptions(timeout=30)

            def smoke_alone() -> float:
                t0 = time.perf_counter()
                result = probe_bullmq(target, "bench", hints, 30, ctx.paths.cache_dir)
                assert result.status.value == "ok", result.summary
                return time.perf_counter() - t0

            def full_doctor() -> float:
                t0 = time.perf_counter()
                report = run_doctor(ctx, options)
                assert report.exit_code == 0, [r.summary for r in report.results if r.status.value == "fail"]
                return time.perf_counter() - t0

            smoke_in = statistics.median(smoke_alone() for _ in range(ROUNDS))
            doctor_in = statistics.median(full_doctor() for _ in range(ROUNDS))
            print(f"floor   BullMQ smoke probe alone (in-process)              {smoke_in * 1000:7.1f} ms")
            print(f"doctor  full doctor, all groups + smoke (in-process)       {doctor_in * 1000:7.1f} ms   "
                  f"ratio {doctor_in / smoke_in:4.2f}x (target <= 1.3x)")

            smoke = statistics.median(timed(smoke_argv, smoke_env) for _ in range(ROUNDS))
            doctor = statistics.median(timed([*cli, "doctor", "--only", "store"], env) for _ in range(ROUNDS))
            print(f"info    node smoke.mjs run directly (fresh process)        {smoke * 1000:7.1f} ms")
            print(f"info    cmem-ops doctor --only store (fresh process)       {doctor * 1000:7.1f} ms   "
                  f"ratio {doctor / smoke:4.2f}x (Python start-up included)")
        finally:
            subprocess.run([*cli, "store", "stop"], env=env, stdout=subprocess.DEVNULL)


if __name__ == "__main__":
    main()
