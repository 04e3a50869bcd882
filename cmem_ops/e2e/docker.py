"""`cmem-ops e2e --docker`: the container stack end to end, in a private data dir (its own compose project).

1  images present (`cmem-ops images build` when one is missing)
2  claude-mem's Docker rules: `stack up --docker` with CLAUDE_MEM_AUTH_MODE=local-dev is refused in
   claude-mem's words, and the server image itself refuses to boot with that setting
3  stack up --docker --workers 2 (with the LLM test double on the compose network); /healthz, /v1/info
4  a full key (the bundle's CLI inside the server container); POST /v1/events?wait=true completes
5  the scaled workers: a batch of events all complete, each worker container completing some (the LLM
   double counts requests per container address); events posted with every worker stopped and across
   a server restart each completed exactly once (Postgres: completed, 1 attempt; one LLM request each)
6  a worker's main process SIGKILLed from the host (a crash, not `docker kill`): the restart policy
   brings it back and events posted meanwhile complete
7  the store's main process SIGKILLed between events: restarted by its policy, every event completed;
   a read-only key revoked (the bundle's CLI in the container): refused at once, the full key still works
8  no password or key in `docker inspect` (Cmd, Args, Env, Labels) of any container, nor in host `ps`;
   no legacy worker runtime in any container
9  stack down --docker: no container of the project left, volumes kept
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..claudemem.api import ApiClient, build_event
from ..claudemem.apikeys import parse_api_key
from ..containers.engine import Engine
from ..context import Context, build_context
from ..errors import OpsError
from ..lifecycle import docker_stack
from ..lifecycle import docker_stack_config as cfg
from ..settings import write_settings_keys
from ..wait import Deadline, poll
from .script import FAIL, PASS, SKIP, E2eReport, StepResult
from .world import StepFailed, expect

COMPLETE_TIMEOUT_S = 120.0
LOCAL_DEV_MESSAGE = "CLAUDE_MEM_AUTH_MODE=local-dev is not allowed in Docker."
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
        state = docker_stack.read_state(self.ctx)
        expect(state is not None, "no docker stack state in the private data dir")
        assert state is not None
        return docker_stack.compose_for(self.ctx, state, cfg.choose_images({}, engine_images()), llm_double=True)

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


def step_images(w: DockerWorld) -> str:
    from ..images.build import build_images

    # The caller's data dir (where `cmem-ops images build` ran and the runtime is), not the private one.
    results = build_images(build_context(), on_event=lambda name, message: w.say(f"  {name}: {message}"))
    failed = [f"{r.name}: {r.detail}" for r in results if r.status == "failed"]
    expect(not failed, "; ".join(failed))
    return ", ".join(f"{r.tag} {r.status}" for r in results)


def step_local_dev(w: DockerWorld) -> str:
    ctx = build_context({**w.env, "CLAUDE_MEM_AUTH_MODE": "local-dev"})
    try:
        docker_stack.check_docker_rules(ctx)
        raise StepFailed("cmem-ops accepted CLAUDE_MEM_AUTH_MODE=local-dev for the docker stack")
    except OpsError as exc:
        expect(LOCAL_DEV_MESSAGE in exc.message, f"cmem-ops refused, but not in claude-mem's words: {exc.message}")
    docker_stack.ensure_state(w.ctx)
    docker_stack.ensure_secrets(w.ctx)
    code, out = w.compose().run_once(cfg.SERVER, env={"CLAUDE_MEM_AUTH_MODE": "local-dev"}, timeout=120)
    expect(code != 0 and LOCAL_DEV_MESSAGE in out,
           f"the server image booted with local-dev (exit {code}): {out[-300:]}")
    return "refused by cmem-ops before start and by the server image itself (exit " + str(code) + ")"


def step_stack_up(w: DockerWorld) -> str:
    write_settings_keys(w.ctx.paths, LLM_SETTINGS)
    result = docker_stack.up(w.ctx, workers=w.workers, llm_double=True, say=lambda m: w.say(f"  starting {m}"))
    w.url = result.url
    health = w.api().healthz(timeout=5)
    expect(health.status == 200, f"/healthz answered {health.status}")
    info = w.api().info(timeout=10)
    qm = (info.body.get("boundaries") or {}).get("queueManager") or {}
    expect(info.status == 200 and qm.get("status") == "active", f"/v1/info: queue manager {qm.get('status')}")
    return f"{result.elapsed_ms / 1000:.1f} s; {w.url}; queue manager active; {w.workers} workers"


def step_key_and_wait(w: DockerWorld) -> str:
    out = w.compose().exec(cfg.SERVER, ["/usr/local/bin/claude-mem-entrypoint", "server", "api-key", "create",
                                        "--scope", "memories:read,memories:write", "--name", "e2e-docker"],
                           env={"CLAUDE_MEM_POSTGRES_IDLE_TIMEOUT_MS": "300"}, timeout=90)
    key = parse_api_key(out)
    w.key, w.project_id = key.key, key.project_id
    w.secrets.append(key.key)
    body = build_event(w.project_id, payload={"e2e_id": "wait", "tool": "Read"})
    resp = w.api(timeout=45).post_event(body, wait=True)
    job = resp.body.get("generationJob") or {}
    expect(resp.status == 201 and job.get("status") == "completed",
           f"POST /v1/events?wait=true answered {resp.status}, job {job.get('status')}: {resp.text[:160]}")
    return f"key {key.id}; job {job.get('id')} completed in {resp.elapsed_ms:.0f} ms"


def llm_stats(w: DockerWorld) -> dict[str, Any]:
    """The LLM double's counters (read inside its container: it is not published)."""
    out = w.compose().exec("llm-double", ["wget", "-q", "-O", "-", "http://127.0.0.1:8080/stats"], timeout=30)
    value = json.loads(out)
    return value if isinstance(value, dict) else {}


def worker_addresses(w: DockerWorld) -> dict[str, str]:
    """Each worker container's address on the compose network -> its name."""
    engine = Engine.connect()
    try:
        found = {}
        for name in engine.containers_labelled(f"com.docker.compose.service={cfg.WORKER}"):
            if not name.startswith(f"{docker_stack.read_state(w.ctx).project}-"):  # type: ignore[union-attr]
                continue
            networks = (engine.inspect(name).get("NetworkSettings") or {}).get("Networks") or {}
            found.update({str(n.get("IPAddress")): name for n in networks.values() if n.get("IPAddress")})
        return found
    finally:
        engine.close()


def step_scaled(w: DockerWorld) -> str:
    before = llm_stats(w).get("byClient") or {}
    jobs = [w.post("scaled") for _ in range(12)]
    w.wait_completed(jobs)
    after = llm_stats(w).get("byClient") or {}
    per_worker = {name: int(after.get(ip, 0)) - int(before.get(ip, 0)) for ip, name in worker_addresses(w).items()}
    idle = [name for name, n in per_worker.items() if n < 1]
    expect(len(per_worker) == w.workers and not idle, f"workers that completed no job: {idle or per_worker}")
    return f"{len(jobs)} events completed; per worker container: " + ", ".join(
        f"{name.rsplit('-', 1)[-1]}={n}" for name, n in sorted(per_worker.items()))


def post_retrying(w: DockerWorld, tag: str, deadline_s: float = 90.0) -> str:
    """Post one event, re-posting while the server is down (a refused connection is not an answer)."""
    return poll(lambda: w.post(tag), Deadline.after(deadline_s), what="the server to accept an event",
                transient=(OpsError,), interval=0.1, max_interval=0.5)


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


def step_worker_stop_server_restart(w: DockerWorld) -> str:
    """Events posted with every worker stopped, and across a server restart: each completed exactly once."""
    compose = w.compose()
    requests_before = int(llm_stats(w).get("requests") or 0)
    compose.stop_services([cfg.WORKER], timeout=60)
    jobs = [w.post("worker-stopped") for _ in range(5)]
    restarting = threading.Thread(target=lambda: compose.restart_services([cfg.SERVER], timeout=60))
    restarting.start()
    jobs += [post_retrying(w, "restart") for _ in range(5)]
    restarting.join(timeout=120)
    docker_stack.wait_ready(compose, cfg.SERVER, 1, Deadline.after(60), healthy=True)
    jobs += [post_retrying(w, "restart") for _ in range(3)]
    compose.start_services([cfg.WORKER], timeout=60)
    w.wait_completed(jobs)
    rows = job_rows(w, jobs)
    wrong = [f"{j}: {rows.get(j)}" for j in jobs if rows.get(j) != ("completed", 1)]
    expect(not wrong, f"not completed exactly once: {'; '.join(wrong[:4])}")
    requests = int(llm_stats(w).get("requests") or 0) - requests_before
    expect(requests == len(jobs), f"the LLM double saw {requests} requests for {len(jobs)} jobs")
    return (f"{len(jobs)} events (5 with no worker, 8 posted during and after a server restart): each "
            f"completed, 1 attempt (Postgres); {requests} LLM requests")


def step_worker_crash(w: DockerWorld) -> str:
    engine = Engine.connect()
    try:
        name = f"{docker_stack.read_state(w.ctx).project}-{cfg.WORKER}-1"  # type: ignore[union-attr]
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


def bundle_cli(w: DockerWorld, *args: str) -> str:
    """A bundle CLI call inside the server container (its stdout); the pool closes at once."""
    return str(w.compose().exec(cfg.SERVER, ["/usr/local/bin/claude-mem-entrypoint", *args],
                                env={"CLAUDE_MEM_POSTGRES_IDLE_TIMEOUT_MS": "300"}, timeout=90))


def step_revoke(w: DockerWorld) -> str:
    ro = parse_api_key(bundle_cli(w, "server", "api-key", "create", "--scope", "memories:read", "--name", "e2e-ro"))
    w.secrets.append(ro.key)
    reader = ApiClient(w.url, ro.key, 15)
    before = reader.get("/v1/jobs?limit=1")
    expect(before.status == 200, f"the read-only key could not read before the revoke: {before.status}")
    bundle_cli(w, "server", "api-key", "revoke", ro.id)
    after = reader.get("/v1/jobs?limit=1")
    expect(after.status in (401, 403), f"read with the revoked key answered {after.status}")
    full = w.api().get("/v1/jobs?limit=1")
    expect(full.status == 200, f"the full key got {full.status} after the revoke")
    return f"revoked key: read {after.status} at once; full key: read 200"


def step_store_crash(w: DockerWorld) -> str:
    """The store's main process SIGKILLed while events stream in: the policy restarts it, nothing is lost."""
    engine = Engine.connect()
    name = f"{docker_stack.read_state(w.ctx).project}-valkey-1"  # type: ignore[union-attr]
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


def step_no_secrets(w: DockerWorld) -> str:
    secrets_dir = cfg.secrets_dir(w.ctx.paths)
    secrets = [*w.secrets, *(p.read_text().strip() for p in (secrets_dir / "valkey-password",
                                                               secrets_dir / "postgres-password"))]
    secrets.append(LLM_SETTINGS["OPENROUTER_API_KEY"])
    project = docker_stack.read_state(w.ctx).project  # type: ignore[union-attr]
    engine = Engine.connect()
    leaks: list[str] = []
    legacy: list[str] = []
    try:
        names = [s.name for s in w.compose().ps(all_=True)]
        for name in names:
            doc = engine.inspect(name)
            config = doc["Config"]
            exposed = json.dumps({"Cmd": config.get("Cmd"), "Entrypoint": config.get("Entrypoint"),
                                  "Args": doc.get("Args"), "Path": doc.get("Path"), "Env": config.get("Env"),
                                  "Labels": config.get("Labels"), "Healthcheck": config.get("Healthcheck")})
            leaks += [f"{name}: inspect" for s in secrets if s and (s in exposed or s in json.dumps(doc))]
            if "claude-mem" in name:
                legacy += [f"{name}: {cmd}" for cmd in engine.top(name) if "worker-service" in cmd]
    finally:
        engine.close()
    ps = subprocess.run(["ps", "-eww", "-o", "args="], capture_output=True, text=True, timeout=10, check=True).stdout
    leaks += ["host ps" for s in secrets if s and s in ps]
    expect(not leaks, f"secrets visible: {', '.join(sorted(set(leaks)))}")
    expect(not legacy, f"legacy worker runtime running: {legacy}")
    return f"{len(secrets)} secrets absent from inspect of {len(names)} containers of {project} and from host ps"


def step_down(w: DockerWorld) -> str:
    result = docker_stack.down(w.ctx)
    project = result.project
    engine = Engine.connect()
    try:
        left = engine.containers_labelled(f"com.docker.compose.project={project}")
        volumes = [f"{project}_postgres-data", f"{project}_valkey-data"]
        kept = [v for v in volumes if engine.volume_exists(v)]
    finally:
        engine.close()
    expect(not left, f"containers left after down: {left}")
    expect(kept == volumes, f"volumes not kept: {sorted(set(volumes) - set(kept))}")
    return f"{len(result.removed)} containers removed; volumes kept"


STEPS: tuple[tuple[str, Callable[[DockerWorld], str]], ...] = (
    ("images", step_images), ("local-dev refused", step_local_dev), ("stack up --docker", step_stack_up),
    ("key + event wait=true", step_key_and_wait), ("scaled workers", step_scaled),
    ("worker stop + server restart, exactly once", step_worker_stop_server_restart),
    ("worker crash restarted", step_worker_crash), ("store crash, nothing lost", step_store_crash),
    ("revoked key refused", step_revoke), ("no secret visible", step_no_secrets),
    ("stack down --docker", step_down),
)


def run_docker_e2e(*, keep: bool = False, say: Callable[[str], None] = print,
                   report_step: Callable[[StepResult], None] = lambda _r: None) -> E2eReport:
    """Run every step in a private data dir; always remove the project (and its volumes unless kept)."""
    t0 = time.monotonic()
    base = Path(tempfile.mkdtemp(prefix="cmem-ops-e2e-docker-"))
    data_dir = base / "data"
    data_dir.mkdir(mode=0o700)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLAUDE_MEM_", "CMEM_STACK_"))}
    env["CLAUDE_MEM_DATA_DIR"] = str(data_dir)
    if "CMEM_OPS_NPM_CACHE" not in env:
        env["CMEM_OPS_NPM_CACHE"] = str(Path.home() / ".claude-mem" / "cache" / "npm")
    world = DockerWorld(base, env, say)
    say(f"e2e --docker world: {base}")
    results: list[StepResult] = []
    failed = ""
    try:
        for name, run in STEPS:
            if failed:
                results.append(StepResult(name, SKIP, 0.0, f"after the failure of: {failed}"))
                report_step(results[-1])
                continue
            started = time.monotonic()
            try:
                detail = run(world)
                results.append(StepResult(name, PASS, time.monotonic() - started, detail))
            except (StepFailed, OpsError, OSError, ValueError) as exc:
                detail = f"{exc.message} (hint: {exc.hint})" if isinstance(exc, OpsError) else str(exc)
                results.append(StepResult(name, FAIL, time.monotonic() - started, detail))
                failed = name
            report_step(results[-1])
    finally:
        if docker_stack.read_state(world.ctx) is not None:
            try:
                docker_stack.down(world.ctx, purge_data=not (keep or failed))
            except OpsError as exc:
                results.append(StepResult("teardown", FAIL, 0.0, exc.message))
    kept = keep or bool(failed)
    if not kept:
        shutil.rmtree(base, ignore_errors=True)
    return E2eReport(tuple(results), str(base), kept, time.monotonic() - t0, "claude-mem image")
