"""Find stuck generation jobs and recover them: the plan is pure, applying it acts.

Recovery of one stuck job, the order claude-mem needs (a bare retry answers 409 while the row says
processing; a cancel cannot remove a BullMQ job whose lock is held):

    1. DEL <prefix>:<queue>:<job>:lock      only when the lock's holder is proven dead (stuck.py)
    2. POST /v1/jobs/<id>/cancel            row -> cancelled, BullMQ job removed
    3. POST /v1/jobs/<id>/retry             row -> queued, BullMQ job added again

The HTTP calls need a key of the job's own project with memories:write: one is created for each
project through the bundle's Postgres path and revoked when done.

Where rows, locks and keys are reached is an access (stuck.JobsAccess + RecoveryAccess here): the
native stack's URLs and local bundle (NativeJobsAccess), or the docker stack's containers through
`docker compose exec` (jobs/docker_stack.py; --docker or CLAUDE_MEM_STACK=docker).
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from typing import Protocol

from ..claudemem.api import ApiClient
from ..claudemem.apikeys import FULL_SCOPES, ApiKey
from ..context import Context
from ..errors import ConfigError, NotRunningError, OpsError, OpsTimeoutError
from ..http_client import HttpError
from ..lifecycle import docker_stack_config as cfg
from ..lifecycle import keys as keys_service
from ..lifecycle.stack_config import load_config
from ..redaction import redact_text
from ..redis_url import RedisTarget
from ..resp import RespError
from ..store_client import open_store
from ..wait import Deadline, poll
from .stuck import (
    MIN_AGE_S,
    JobsAccess,
    JobState,
    ProcessingJob,
    ScanError,
    ScanSide,
    Verdict,
    fetch_processing,
    fetch_statuses,
    format_recovery_commands,
    holder_alive,
    is_local,
    read_locks,
    scan_access,
)

KEY_NAME = "cmem-ops-jobs-recover"
TERMINAL = ("completed", "failed", "cancelled")


@dataclass(frozen=True)
class StuckReport:
    """Every processing job and its verdict."""

    jobs: tuple[JobState, ...]
    base_url: str
    prefix: str
    local: bool
    docker_project: str | None = None  # the docker stack's compose project, when it was read there

    @property
    def stuck(self) -> tuple[JobState, ...]:
        return tuple(j for j in self.jobs if j.verdict is Verdict.STUCK)


@dataclass(frozen=True)
class JobOutcome:
    """What recovery did to one job."""

    job_id: str
    lock_deleted: bool
    cancel_status: int | None
    retry_status: int | None
    final_status: str | None
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.retry_status == 200


@dataclass(frozen=True)
class RecoveryReport:
    """The stuck jobs found, what was done (nothing on a dry run) and the equivalent commands."""

    found: StuckReport
    outcomes: tuple[JobOutcome, ...]
    commands: tuple[str, ...]
    dry_run: bool
    elapsed_ms: float


def format_commands(report: StuckReport) -> list[str]:
    """The exact commands that recover the stuck jobs by hand (pure)."""
    project = report.docker_project
    lines = format_recovery_commands(report.stuck, report.base_url)
    if project:
        # The store is not published: DEL runs by valkey-cli inside its container, the password read there.
        lines = [f"docker exec {project}-valkey-1 sh -c '{cfg.VALKEY_CLI}DEL {line.rsplit(' ', 1)[-1]}'"
                 if line.startswith("redis-cli ")
                 else line for line in lines]
    maker = (f"docker exec {project}-claude-mem-server-1 /usr/local/bin/claude-mem-entrypoint server api-key create"
             if project else "cmem-ops server api-key create")
    if lines:
        lines.insert(0, f"# KEY: a memories:write key of the job's project "
                        f"({maker} --scope memories:read,memories:write --team T --project P)")
    return lines


@dataclass
class NativeJobsAccess:
    """The native stack: Postgres and the store by their URLs, keys through the local bundle."""

    ctx: Context
    database_url: str
    target: RedisTarget
    base_url: str
    prefix: str
    local: bool

    def processing(self, timeout: float) -> list[ProcessingJob]:
        import psycopg

        try:
            return fetch_processing(self.database_url, timeout)
        except (psycopg.Error, OSError) as exc:
            raise ScanError(ScanSide.POSTGRES, redact_text(" ".join(str(exc).split())[:200])) from exc

    def locks(self, keys: list[str], timeout: float) -> dict[str, bool]:
        try:
            return read_locks(self.target, keys, timeout)
        except (OSError, RespError) as exc:
            raise ScanError(ScanSide.STORE, f"{self.target.address}: {exc}") from exc

    def holder_alive(self, job: ProcessingJob, pid: int | None) -> bool | None:
        return holder_alive(pid, self.local)

    def recheck_holder(self, job: ProcessingJob, pid: int | None) -> bool | None:
        return holder_alive(pid, self.local)

    def delete_lock(self, key: str) -> bool:
        with open_store(self.target, 5.0) as conn:
            return bool(conn.command("DEL", key) == 1)

    def statuses(self, ids: list[str], timeout: float) -> dict[str, str]:
        return fetch_statuses(self.database_url, ids, timeout)

    def create_key(self, scopes: tuple[str, ...], team: str, project: str, name: str) -> ApiKey:
        return keys_service.create(self.ctx, scopes, team=team, project=project, name=name).key

    def revoke_key(self, key_id: str) -> None:
        keys_service.revoke(self.ctx, key_id)


class RecoveryAccess(JobsAccess, Protocol):
    """A JobsAccess that can also act: recheck a holder, delete a lock, read statuses, make keys."""

    def recheck_holder(self, job: ProcessingJob, pid: int | None) -> bool | None: ...
    def delete_lock(self, key: str) -> bool: ...
    def statuses(self, ids: list[str], timeout: float) -> dict[str, str]: ...
    def create_key(self, scopes: tuple[str, ...], team: str, project: str, name: str) -> ApiKey: ...
    def revoke_key(self, key_id: str) -> None: ...


def open_access(ctx: Context, *, docker: bool = False) -> RecoveryAccess:
    """The docker stack's access with `docker` (or CLAUDE_MEM_STACK=docker), else the native stack's."""
    from ..lifecycle.docker_stack_project import wants_docker

    if wants_docker(ctx, docker):
        from . import docker_stack

        return docker_stack.open_access(ctx)
    cfg = load_config(ctx)
    if not cfg.database_url:
        raise ConfigError("no database is configured (CLAUDE_MEM_SERVER_DATABASE_URL)", hint="cmem-ops stack up")
    target = ctx.settings.redis_target()
    if target is None:
        raise ConfigError("no queue store is configured (CLAUDE_MEM_REDIS_URL)", hint="cmem-ops stack up")
    return NativeJobsAccess(ctx, cfg.database_url, target, cfg.base_url, cfg.prefix, is_local(target))


def detect(ctx: Context, *, timeout: float = 5.0, min_age_s: float | None = None, docker: bool = False,
           access: RecoveryAccess | None = None) -> StuckReport:
    """Read every processing row and its BullMQ lock; judge each."""
    access = access or open_access(ctx, docker=docker)
    try:
        states = scan_access(access, timeout, MIN_AGE_S if min_age_s is None else min_age_s)
    except ScanError as exc:
        native = isinstance(access, NativeJobsAccess)
        if exc.side is ScanSide.POSTGRES:
            raise OpsError(f"cannot read generation jobs from Postgres: {exc.detail}",
                           hint="cmem-ops doctor --only postgres" if native else
                           "CLAUDE_MEM_STACK=docker cmem-ops doctor   (or: cmem-ops stack logs --docker postgres)"
                           ) from None
        raise OpsError(f"cannot read BullMQ locks from the queue store at {exc.detail}",
                       hint="cmem-ops store start" if native else "cmem-ops stack logs --docker valkey") from None
    return StuckReport(tuple(states), access.base_url, access.prefix, access.local,
                       None if isinstance(access, NativeJobsAccess) else getattr(access, "project", None))


def recover(ctx: Context, *, dry_run: bool = False, wait_s: float = 15.0, min_age_s: float | None = None,
            docker: bool = False) -> RecoveryReport:
    """Recover every stuck job (delete a dead holder's lock, cancel, retry); wait up to `wait_s` for each to finish."""
    t0 = time.monotonic()
    access = open_access(ctx, docker=docker)
    found = detect(ctx, min_age_s=min_age_s, access=access)
    commands = tuple(format_commands(found))
    if dry_run or not found.stuck:
        return RecoveryReport(found, (), commands, dry_run, (time.monotonic() - t0) * 1000)
    try:
        answering = ApiClient(found.base_url).healthz(timeout=2.0).status == 200
    except HttpError:
        answering = False
    if not answering:
        start = "cmem-ops server start" if isinstance(access, NativeJobsAccess) else "cmem-ops stack up --docker"
        raise NotRunningError(f"the server at {found.base_url} does not answer: cancel and retry go through its API",
                              hint=f"{start}   (then cmem-ops jobs recover)")
    outcomes: list[JobOutcome] = []
    groups: dict[tuple[str, str], list[JobState]] = {}
    for state in found.stuck:
        groups.setdefault((state.job.team_id, state.job.project_id), []).append(state)
    for (team, project), states in groups.items():
        created = access.create_key(FULL_SCOPES, team, project, KEY_NAME)
        client = ApiClient(found.base_url, created.key)
        try:
            for state in states:
                outcomes.append(_recover_one(client, access, state))
        finally:
            access.revoke_key(created.id)
    if wait_s > 0:
        outcomes = _wait_final(access, outcomes, wait_s)
    return RecoveryReport(found, tuple(outcomes), commands, False, (time.monotonic() - t0) * 1000)


def _recover_one(client: ApiClient, access: RecoveryAccess, state: JobState) -> JobOutcome:
    job = state.job
    deleted = False
    if state.delete_lock and state.lock_key:
        # Prove it again right before acting: the holder must still be dead.
        if access.recheck_holder(job, state.holder_pid) is not False:
            return JobOutcome(job.id, False, None, None, None, f"skipped: {job.locked_by} is no longer provably dead")
        deleted = access.delete_lock(state.lock_key)
    try:
        cancel = client.cancel_job(job.id)
        if cancel.status not in (200, 409):
            return JobOutcome(job.id, deleted, cancel.status, None, None, f"cancel answered {cancel.text[:120]}")
        retry = client.retry_job(job.id)
    except HttpError as exc:
        return JobOutcome(job.id, deleted, None, None, None, f"the server did not answer: {exc.detail}")
    status = ((retry.body.get("generationJob") or {}).get("status") if retry.status == 200 else None)
    note = "" if retry.status == 200 else f"retry answered {retry.status}: {retry.text[:120]}"
    return JobOutcome(job.id, deleted, cancel.status, retry.status, status, note)


def _wait_final(access: RecoveryAccess, outcomes: list[JobOutcome], wait_s: float) -> list[JobOutcome]:
    """Poll the rows in Postgres (reading jobs over HTTP would need another key) until they finish or `wait_s`."""
    ids = [o.job_id for o in outcomes if o.ok]
    final: dict[str, str] = {}
    if ids:
        def finished() -> bool:
            final.update(access.statuses(ids, timeout=5.0))
            return all(final.get(i) in TERMINAL for i in ids)

        # Running out of time is an answer here: the report shows each job's last status.
        with contextlib.suppress(OpsTimeoutError):
            poll(finished, Deadline.after(wait_s), what="the recovered jobs to finish", interval=0.2,
                 max_interval=0.5)
    return [JobOutcome(o.job_id, o.lock_deleted, o.cancel_status, o.retry_status,
                       final.get(o.job_id, o.final_status), o.note) for o in outcomes]
