"""The docker e2e crash steps: a main process SIGKILLed from the host, restarted by its policy, nothing lost.

Each takes the DockerWorld and returns a one-line detail, or raises StepFailed.
"""

from __future__ import annotations

import os
import signal
import threading
import uuid

from ..claudemem.api import build_event
from ..containers.engine import Engine
from ..errors import OpsError
from ..jobs.stuck import LOCK_DURATION_S, Verdict
from ..lifecycle import docker_stack_config as cfg
from ..lifecycle.docker_stack_project import read_state
from ..lifecycle.docker_stack_ready import wait_ready
from ..probes.base import Status
from ..wait import Deadline, poll
from .docker_world import (
    COMPLETE_TIMEOUT_S,
    DockerWorld,
    complete_with_recovery,
    crash_main_process,
    expect_each_once,
    job_rows,
    llm_control,
    llm_stats,
    post_accepted,
    psql_value,
)
from .world import StepFailed, expect


def step_worker_crash(w: DockerWorld) -> str:
    engine = Engine.connect()
    try:
        name = f"{read_state(w.ctx).project}-{cfg.WORKER}-1"  # type: ignore[union-attr]
        before = engine.container(name)
        expect(before is not None and before.running and before.pid > 0, f"{name} is not running")
        assert before is not None
        os.kill(before.pid, signal.SIGKILL)  # the container's main process, as a crash or the OOM killer would
        jobs = [w.post("crash") for _ in range(3)]

        def restarted() -> bool:
            info = engine.container(name)
            return info is not None and info.running and info.restart_count > before.restart_count

        poll(restarted, Deadline.after(60), what=f"{name} to be restarted by its policy", interval=0.2)
        after = engine.container(name)
        assert after is not None
    finally:
        engine.close()
    w.wait_completed(jobs)
    return f"pid {before.pid} SIGKILLed; restart count {before.restart_count} -> {after.restart_count}; " \
           f"{len(jobs)} events completed"


def step_worker_killed_mid_job(w: DockerWorld) -> str:
    """A worker's main process SIGKILLed while its job waits on the LLM: `jobs stuck` finds it, `jobs recover`
    (lock DEL, cancel, retry, all inside the compose network) completes it with one observation."""
    from ..jobs import recover as jobs

    project = read_state(w.ctx).project  # type: ignore[union-attr]
    one = f"{project}-{cfg.WORKER}-1"
    others = [f"{project}-{cfg.WORKER}-{i}" for i in range(2, w.workers + 1)]
    engine = Engine.connect()
    try:
        # One worker only: every worker runs the bundle as pid 1, so a dead holder is proven by the
        # start times of the running workers (jobs/docker_stack.py), which a worker untouched cannot pass.
        for name in others:
            engine.stop(name, timeout=60)
        llm_control(w, "hold")
        try:
            job = w.post("mid-job")

            def processing_and_held() -> bool:
                return (int(llm_stats(w).get("held") or 0) >= 1
                        and job_rows(w, [job]).get(job, ("", 0))[0] == "processing")

            poll(processing_and_held, Deadline.after(60), what="the job to be processing with its LLM call held",
                 interval=0.2, max_interval=1.0)
            before = engine.container(one)
            expect(before is not None and before.running and before.pid > 0, f"{one} is not running")
            assert before is not None
            os.kill(before.pid, signal.SIGKILL)

            def restarted() -> bool:
                info = engine.container(one)
                return info is not None and info.running and info.restart_count > before.restart_count

            poll(restarted, Deadline.after(60), what=f"{one} to be restarted by its policy", interval=0.2)
        finally:
            llm_control(w, "release")
        found = jobs.detect(w.ctx, docker=True, min_age_s=0)
        mine = [s for s in found.jobs if s.job.id == job]
        expect(bool(mine) and mine[0].verdict is Verdict.STUCK and mine[0].delete_lock,
               f"jobs stuck --docker: {[(s.job.id, s.verdict.value, s.reason) for s in mine] or 'job not processing'}")
        from ..probes.docker_stack import stuck_jobs_probe

        probe = stuck_jobs_probe(w.ctx, 10.0)  # the doctor's `stuck jobs` with CLAUDE_MEM_STACK=docker
        expect(probe.status is Status.WARN and job in (probe.data.get("stuck") or []),
               f"doctor's stuck jobs: {probe.status.value} {probe.summary}")
        report = jobs.recover(w.ctx, docker=True, wait_s=60, min_age_s=0)
    finally:
        for name in others:
            engine.start(name)
        engine.close()
    outcome = [o for o in report.outcomes if o.job_id == job]
    expect(bool(outcome) and outcome[0].lock_deleted and outcome[0].ok and outcome[0].final_status == "completed",
           f"jobs recover --docker: {outcome or report.outcomes}")
    observations = int(psql_value(w, f"select count(*) from observations where created_by_job_id = '{job}'"))
    status = job_rows(w, [job]).get(job)
    expect(observations == 1 and status is not None and status[0] == "completed",
           f"job {job}: {status}, {observations} observations (want completed, exactly 1)")
    return (f"pid {before.pid} SIGKILLed with job {job} processing (its LLM call held); jobs stuck and doctor: stuck, "
            f"lock held by a dead worker; jobs recover: lock deleted, cancel {outcome[0].cancel_status}, "
            f"retry {outcome[0].retry_status}, completed with 1 observation")


def step_store_crash(w: DockerWorld) -> str:
    """The store's main process SIGKILLed while events stream in: the policy restarts it, nothing is lost."""
    engine = Engine.connect()
    name = f"{read_state(w.ctx).project}-valkey-1"  # type: ignore[union-attr]
    jobs: list[str] = []
    errors: list[str] = []
    try:
        before = engine.container(name)
        expect(before is not None and before.running and before.pid > 0, f"{name} is not running")
        assert before is not None
        jobs += [w.post("store-crash") for _ in range(5)]
        os.kill(before.pid, signal.SIGKILL)
        for _ in range(5):  # while the store is down or loading its AOF: the server holds the request
            try:
                jobs.append(w.api(timeout=60).post_event(build_event(
                    w.project_id, payload={"e2e_id": f"store-crash-{uuid.uuid4().hex[:8]}"})).body
                    .get("generationJob", {}).get("id"))
            except OpsError as exc:
                errors.append(exc.message)

        def restarted() -> bool:
            info = engine.container(name)
            return info is not None and info.running and info.restart_count > before.restart_count

        poll(restarted, Deadline.after(60), what=f"{name} to be restarted by its policy", interval=0.2)
    finally:
        engine.close()
    expect(not errors, "; ".join(errors[:3]))
    w.wait_completed([j for j in jobs if j])
    expect(len([j for j in jobs if j]) == 10, f"{len([j for j in jobs if j])} of 10 events accepted")
    return f"valkey pid {before.pid} SIGKILLed after 5 events; restarted by its policy; 10/10 events completed"


def step_postgres_crash(w: DockerWorld) -> str:
    """Postgres' main process SIGKILLed between events: restarted by its policy (crash recovery from its
    WAL). claude-mem's server and workers die with it (an unhandled pg connection error) and their policy
    restarts them; a job a dying worker held stays `processing` (claude-mem defect 5), so `jobs recover
    --docker` runs until every event accepted before, during and after completes with one observation
    (when a worker survived the crash, only after the dead one's BullMQ lock expired)."""
    jobs = [w.post("pg-crash") for _ in range(4)]
    pid, count, during = crash_main_process(w, "postgres", lambda: [post_accepted(w, "pg-crash") for _ in range(4)])
    jobs += during
    wait_ready(w.compose(), "postgres", 1, Deadline.after(60), healthy=True)
    wait_ready(w.compose(), cfg.SERVER, 1, Deadline.after(90), healthy=True)
    jobs += [post_accepted(w, "pg-crash") for _ in range(2)]
    # A worker whose pool held no connection survives the crash. Then the dead worker's lock cannot be
    # proven dead (every worker container has the same pids, and one started before the lock), so
    # `jobs recover` rightly waits for it to expire: up to claude-mem's BullMQ lockDuration.
    retried = complete_with_recovery(w, jobs, timeout=LOCK_DURATION_S + COMPLETE_TIMEOUT_S)
    expect_each_once(w, jobs)
    return (f"postgres pid {pid} SIGKILLed after 4 events; restart count {count}; {len(jobs)} events "
            f"(4 before, 4 while it restarted, 2 after) completed, 1 observation each ({retried} by jobs recover)")


def step_server_crash(w: DockerWorld) -> str:
    """The server's main process SIGKILLed while a client streams events: the policy restarts it, every
    event it acknowledged completes with one observation (an unanswered one is posted again)."""
    jobs: list[str] = []
    errors: list[str] = []
    three = threading.Event()

    def stream() -> None:
        try:
            for _ in range(12):
                jobs.append(post_accepted(w, "server-crash"))
                if len(jobs) >= 3:
                    three.set()
        except (OpsError, StepFailed) as exc:
            errors.append(str(exc))
        finally:
            three.set()

    streamer = threading.Thread(target=stream, name="e2e-stream", daemon=True)
    streamer.start()
    three.wait(60)
    pid, count, _ = crash_main_process(w, cfg.SERVER, lambda: [])
    streamer.join(180)
    expect(not errors and not streamer.is_alive(), f"the stream stopped: {errors[:2] or 'still running'}")
    expect_each_once(w, jobs)
    return f"server pid {pid} SIGKILLed mid-stream; restart count {count}; {len(jobs)}/12 events completed once"
