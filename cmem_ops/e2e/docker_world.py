"""What the docker e2e steps share: the private data dir and its context, posting, and views into the stack.

The views read inside the containers (the LLM double's counters, psql, the bundle's CLI) or through the
engine (container addresses, restart counts); the crash helpers SIGKILL a container's main process from
the host and wait for its restart policy.
"""

from __future__ import annotations

import json
import os
import signal
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..claudemem.api import ApiClient, build_event
from ..containers.engine import Engine
from ..context import Context, build_context
from ..errors import OpsError, OpsTimeoutError
from ..lifecycle import docker_stack_config as cfg
from ..lifecycle.docker_stack_project import compose_for, read_state
from ..wait import Deadline, poll
from .world import StepFailed, expect

COMPLETE_TIMEOUT_S = 120.0
LLM_SETTINGS = {"CLAUDE_MEM_SERVER_PROVIDER": "openrouter", "OPENROUTER_API_KEY": "test-double-key",
                "CLAUDE_MEM_OPENROUTER_BASE_URL": "http://llm-double:8080"}


@dataclass
class DockerWorld:
    """The private data dir, its context, and what the steps learned."""

    base: Path
    env: dict[str, str]
    say: Callable[[str], None]
    workers: int = 2
    url: str = ""
    key: str = ""
    project_id: str = ""
    secrets: list[str] = field(default_factory=list)

    @property
    def ctx(self) -> Context:
        return build_context(self.env)

    def compose(self) -> Any:
        state = read_state(self.ctx)
        expect(state is not None, "no docker stack state in the private data dir")
        assert state is not None
        return compose_for(self.ctx, state, cfg.choose_images({}, engine_images()), llm_double=True)

    def api(self, timeout: float = 15.0) -> ApiClient:
        return ApiClient(self.url, self.key or None, timeout)

    def post(self, tag: str) -> str:
        """Post one event; its generation job id."""
        body = build_event(self.project_id, payload={"e2e_id": f"{tag}-{uuid.uuid4().hex[:8]}", "tool": "Read"})
        resp = self.api().post_event(body)
        expect(resp.status == 201, f"POST /v1/events answered {resp.status}: {resp.text[:160]}")
        return str((resp.body.get("generationJob") or {}).get("id"))

    def wait_completed(self, job_ids: list[str], timeout: float = COMPLETE_TIMEOUT_S) -> None:
        """Poll GET /v1/jobs/:id until every job is completed (a failed one stops the wait)."""
        def done() -> bool:
            for job_id in job_ids:
                body = self.api().job(job_id).body
                status = (body.get("generationJob") or {}).get("status")
                if status == "failed":
                    raise StepFailed(f"job {job_id} failed: {json.dumps(body)[:200]}")
                if status != "completed":
                    return False
            return True

        poll(done, Deadline.after(timeout), what=f"{len(job_ids)} job(s) to complete", interval=0.5,
             max_interval=2.0, transient=(OSError, OpsError))


def engine_images() -> frozenset[str]:
    engine = Engine.connect()
    try:
        return engine.images()
    finally:
        engine.close()


def llm_stats(w: DockerWorld) -> dict[str, Any]:
    """The LLM double's counters (read inside its container: it is not published)."""
    out = w.compose().exec("llm-double", ["wget", "-q", "-O", "-", "http://127.0.0.1:8080/stats"], timeout=30)
    value = json.loads(out)
    return value if isinstance(value, dict) else {}


def llm_control(w: DockerWorld, action: str) -> None:
    """GET /hold or /release of the LLM double (inside its container)."""
    w.compose().exec("llm-double", ["wget", "-q", "-O", "-", f"http://127.0.0.1:8080/{action}"], timeout=30)


def worker_addresses(w: DockerWorld) -> dict[str, str]:
    """Each worker container's address on the compose network -> its name."""
    engine = Engine.connect()
    try:
        found = {}
        for name in engine.containers_labelled(f"com.docker.compose.service={cfg.WORKER}"):
            if not name.startswith(f"{read_state(w.ctx).project}-"):  # type: ignore[union-attr]
                continue
            networks = (engine.inspect(name).get("NetworkSettings") or {}).get("Networks") or {}
            found.update({str(n.get("IPAddress")): name for n in networks.values() if n.get("IPAddress")})
        return found
    finally:
        engine.close()


def psql_value(w: DockerWorld, sql: str) -> str:
    """One value from psql inside the postgres container."""
    return str(w.compose().exec("postgres", ["psql", "-U", cfg.POSTGRES_USER, "-d", "claude_mem", "-Atc", sql],
                                timeout=30)).strip()


def job_rows(w: DockerWorld, job_ids: list[str]) -> dict[str, tuple[str, int]]:
    """job id -> (status, attempts) from Postgres, read with psql inside the postgres container."""
    ids = ",".join(f"'{j}'" for j in job_ids)
    out = w.compose().exec("postgres", ["psql", "-U", cfg.POSTGRES_USER, "-d", "claude_mem", "-Atc",
                                        f"select id, status, attempts from observation_generation_jobs "
                                        f"where id in ({ids})"], timeout=30)
    rows = {}
    for line in out.splitlines():
        job_id, status, attempts = line.split("|")
        rows[job_id] = (status, int(attempts))
    return rows


def observations_per_job(w: DockerWorld, job_ids: list[str]) -> dict[str, int]:
    """job id -> observations it created (Postgres)."""
    ids = ",".join(f"'{j}'" for j in job_ids)
    out = w.compose().exec("postgres", ["psql", "-U", cfg.POSTGRES_USER, "-d", "claude_mem", "-Atc",
                                        "select created_by_job_id, count(*) from observations where "
                                        f"created_by_job_id in ({ids}) group by 1"], timeout=30)
    counts = {line.split("|")[0]: int(line.split("|")[1]) for line in out.splitlines() if "|" in line}
    return {j: counts.get(j, 0) for j in job_ids}


def bundle_cli(w: DockerWorld, *args: str) -> str:
    """A bundle CLI call inside the server container (its stdout); the pool closes at once."""
    return str(w.compose().exec(cfg.SERVER, ["/usr/local/bin/claude-mem-entrypoint", *args],
                                env={"CLAUDE_MEM_POSTGRES_IDLE_TIMEOUT_MS": "300"}, timeout=90))


def post_retrying(w: DockerWorld, tag: str, deadline_s: float = 90.0) -> str:
    """Post one event, re-posting while the server is down (a refused connection is not an answer)."""
    return poll(lambda: w.post(tag), Deadline.after(deadline_s), what="the server to accept an event",
                transient=(OpsError,), interval=0.1, max_interval=0.5)


def try_post(w: DockerWorld, tag: str) -> str | None:
    """Post one event; its job id, or None when the server refused it (a 5xx: nothing was accepted)."""
    body = build_event(w.project_id, payload={"e2e_id": f"{tag}-{uuid.uuid4().hex[:8]}", "tool": "Read"})
    resp = w.api(timeout=30).post_event(body)
    if resp.status >= 500:
        return None
    expect(resp.status == 201, f"POST /v1/events answered {resp.status}: {resp.text[:160]}")
    return str((resp.body.get("generationJob") or {}).get("id"))


def post_accepted(w: DockerWorld, tag: str, deadline_s: float = 120.0) -> str:
    """Post one event until the server accepts it (a refused connection or a 5xx is not an acceptance)."""
    return poll(lambda: try_post(w, tag), Deadline.after(deadline_s), what="the server to accept an event",
                transient=(OpsError,), interval=0.1, max_interval=0.5)


def crash_main_process(w: DockerWorld, service: str, during: Callable[[], list[str]]) -> tuple[int, int, list[str]]:
    """SIGKILL `service`'s main process from the host (a crash), run `during`, wait for the policy's restart.

    Returns (the killed pid, the new restart count, the job ids `during` had accepted)."""
    engine = Engine.connect()
    name = f"{read_state(w.ctx).project}-{service}-1"  # type: ignore[union-attr]
    try:
        before = engine.container(name)
        expect(before is not None and before.running and before.pid > 0, f"{name} is not running")
        assert before is not None
        os.kill(before.pid, signal.SIGKILL)
        jobs = during()

        def restarted() -> int:
            info = engine.container(name)
            return info.restart_count if info is not None and info.running and \
                info.restart_count > before.restart_count else 0

        count = poll(restarted, Deadline.after(90), what=f"{name} to be restarted by its policy", interval=0.2)
    finally:
        engine.close()
    return before.pid, count, jobs


def expect_each_once(w: DockerWorld, jobs: list[str]) -> None:
    """Every job completed (Postgres) with exactly one observation: nothing lost, nothing twice."""
    w.wait_completed(jobs)
    rows = job_rows(w, jobs)
    counts = observations_per_job(w, jobs)
    wrong = [f"{j}: {rows.get(j)}, {counts[j]} observations" for j in jobs
             if (rows.get(j) or ("",))[0] != "completed" or counts[j] != 1]
    expect(not wrong, f"not completed exactly once: {'; '.join(wrong[:4])}")


def complete_with_recovery(w: DockerWorld, jobs: list[str], timeout: float = COMPLETE_TIMEOUT_S) -> int:
    """Wait for every job to complete, running `jobs recover --docker` while any is left `processing` by a
    worker that died, and retrying (POST /v1/jobs/:id/retry) one whose attempts all failed while a store was
    down; how many jobs were retried."""
    from ..jobs import recover as jobs_service

    retried: set[str] = set()

    def done() -> bool:
        rows = job_rows(w, jobs)
        if all((rows.get(j) or ("",))[0] == "completed" for j in jobs):
            return True
        if any((rows.get(j) or ("",))[0] == "processing" for j in jobs):
            report = jobs_service.recover(w.ctx, docker=True, wait_s=0)
            retried.update(o.job_id for o in report.outcomes if o.ok)
        for job_id in jobs:  # its attempts ran out while Postgres was down: the event is kept, retry it once
            if (rows.get(job_id) or ("",))[0] == "failed" and job_id not in retried \
                    and w.api().retry_job(job_id).status < 300:
                retried.add(job_id)
        return False

    try:
        poll(done, Deadline.after(timeout), what=f"{len(jobs)} job(s) to complete (with jobs recover)",
             interval=1.0, max_interval=3.0, transient=(OpsError,))
    except OpsTimeoutError as exc:  # say where each job stopped: the next engineer needs the states, not a count
        rows = job_rows(w, jobs)
        states = ", ".join(f"{j[:8]} {(rows.get(j) or ('missing', 0))[0]}" for j in jobs
                           if (rows.get(j) or ("",))[0] != "completed")
        raise OpsTimeoutError(f"{exc.message}; not completed: {states}", hint=exc.hint) from None
    return len(retried & set(jobs))
