"""The e2e steps, in order. Each takes the World, returns a one-line detail, or raises StepFailed.

1  stack up from nothing; /healthz; /v1/info (queue manager active, Postgres initialized); doctor clean
2  a full key and a read-only key; POST /v1/events?wait=true completes; its observations readable
3  events posted while the worker is stopped and while the server restarts: after `stack up` each one
   completed exactly once (Postgres rows, BullMQ job state, and requests seen by the LLM test double)
4  the queue store SIGKILLed mid-stream and restarted: nothing lost
5  the read-only key revoked: refused at once (401/403) for reads and writes; the full key still works
+  a worker SIGKILLed mid-job: the doctor names the stuck job; `cmem-ops jobs recover` completes it
6  stack down: no process of ours left, data kept
"""

from __future__ import annotations

import importlib.util
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..pidfile import identify
from ..settings import write_settings_keys
from ..wait import Deadline, poll
from .world import PostedEvent, StepFailed, World, expect

COMPLETE_TIMEOUT_S = 90.0


@dataclass(frozen=True)
class StepDef:
    """A named step and the parts whose logs to show when it fails."""

    name: str
    run: Callable[[World], str]
    parts: tuple[str, ...]


def stack_up(w: World) -> str:
    """`cmem-ops stack up` from nothing (the LLM provider pointed at the test double first)."""
    write_settings_keys(w.paths, w.llm.worker_settings())
    t0 = time.monotonic()
    w.cli("stack", "up", timeout=300)
    elapsed = time.monotonic() - t0
    for part in ("redis", "postgres", "server", "worker-1"):
        record = w.record(part)
        expect(record is not None and identify(record) is not None, f"no live process of ours for {part}")
        assert record is not None
        w.started_pids[part] = record
    return f"{elapsed:.1f} s; server {w.base_url}, prefix {w.prefix}"


def healthz(w: World) -> str:
    resp = w.api().healthz(timeout=5)
    expect(resp.status == 200 and resp.body.get("status") == "ok", f"/healthz answered {resp.status} {resp.text[:80]}")
    return f"200 {resp.text.strip()}"


def info(w: World) -> str:
    resp = w.api().info(timeout=5)
    expect(resp.status == 200, f"/v1/info answered {resp.status}")
    qm = (resp.body.get("boundaries") or {}).get("queueManager") or {}
    pg = resp.body.get("postgres") or {}
    expect(qm.get("status") == "active", f"queue manager is {qm.get('status')}: {qm.get('reason')}")
    expect(bool(pg.get("initialized")), f"Postgres not initialized: {pg}")
    prefix = (qm.get("details") or {}).get("prefix")
    expect(prefix == w.prefix, f"/v1/info prefix {prefix} is not the pinned {w.prefix}")
    return f"queue manager active (bullmq, prefix {prefix}), Postgres schema v{pg.get('schemaVersion')}"


def doctor_clean(w: World) -> str:
    smoke = ["--client", "python"] if importlib.util.find_spec("bullmq") else ["--no-smoke"]
    envelope = w.cli_json("doctor", *smoke, check=False, timeout=60)
    counts = (envelope.get("data") or {}).get("counts") or {}
    failed = [f"{r['name']}: {r['summary']}" for r in (envelope.get("data") or {}).get("results", [])
              if r.get("status") == "fail"]
    expect(envelope.get("ok") is True and not failed, "doctor failed: " + "; ".join(failed))
    return f"{counts.get('ok', 0)} ok, {counts.get('warn', 0)} warn, {counts.get('skip', 0)} skipped, 0 failed"


def api_keys(w: World) -> str:
    keys = w.paths.data_dir / "e2e-keys"
    keys.mkdir(mode=0o700, exist_ok=True)
    full = w.cli_json("server", "api-key", "create", "--scope", "memories:read,memories:write",
                      "--name", "e2e-full", "--key-file", str(keys / "full"))["data"]
    w.full_key, w.full_key_id = (keys / "full").read_text().strip(), full["id"]
    w.team_id, w.project_id = full["team_id"], full["project_id"]
    ro = w.cli_json("server", "api-key", "create", "--scope", "memories:read", "--team", full["team_id"],
                    "--project", full["project_id"], "--name", "e2e-read-only", "--key-file", str(keys / "ro"))["data"]
    w.ro_key, w.ro_key_id = (keys / "ro").read_text().strip(), ro["id"]
    expect(w.full_key.startswith("cmem_") and w.ro_key.startswith("cmem_"), "the keys do not look like cmem_ keys")
    expect(ro["scopes"] == ["memories:read"], f"read-only key has scopes {ro['scopes']}")
    return f"full {full['id']} ({','.join(full['scopes'])}), read-only {ro['id']}"


def event_wait(w: World) -> str:
    body = w.event(0, "wait")
    resp = w.api(w.full_key, timeout=45).post_event(body, wait=True)
    job = resp.body.get("generationJob") or {}
    expect(resp.status == 201 and job.get("status") == "completed",
           f"POST /v1/events?wait=true answered {resp.status}, job {job.get('status')}: {resp.text[:160]}")
    event_id = resp.body["event"]["id"]
    obs = w.api(w.ro_key).observations(event_id)
    found = obs.body.get("observations") or []
    expect(obs.status == 200 and len(found) >= 1,
           f"observations of {event_id} with the read-only key: {obs.status}, {len(found)} found")
    w.events["wait"] = [PostedEvent(str(body["payload"]["e2e_id"]), event_id, job.get("id"), job.get("bullmqJobId"),
                                    201)]
    return (f"job {job.get('id')} completed in {resp.elapsed_ms:.0f} ms; {len(found)} observation(s) read with the "
            "read-only key")


def worker_stopped(w: World) -> str:
    w.cli("worker", "stop")
    status = w.cli_json("server", "status", check=False)
    data = status.get("data") or {}
    server = w.started_pids["server"]
    expect(status.get("ok") is True and bool(data.get("running")) and data.get("pid") == server.pid,
           f"after `worker stop`, `server status` says {data.get('running')} pid {data.get('pid')} "
           f"(expected running pid {server.pid})")
    for n in range(5):
        posted = w.post("worker-stopped", n)
        expect(posted.status == 201, f"event {n} answered {posted.status}")
    note = "claude-mem's pid file deleted by the worker stop" if data.get("claude_mem_pidfile") == "missing" else ""
    return f"server status still right (pid {server.pid}{'; ' + note if note else ''}); 5 events accepted, queued"


def server_restart(w: World) -> str:
    """Post events back to back while `server restart` runs, so some land in the window with no server."""
    results: list[PostedEvent] = []
    errors: list[str] = []
    restarting = threading.Event()
    restarting.set()

    def poster() -> None:
        n = 0
        while restarting.is_set() or n < 10:
            try:
                results.append(w.post("restart", n, request_timeout=10))
            except StepFailed as exc:
                errors.append(str(exc))
            n += 1
            time.sleep(0.02)  # pacing between posts, not a wait for a condition

    thread = threading.Thread(target=poster, name="e2e-poster")
    thread.start()
    try:
        w.cli("server", "restart")
    finally:
        restarting.clear()
        thread.join(timeout=120)
    expect(not errors, "; ".join(errors[:3]))
    refused = sum(p.attempts - 1 for p in results)
    expect(refused > 0, f"none of the {len(results)} events met the restart's downtime (no refused connection)")
    record = w.record("server")
    expect(record is not None and identify(record) is not None, "no live server after restart")
    assert record is not None
    w.started_pids["server"] = record
    return (f"{len(results)} events accepted across the restart ({refused} refused connection(s) re-posted); "
            f"new pid {record.pid}")


def check_exactly_once(w: World, groups: tuple[str, ...]) -> tuple[int, list[str]]:
    """Every event of `groups`: one job, completed, 1 attempt, 1 observation; in BullMQ completed once;
    one request to the LLM double. Returns (events checked, problems)."""
    ids = [p.e2e_id for g in groups for p in w.events.get(g, [])]
    rows = w.wait_completed(ids, COMPLETE_TIMEOUT_S)
    by_event: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_event.setdefault(row["e2e_id"], []).append(row)
    counts = w.llm.job_counts()
    problems = []
    for sid in ids:
        jobs = [r for r in by_event.get(sid, []) if r["job_id"]]
        if len(jobs) != 1:
            problems.append(f"{sid}: {len(jobs)} jobs in Postgres")
            continue
        job = jobs[0]
        if job["status"] != "completed" or job["attempts"] != 1 or job["observations"] != 1:
            problems.append(f"{sid}: job {job['status']}, {job['attempts']} attempts, {job['observations']} obs")
            continue
        bull = w.bullmq_job(str(job["bullmq_job_id"]))
        if not bull["completed"] or bull["attempts_made"] != 1 or bull["attempts_started"] != 1:
            problems.append(f"{sid}: BullMQ completed={bull['completed']} attempts {bull['attempts_made']}/"
                            f"{bull['attempts_started']}")
        if counts.get(str(job["job_id"]), 0) != 1:
            problems.append(f"{sid}: the LLM double saw {counts.get(str(job['job_id']), 0)} requests")
    return len(ids), problems


def stack_up_again(w: World) -> str:
    w.cli("stack", "up")
    record = w.record("worker-1")
    expect(record is not None and identify(record) is not None, "no worker after stack up")
    checked, problems = check_exactly_once(w, ("worker-stopped", "restart"))
    expect(not problems, f"{len(problems)} of {checked} not completed exactly once: " + "; ".join(problems[:4]))
    return (f"{checked} events: each 1 job, completed, 1 attempt, 1 observation (Postgres); completed once "
            "(BullMQ); 1 LLM request each")


def store_killed(w: World) -> str:
    store = w.record("redis")
    expect(store is not None and identify(store) is not None, "the managed store is not running")
    assert store is not None
    posted: list[PostedEvent] = []
    errors: list[str] = []
    killed = threading.Event()

    def poster() -> None:
        for n in range(20):
            try:
                posted.append(w.post("store-killed", n, deadline_s=120, request_timeout=60))
            except StepFailed as exc:
                errors.append(str(exc))
            if n == 5:
                killed.wait(10)

    thread = threading.Thread(target=poster, name="e2e-poster")
    thread.start()
    poll(lambda: len(posted) >= 5 or not thread.is_alive(), Deadline.after(120),
         what="5 events to be accepted before the store is killed")
    os.kill(store.pid, signal.SIGKILL)
    killed.set()
    poll(lambda: identify(store) is None, Deadline.after(10), what=f"the killed store (pid {store.pid}) to be gone")
    t0 = time.monotonic()
    w.cli("store", "start")
    restarted = time.monotonic() - t0
    thread.join(timeout=180)
    expect(not errors, "; ".join(errors[:3]))
    expect(len(posted) == 20, f"{len(posted)} of 20 events accepted")
    ids = [p.e2e_id for p in posted]
    rows = w.wait_completed(ids, COMPLETE_TIMEOUT_S)
    done = {r["e2e_id"] for r in rows if r["status"] == "completed" and r["observations"] >= 1}
    lost = [i for i in ids if i not in done]
    statuses = sorted({f"{r['e2e_id']}={r['status']}" for r in rows if r["e2e_id"] in lost})
    expect(not lost, f"{len(lost)} of 20 events not completed: {', '.join(statuses[:5])}")
    attempts = sorted({int(r["attempts"]) for r in rows})
    new_store = w.record("redis")
    if new_store is not None:
        w.started_pids["redis"] = new_store
    return (f"store pid {store.pid} SIGKILLed after 5 events, restarted in {restarted:.1f} s; 20/20 events completed "
            f"with observations (attempts seen: {attempts})")


def revoke(w: World) -> str:
    assert w.ro_key_id is not None
    before = w.api(w.ro_key).get("/v1/jobs?limit=1")
    expect(before.status == 200, f"the read-only key could not read before the revoke: {before.status}")
    w.cli("server", "api-key", "revoke", w.ro_key_id)
    read = w.api(w.ro_key).get("/v1/jobs?limit=1")
    write = w.api(w.ro_key).post_event(w.event(0, "revoked"))
    expect(read.status in (401, 403), f"read with the revoked key answered {read.status}")
    expect(write.status in (401, 403), f"write with the revoked key answered {write.status}")
    full_read = w.api(w.full_key).get("/v1/jobs?limit=1")
    full_write = w.api(w.full_key).post("/v1/events?generate=false", w.event(1, "after-revoke"))
    expect(full_read.status == 200 and full_write.status == 201,
           f"the full key got {full_read.status} (read) / {full_write.status} (write)")
    return f"revoked key: read {read.status}, write {write.status}; full key: read 200, write 201"


def worker_killed(w: World) -> str:
    w.llm.hold()
    try:
        posted = w.post("worker-killed", 0)
        expect(w.llm.holding.wait(30), "the worker never called the LLM double")
        worker = w.record("worker-1")
        expect(worker is not None and identify(worker) is not None, "no worker of ours to kill")
        assert worker is not None
        os.kill(worker.pid, signal.SIGKILL)
        poll(lambda: identify(worker) is None, Deadline.after(10),
             what=f"the killed worker (pid {worker.pid}) to be gone")
    finally:
        w.llm.release()
    doctor = w.cli_json("doctor", "--only", "server", "--no-smoke", check=False, timeout=60)
    stuck = [r for r in (doctor.get("data") or {}).get("results", []) if r.get("name") == "stuck jobs"]
    expect(bool(stuck) and stuck[0]["status"] == "warn" and posted.job_id in stuck[0]["summary"],
           f"the doctor did not report job {posted.job_id} stuck: {stuck[0]['summary'] if stuck else 'no line'}")
    w.cli("worker", "start")
    record = w.record("worker-1")
    if record is not None:
        w.started_pids["worker-1"] = record
    report = w.cli_json("jobs", "recover")
    outcomes = (report.get("data") or {}).get("outcomes") or []
    expect(report.get("ok") is True and len(outcomes) == 1 and outcomes[0]["final_status"] == "completed",
           f"jobs recover: {outcomes}")
    rows = w.job_rows([posted.e2e_id])
    expect(bool(rows) and rows[0]["status"] == "completed" and rows[0]["observations"] >= 1,
           f"after recovery the job is {rows[0]['status'] if rows else 'missing'}")
    lock = "lock deleted, " if outcomes[0]["lock_deleted"] else ""
    return f"doctor: stuck job {posted.job_id}; jobs recover: {lock}cancel+retry -> completed"


def stack_down(w: World) -> str:
    records = {name: w.record(name) for name in ("redis", "postgres", "server", "worker-1")}
    w.cli("stack", "down")
    alive = [f"{name} pid {r.pid}" for name, r in {**w.started_pids, **records}.items()
             if r is not None and identify(r) is not None]
    expect(not alive, "still running after stack down: " + ", ".join(alive))
    redis_data = w.paths.redis_data
    expect(redis_data.is_dir() and any(redis_data.iterdir()), f"no queue-store data kept in {redis_data}")
    status = w.cli("stack", "status", check=False)
    expect(status.returncode == 7, f"`stack status` after down exited {status.returncode}")
    return f"no process of ours left ({len(records)} parts stopped); data kept; stack status exit 7"


STEPS: tuple[StepDef, ...] = (
    StepDef("stack up from nothing", stack_up, ("redis", "postgres", "server", "worker", "claude-mem")),
    StepDef("/healthz", healthz, ("server", "claude-mem")),
    StepDef("/v1/info", info, ("server", "claude-mem")),
    StepDef("doctor clean", doctor_clean, ("server", "worker", "claude-mem")),
    StepDef("full and read-only API keys", api_keys, ("claude-mem",)),
    StepDef("POST /v1/events?wait=true completes, observations readable", event_wait, ("worker", "claude-mem")),
    StepDef("events queued while the worker is stopped", worker_stopped, ("server", "claude-mem")),
    StepDef("events posted while the server restarts", server_restart, ("server", "claude-mem")),
    StepDef("stack up again: every event completed exactly once", stack_up_again, ("worker", "claude-mem")),
    StepDef("queue store SIGKILLed mid-stream: nothing lost", store_killed, ("redis", "server", "worker",
                                                                              "claude-mem")),
    StepDef("read-only key revoked: refused at once", revoke, ("server", "claude-mem")),
    StepDef("worker SIGKILLed mid-job: doctor finds it, jobs recover", worker_killed, ("worker", "claude-mem")),
    StepDef("stack down: nothing of ours left, data kept", stack_down, ("redis", "postgres", "server", "worker")),
)
