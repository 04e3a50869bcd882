"""Stuck jobs on the docker stack: the same reads and acts as the native path, inside the compose network.

The store and Postgres are not published (only the server is), so everything goes through
`docker compose exec` of the project's own containers (containers/compose_argv.py builds the argv):

    processing rows, statuses   psql in the postgres container (local socket; one JSON line back)
    BullMQ locks: EXISTS, DEL   valkey-cli in the valkey container, the password read from the mounted
                                file inside it (REDISCLI_AUTH), so it is in no argv
    keys for cancel/retry       the bundle's `server api-key create|revoke` in the server container
    cancel, retry               the server's published port, like the native path

Proving a lock's holder dead: every worker container runs the bundle as pid 1, so `locked_by`
(`server-<pid>`) names no container. A worker that locked a job was running at `locked_at`; when every
running worker container of the project started after that instant (a crashed one restarted by its
policy, or none running), the holder is gone. A worker that was already running then might still hold
it: unknown, the lock expires within 300 s. That proof covers the workers of this compose project:
the store is on the project's network only.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..claudemem import apikeys
from ..containers.compose import Compose
from ..containers.compose_argv import build_exec_argv
from ..containers.engine import Engine
from ..context import Context
from ..errors import NotRunningError, OpsError
from ..lifecycle import docker_stack_config as cfg
from ..lifecycle.docker_stack_project import compose_for, read_state
from .stuck import PROCESSING_SQL, ProcessingJob, ScanError, ScanSide, row_to_job

ENTRYPOINT = "/usr/local/bin/claude-mem-entrypoint"
CLI_ENV = {"CLAUDE_MEM_POSTGRES_IDLE_TIMEOUT_MS": "300"}


def build_rows_sql(query: str) -> str:
    """`query`'s rows as one JSON array (with each row's locked_at as epoch seconds) (pure)."""
    return (f"SELECT coalesce(json_agg(row_to_json(t)), '[]'::json) FROM ("
            f"SELECT q.*, EXTRACT(EPOCH FROM q.locked_at)::float8 AS locked_at_epoch FROM ({query.strip()}) q) t")


def build_statuses_sql(ids: list[str]) -> str:
    """The status of each job id as one JSON object (ids are validated, then quoted) (pure)."""
    for job_id in ids:
        if not re.fullmatch(r"[0-9A-Za-z_-]+", job_id):
            raise ValueError(f"not a job id: {job_id!r}")
    listed = ",".join(f"'{j}'" for j in ids) or "NULL"
    return ("SELECT coalesce(json_object_agg(id, status), '{}'::json) FROM observation_generation_jobs "
            f"WHERE id IN ({listed})")


def build_locks_script(verb: str, keys: Iterable[str]) -> str:
    """A sh script running `valkey-cli VERB key` once per key, one reply per line (pure)."""
    return f"for k in {' '.join(shlex.quote(k) for k in keys)}; do {cfg.VALKEY_CLI}{verb} \"$k\"; done"


def parse_started_at(text: str) -> float | None:
    """A container's State.StartedAt (RFC 3339, nanoseconds) as epoch seconds; None when unset (pure)."""
    match = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)", text.strip())
    if not match or match.group(1).startswith("0001-"):
        return None
    fraction = (match.group(2) or ".0")[:7]
    zone = "+00:00" if match.group(3) == "Z" else match.group(3)
    return datetime.fromisoformat(match.group(1) + fraction + zone).timestamp()


def judge_holder(locked_at: float | None, worker_starts: list[float]) -> bool | None:
    """False when every running worker started after `locked_at` (the holder is gone); None otherwise (pure)."""
    if locked_at is None:
        return None
    return None if any(start <= locked_at for start in worker_starts) else False


@dataclass
class DockerJobsAccess:
    """Rows, locks, keys and holders of this data dir's docker stack (see the module docstring)."""

    ctx: Context
    compose: Compose
    project: str
    base_url: str
    prefix: str
    local: bool = False  # locked_by pids mean nothing here: judge_holder() decides instead

    def __post_init__(self) -> None:
        self._locked_at: dict[str, float | None] = {}
        self._worker_starts: list[float] | None = None

    def _psql(self, sql: str, timeout: float) -> Any:
        out = self.compose.exec("postgres", ["psql", "-U", cfg.POSTGRES_USER, "-d", "claude_mem", "-X", "-q",
                                             "-Atc", sql], timeout=timeout)
        return json.loads(out.strip() or "null")

    def processing(self, timeout: float) -> list[ProcessingJob]:
        """Every `processing` row (ScanError POSTGRES when psql in the container fails)."""
        try:
            rows = self._psql(build_rows_sql(PROCESSING_SQL), timeout + 30)
        except (OpsError, ValueError) as exc:
            raise ScanError(ScanSide.POSTGRES, getattr(exc, "message", str(exc))[:300]) from exc
        rows = rows if isinstance(rows, list) else []
        self._locked_at = {str(r["id"]): r.get("locked_at_epoch") for r in rows}
        return sorted((row_to_job(r) for r in rows), key=lambda j: (self._locked_at.get(j.id) or 0.0, j.id))

    def locks(self, keys: list[str], timeout: float) -> dict[str, bool]:
        """EXISTS of each lock key, by valkey-cli in the store container (ScanError STORE when it fails)."""
        if not keys:
            return {}
        try:
            out = self.compose.exec("valkey", ["sh", "-c", build_locks_script("EXISTS", keys)], timeout=timeout + 30)
        except OpsError as exc:
            raise ScanError(ScanSide.STORE, f"{self.project}/valkey: {exc.message[:300]}") from exc
        replies = out.split()
        if len(replies) != len(keys):
            raise ScanError(ScanSide.STORE, f"{self.project}/valkey: valkey-cli answered {out.strip()[:120]!r}")
        return {key: reply.strip() == "1" for key, reply in zip(keys, replies, strict=True)}

    def holder_alive(self, job: ProcessingJob, pid: int | None) -> bool | None:
        """False when the job's worker is proven gone (every running worker started after locked_at)."""
        if self._worker_starts is None:
            self._worker_starts = self._read_worker_starts()
        return judge_holder(self._locked_at.get(job.id), self._worker_starts)

    def recheck_holder(self, job: ProcessingJob, pid: int | None) -> bool | None:
        """holder_alive() again from fresh container states (right before deleting a lock)."""
        self._worker_starts = None
        return self.holder_alive(job, pid)

    def _read_worker_starts(self) -> list[float]:
        engine = Engine.connect()
        try:
            starts = []
            for name in engine.containers_labelled(f"com.docker.compose.project={self.project}"):
                doc = engine.inspect(name)
                labels = (doc.get("Config") or {}).get("Labels") or {}
                state = doc.get("State") or {}
                if labels.get("com.docker.compose.service") != cfg.WORKER or not state.get("Running"):
                    continue
                # A container whose start time cannot be read counts as running since forever.
                starts.append(parse_started_at(str(state.get("StartedAt") or "")) or 0.0)
            return starts
        finally:
            engine.close()

    def delete_lock(self, key: str) -> bool:
        """DEL the lock key in the store container; True when it existed."""
        return self.compose.exec("valkey", ["sh", "-c", build_locks_script("DEL", [key])], timeout=30).strip() == "1"

    def statuses(self, ids: list[str], timeout: float) -> dict[str, str]:
        """Each job's current status."""
        value = self._psql(build_statuses_sql(ids), timeout + 30)
        return {str(k): str(v) for k, v in (value or {}).items()}

    def create_key(self, scopes: tuple[str, ...], team: str, project: str, name: str) -> apikeys.ApiKey:
        """A key of (team, project), made by the bundle's CLI in the server container."""
        return apikeys.create_api_key(self.ctx.runner, _ServerBundle(self.compose), {}, scopes, team, project, name)

    def revoke_key(self, key_id: str) -> None:
        """Revoke a key made by create_key()."""
        apikeys.revoke_api_key(self.ctx.runner, _ServerBundle(self.compose), {}, key_id)


@dataclass(frozen=True)
class _ServerBundle:
    """The bundle CLI as `docker compose exec` of the server container (apikeys.BundleArgv)."""

    compose: Compose

    def argv(self, *args: str) -> list[str]:
        return build_exec_argv(self.compose.project, cfg.SERVER, [ENTRYPOINT, *args], env=CLI_ENV)

    def env(self) -> dict[str, str]:
        return dict(self.compose.env)


def open_access(ctx: Context) -> DockerJobsAccess:
    """The access to this data dir's docker stack; NotRunningError when none was started here."""
    state = read_state(ctx)
    if state is None:
        raise NotRunningError("no docker stack was started from this data dir (CLAUDE_MEM_STACK=docker)",
                              hint="cmem-ops stack up --docker")
    compose = compose_for(ctx, state, cfg.choose_images({}, frozenset()))
    return DockerJobsAccess(ctx, compose, state.project, f"http://127.0.0.1:{state.server_port}", state.prefix)
