"""Benchmark: claude-mem's generation throughput per worker count, and queue-size independence of our reads.

1. The native stack (`cmem-ops stack up` in a private data dir) with the loopback LLM double
   (cmem_ops/e2e/fake_llm.py) answering every request after LATENCY_S. For N = 1, 2, 4 workers
   (`cmem-ops worker start --count N`), M = EVENTS_PER_WORKER * N events are posted and the run lasts
   from the first job's creation to the last one's completion (Postgres timestamps). Prints jobs/s and
   the scaling efficiency rate / (N / latency): 1.0 means every worker spends all its time waiting
   on the model. Target: >= 0.8 at N = 4. Also printed: the rate against N times the one-worker rate
   (how well workers scale, apart from claude-mem's own per-job cost) and that per-job cost.
2. With the workers stopped, `cmem-ops doctor --no-smoke --json` and one `cmem-ops metrics` scrape
   (each a fresh CLI process, median of ROUNDS), and the same in process (no interpreter start-up:
   the doctor, one scrape, the queue-health probe alone), with an empty summary lane and with 100,000
   waiting jobs in it (real BullMQ jobs, added with the Python bullmq package). Target: ratio <= 1.5x.

    python bench/throughput.py [RUNTIME_DATA_DIR]   (a data dir holding an installed claude-mem runtime;
                                                     default: $CMEM_OPS_TEST_RUNTIME_DIR, yours, else install)
CI does not run this.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cmem_ops.claudemem.api import ApiClient, build_event
from cmem_ops.context import build_context
from cmem_ops.e2e.fake_llm import FakeLlm
from cmem_ops.e2e.script import prepare_runtime
from cmem_ops.e2e.world import private_env
from cmem_ops.lifecycle import postgres as pg_service
from cmem_ops.metrics.lanes import SUMMARY_QUEUE, queue_prefix, read_lanes
from cmem_ops.paths import Paths
from cmem_ops.probes.queue import probe_queue
from cmem_ops.runner import SubprocessRunner
from cmem_ops.settings import write_settings_keys
from cmem_ops.store_client import open_store
from cmem_ops.wait import Deadline, poll

LATENCY_S = float(os.environ.get("BENCH_LATENCY_S", "0.3"))
EVENTS_PER_WORKER = int(os.environ.get("BENCH_EVENTS_PER_WORKER", "25"))
BACKLOG = int(os.environ.get("BENCH_BACKLOG", "100000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
WORKERS = tuple(int(n) for n in os.environ.get("BENCH_WORKERS", "1,2,4").split(",") if n.strip())
SCRAPES = int(os.environ.get("BENCH_SCRAPES", "20"))

RUN_SQL = """
SELECT count(*) FILTER (WHERE j.status = 'completed'), count(j.id),
       EXTRACT(EPOCH FROM max(j.updated_at) - min(j.created_at))::float8
FROM agent_events e JOIN observation_generation_jobs j ON j.agent_event_id = e.id
WHERE e.payload->>'bench_run' = %s
"""


def cli(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cmem_ops", *args], env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


def must(env: dict[str, str], *args: str, timeout: float = 300) -> str:
    out = cli(env, *args, timeout=timeout)
    if out.returncode != 0:
        sys.exit(f"cmem-ops {' '.join(args)} failed ({out.returncode}): {out.stderr[-800:]}")
    return out.stdout


def run_once(env: dict[str, str], client: ApiClient, project: str, workers: int, database_url: str
             ) -> tuple[float, int]:
    """Post EVENTS_PER_WORKER * workers events; return (jobs/s, jobs completed)."""
    import psycopg

    ctx = build_context(env)
    target = ctx.settings.redis_target()
    assert target is not None
    prefix = queue_prefix(ctx.settings)
    must(env, "worker", "start", "--count", str(workers))

    def live() -> bool:
        with open_store(target) as conn:
            return read_lanes(conn, prefix, time.time() * 1000)[0].workers == workers

    poll(live, Deadline.after(60), what=f"{workers} live workers on the event lane")
    run = uuid.uuid4().hex[:12]
    total = EVENTS_PER_WORKER * workers

    def post(i: int) -> None:
        body = build_event(project, session_id=f"bench-{run}",
                           payload={"bench_run": run, "n": i, "tool_name": "Edit", "tool_response": f"bench {i}"})
        resp = client.post_event(body)
        if resp.status != 201:
            raise RuntimeError(f"POST /v1/events answered {resp.status}: {resp.text[:200]}")

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(post, range(total)))

    def finished() -> tuple[int, int, float] | None:
        with psycopg.connect(database_url, autocommit=True) as conn:
            done, jobs, span = conn.execute(RUN_SQL, (run,)).fetchone() or (0, 0, 0.0)
        return (done, jobs, span) if jobs >= total and done == jobs else None

    done, _jobs, span = poll(finished, Deadline.after(30 + total * LATENCY_S * 3), what=f"{total} jobs to complete",
                             transient=(OSError,))
    return done / span, done


def measure(env: dict[str, str], set_backlog: Callable[[bool], None]) -> dict[str, tuple[float, float]]:
    """(empty, full) medians of the doctor and one scrape, as CLI processes (ROUNDS) and in process (SCRAPES).

    Empty and full alternate round by round (set_backlog moves the waiting list out of the lane and back),
    so both sides see the same machine load.
    """
    from cmem_ops.doctor.suite import DoctorOptions, run_doctor
    from cmem_ops.metrics.exposition import format_exposition
    from cmem_ops.metrics.snapshot import collect

    ctx = build_context(env)
    database_url = pg_service.database_url(ctx)
    actions: dict[str, tuple[Callable[[], object], int]] = {
        "cmem-ops doctor --no-smoke (CLI)": (lambda: cli(env, "doctor", "--no-smoke", "--json", timeout=120), ROUNDS),
        "cmem-ops metrics (CLI, one scrape)": (lambda: cli(env, "metrics", timeout=120), ROUNDS),
        "doctor, in process": (lambda: run_doctor(ctx, DoctorOptions(smoke=False)), ROUNDS),
        "metrics scrape, in process": (lambda: format_exposition(collect(ctx)), SCRAPES),
        "queue health probe, in process": (lambda: probe_queue(ctx, database_url, 5.0), SCRAPES),
    }
    out = {}
    for name, (action, rounds) in actions.items():
        times: dict[bool, list[float]] = {False: [], True: []}
        for _ in range(rounds):
            for full in (False, True):
                set_backlog(full)
                t0 = time.perf_counter()
                action()
                times[full].append(time.perf_counter() - t0)
        out[name] = (statistics.median(times[False]), statistics.median(times[True]))
    return out


def fill_backlog(url: str, prefix: str, n: int) -> float:
    """Add `n` waiting jobs to the summary lane with real BullMQ (add_bulk in chunks); returns seconds taken."""
    import bullmq  # type: ignore[import-untyped]

    async def add() -> None:
        queue = bullmq.Queue(SUMMARY_QUEUE, {"connection": url, "prefix": prefix})
        for start in range(0, n, 2000):
            await queue.addBulk([{"name": "bench", "data": {"i": i}} for i in range(start, min(start + 2000, n))])
        await queue.close()

    t0 = time.perf_counter()
    asyncio.run(add())
    return time.perf_counter() - t0


def main() -> None:
    base = Path(tempfile.mkdtemp(prefix="cmem-ops-bench-tp-"))
    os.chmod(base, 0o711)  # the Postgres user must reach PGDATA when we are root
    home = base / "home"
    data = home / ".claude-mem"
    data.mkdir(parents=True, mode=0o700)
    env = private_env(os.environ, data, home, base / "pg")
    llm = FakeLlm(latency_s=LATENCY_S)
    try:
        runtime_from = Path(sys.argv[1]) if len(sys.argv) > 1 else None
        print(prepare_runtime(Paths(data), runtime_from, env, SubprocessRunner(), print))
        write_settings_keys(Paths(data), llm.worker_settings())
        t0 = time.perf_counter()
        must(env, "stack", "up")
        print(f"stack up: {time.perf_counter() - t0:.1f} s; LLM double latency {LATENCY_S * 1000:.0f} ms, "
              f"{EVENTS_PER_WORKER} events per worker")
        key_file = data / "bench-key"
        created = json.loads(must(env, "server", "api-key", "create", "--scope", "memories:read,memories:write",
                                  "--name", "bench", "--key-file", str(key_file), "--json"))["data"]
        ctx = build_context(env)
        database_url = pg_service.database_url(ctx)
        assert database_url
        client = ApiClient(ctx.settings.get("CLAUDE_MEM_SERVER_URL") or
                           f"http://127.0.0.1:{ctx.settings.get('CLAUDE_MEM_SERVER_PORT')}",
                           key_file.read_text().strip(), timeout=30)
        print(f"{'workers':>7} {'jobs':>5} {'jobs/s':>7} {'ideal':>6} {'efficiency':>10} {'vs 1 worker':>11}")
        efficiency: dict[int, float] = {}
        rates: dict[int, float] = {}
        for workers in WORKERS:
            before = len(llm.requests)
            rate, done = run_once(env, client, created["project_id"], workers, database_url)
            ideal = workers / LATENCY_S
            efficiency[workers] = rate / ideal
            calls = (len(llm.requests) - before) / max(done, 1)
            rates[workers] = rate
            print(f"{workers:>7} {done:>5} {rate:>7.2f} {ideal:>6.2f} {rate / ideal:>10.2f} "
                  f"{rate / (workers * rates.get(1, rate / workers)):>11.2f}   ({calls:.1f} LLM calls per job, "
                  f"{1000 * (workers / rate - LATENCY_S):.0f} ms per job beyond the model's latency)")
        if 4 in efficiency:
            verdict = "ok" if efficiency[4] >= 0.8 else "BELOW TARGET"
            print(f"efficiency at N=4: {efficiency[4]:.2f} (target >= 0.8): {verdict}")

        must(env, "worker", "stop")
        target = ctx.settings.redis_target()
        assert target is not None
        prefix = queue_prefix(ctx.settings)
        seconds = fill_backlog(target.url(), prefix, BACKLOG)
        wait_key = f"{prefix}:{SUMMARY_QUEUE}:wait"
        parked = f"{prefix}:bench-parked-wait"

        def set_backlog(full: bool) -> None:
            """RENAME (O(1)) the waiting list into the lane or out of it; the job hashes stay."""
            with open_store(target) as conn:
                source, dest = (parked, wait_key) if full else (wait_key, parked)
                if conn.command("EXISTS", source) == 1:
                    conn.command("RENAME", source, dest)
                waiting = read_lanes(conn, prefix, time.time() * 1000)[1].waiting
            if waiting != (BACKLOG if full else 0):
                raise RuntimeError(f"the summary lane holds {waiting} waiting jobs, not {BACKLOG if full else 0}")

        set_backlog(True)
        print(f"backlog: {BACKLOG:,} waiting jobs in {SUMMARY_QUEUE} (added in {seconds:.1f} s); empty and full "
              "alternate each round")
        for name, (empty, full) in measure(env, set_backlog).items():
            ratio = full / empty
            print(f"{name:<34} empty {empty * 1000:7.1f} ms   {BACKLOG:,} waiting {full * 1000:7.1f} ms"
                  f"   ratio {ratio:4.2f}x (target <= 1.5x): {'ok' if ratio <= 1.5 else 'ABOVE TARGET'}")
    finally:
        cli(env, "stack", "down", timeout=120)
        llm.close()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
