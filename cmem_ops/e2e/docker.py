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
   brings it back and events posted meanwhile complete; a worker SIGKILLed while its job waits on the
   LLM (the double holds the call): `jobs stuck --docker` finds the job stuck, `jobs recover --docker`
   completes it with exactly one observation
7  the store's main process SIGKILLed between events: restarted by its policy, every event completed;
   a read-only key revoked (the bundle's CLI in the container): refused at once, the full key still works
   Postgres' main process SIGKILLed between events, and the server's while a client streams events:
   each restarted by its policy, every acknowledged event completed with exactly one observation
8  no password or key in `docker inspect` (Cmd, Args, Env, Labels) of any container, nor in host `ps`;
   no legacy worker runtime in any container
9  stack down --docker: no container of the project left, volumes kept
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from ..errors import OpsError
from ..lifecycle import docker_stack
from ..lifecycle.docker_stack_project import read_state
from .docker_crashes import (
    step_postgres_crash,
    step_server_crash,
    step_store_crash,
    step_worker_crash,
    step_worker_killed_mid_job,
)
from .docker_steps import (
    step_down,
    step_images,
    step_key_and_wait,
    step_local_dev,
    step_no_secrets,
    step_revoke,
    step_scaled,
    step_stack_up,
    step_worker_stop_server_restart,
)
from .docker_world import DockerWorld
from .script import FAIL, PASS, SKIP, E2eReport, StepResult
from .world import StepFailed

STEPS: tuple[tuple[str, Callable[[DockerWorld], str]], ...] = (
    ("images", step_images), ("local-dev refused", step_local_dev), ("stack up --docker", step_stack_up),
    ("key + event wait=true", step_key_and_wait), ("scaled workers", step_scaled),
    ("worker stop + server restart, exactly once", step_worker_stop_server_restart),
    ("worker crash restarted", step_worker_crash),
    ("worker killed mid-job, job recovered", step_worker_killed_mid_job),
    ("store crash, nothing lost", step_store_crash),
    ("postgres crash, nothing lost", step_postgres_crash),
    ("server crash mid-stream, nothing lost", step_server_crash),
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
                detail = exc.described() if isinstance(exc, OpsError) else str(exc)
                results.append(StepResult(name, FAIL, time.monotonic() - started, detail))
                failed = name
            report_step(results[-1])
    finally:
        if read_state(world.ctx) is not None:
            try:
                docker_stack.down(world.ctx, purge_data=not (keep or failed))
            except OpsError as exc:
                results.append(StepResult("teardown", FAIL, 0.0, exc.message))
    kept = keep or bool(failed)
    if not kept:
        shutil.rmtree(base, ignore_errors=True)
    return E2eReport(tuple(results), str(base), kept, time.monotonic() - t0, "claude-mem image")
