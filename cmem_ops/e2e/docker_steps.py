"""The docker e2e steps around the crashes: images, rules, up, key, scaling, exactly once, revoke, secrets, down.

Each takes the DockerWorld and returns a one-line detail, or raises StepFailed.
"""

from __future__ import annotations

import json
import subprocess
import threading

from ..claudemem.api import ApiClient, build_event
from ..claudemem.apikeys import parse_api_key
from ..containers.engine import Engine
from ..context import build_context
from ..errors import OpsError
from ..lifecycle import docker_stack
from ..lifecycle import docker_stack_config as cfg
from ..lifecycle.docker_stack_project import ensure_secrets, ensure_state, read_state
from ..lifecycle.docker_stack_ready import wait_ready
from ..settings import write_settings_keys
from ..wait import Deadline
from .docker_world import (
    LLM_SETTINGS,
    DockerWorld,
    bundle_cli,
    job_rows,
    llm_stats,
    post_retrying,
    worker_addresses,
)
from .world import StepFailed, expect

LOCAL_DEV_MESSAGE = "CLAUDE_MEM_AUTH_MODE=local-dev is not allowed in Docker."


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
    ensure_state(w.ctx)
    ensure_secrets(w.ctx)
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
    wait_ready(compose, cfg.SERVER, 1, Deadline.after(60), healthy=True)
    jobs += [post_retrying(w, "restart") for _ in range(3)]
    compose.start_services([cfg.WORKER], timeout=60)
    w.wait_completed(jobs)
    rows = job_rows(w, jobs)
    wrong = [f"{j}: {rows.get(j)}" for j in jobs if rows.get(j) != ("completed", 1)]
    expect(not wrong, f"not completed exactly once: {'; '.join(wrong[:4])}")
    # Per job, not in total: a POST cut off by the restart may have been committed before it was posted
    # again, and that orphan event is (rightly) generated too.
    stats = llm_stats(w)
    by_job = stats.get("byJob") or {}
    twice = [f"{j}: {by_job.get(j, 0)}" for j in jobs if by_job.get(j, 0) != 1]
    expect(not twice, f"LLM requests per job, want 1 each: {'; '.join(twice[:4])}")
    requests = int(stats.get("requests") or 0) - requests_before
    return (f"{len(jobs)} events (5 with no worker, 8 posted during and after a server restart): each "
            f"completed, 1 attempt (Postgres), 1 LLM request ({requests} in all)")


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


def step_no_secrets(w: DockerWorld) -> str:
    secrets_dir = cfg.secrets_dir(w.ctx.paths)
    secrets = [*w.secrets, *(p.read_text().strip() for p in (secrets_dir / "valkey-password",
                                                               secrets_dir / "postgres-password"))]
    secrets.append(LLM_SETTINGS["OPENROUTER_API_KEY"])
    project = read_state(w.ctx).project  # type: ignore[union-attr]
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
