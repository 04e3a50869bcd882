"""What the e2e steps share: a private data dir, the CLI run as a user would, the API, counting views.

Everything the e2e starts lives under one temporary directory (data dir, managed Valkey, managed
Postgres's PGDATA via CMEM_OPS_POSTGRES_ROOT); the runtime is reused from an existing install (by
symlink) or installed there.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..claudemem.api import ApiClient, ApiResponse, build_event
from ..errors import OpsTimeoutError
from ..http_client import HttpError
from ..paths import Paths
from ..pidfile import PidRecord, read_pidfile
from ..redis_url import parse_redis_url
from ..runner import Completed, Runner
from ..settings import read_settings_file
from ..store_client import StoreConnection, open_store
from ..wait import Deadline, poll
from .fake_llm import FakeLlm

CLI_TIMEOUT_S = 180.0


class StepFailed(Exception):
    """A check of a step did not hold; the message says what was expected and what was seen."""


def expect(condition: bool, message: str) -> None:
    """Raise StepFailed(message) unless `condition`."""
    if not condition:
        raise StepFailed(message)


def private_env(base_env: Mapping[str, str], data_dir: Path, home: Path, pg_root: Path) -> dict[str, str]:
    """The e2e's environment: the caller's minus any claude-mem/cmem-ops setting, with private dirs (pure)."""
    env = {k: v for k, v in base_env.items()
           if not k.startswith(("CLAUDE_MEM_", "CMEM_OPS_")) and k not in ("REDIS_URL",)}
    env.update({"HOME": str(home), "CLAUDE_MEM_DATA_DIR": str(data_dir), "CMEM_OPS_POSTGRES_ROOT": str(pg_root)})
    return env


@dataclass
class PostedEvent:
    """An event the e2e posted: its e2e id (payload.e2e_id), and what the server answered."""

    e2e_id: str
    event_id: str | None = None
    job_id: str | None = None
    bullmq_job_id: str | None = None
    status: int | None = None
    attempts: int = 0


@dataclass
class World:
    """The e2e's state: where things are, the test double, the keys, the events posted so far."""

    base: Path
    env: dict[str, str]
    runner: Runner
    llm: FakeLlm
    say: Callable[[str], None]
    full_key: str | None = None
    full_key_id: str | None = None
    ro_key: str | None = None
    ro_key_id: str | None = None
    project_id: str | None = None
    team_id: str | None = None
    session: str = field(default_factory=lambda: f"e2e-{os.getpid()}-{int(time.time())}")
    events: dict[str, list[PostedEvent]] = field(default_factory=dict)
    started_pids: dict[str, PidRecord] = field(default_factory=dict)

    @property
    def paths(self) -> Paths:
        return Paths(Path(self.env["CLAUDE_MEM_DATA_DIR"]))

    def settings(self) -> dict[str, Any]:
        return read_settings_file(self.paths.settings_file)

    def cli(self, *args: str, check: bool = True, timeout: float = CLI_TIMEOUT_S) -> Completed:
        """Run `cmem-ops ARGS` as a user would (a new interpreter, the private environment)."""
        done = self.runner.run([sys.executable, "-m", "cmem_ops", *args], timeout=timeout, env=self.env)
        if check and not done.ok:
            tail = (done.stderr.strip() or done.stdout.strip()).splitlines()[-6:]
            raise StepFailed(f"`cmem-ops {' '.join(args)}` exited {done.returncode}: " + " | ".join(tail))
        return done

    def cli_json(self, *args: str, check: bool = True, timeout: float = CLI_TIMEOUT_S) -> dict[str, Any]:
        """Run `cmem-ops ARGS --json` and return its envelope."""
        done = self.cli(*args, "--json", check=check, timeout=timeout)
        try:
            value = json.loads(done.stdout)
        except ValueError:
            raise StepFailed(f"`cmem-ops {' '.join(args)} --json` printed no JSON: {done.stdout[:200]!r}") from None
        if not isinstance(value, dict):
            raise StepFailed(f"`cmem-ops {' '.join(args)} --json` printed {type(value).__name__}")
        return value

    @property
    def base_url(self) -> str:
        settings = self.settings()
        return f"http://{settings.get('CLAUDE_MEM_SERVER_HOST', '127.0.0.1')}:{settings['CLAUDE_MEM_SERVER_PORT']}"

    def api(self, key: str | None = None, timeout: float = 10.0) -> ApiClient:
        return ApiClient(self.base_url, key, timeout)

    @property
    def database_url(self) -> str:
        return str(self.settings()["CLAUDE_MEM_SERVER_DATABASE_URL"])

    @property
    def prefix(self) -> str:
        return str(self.settings()["CLAUDE_MEM_QUEUE_REDIS_PREFIX"])

    def redis(self, timeout: float = 5.0) -> StoreConnection:
        return open_store(parse_redis_url(str(self.settings()["CLAUDE_MEM_REDIS_URL"])), timeout)

    def record(self, component: str) -> PidRecord | None:
        """cmem-ops' record of `component` (server, worker-1, postgres) or the store's."""
        path = self.paths.redis_pid if component == "redis" else self.paths.run_dir / f"{component}.json"
        return read_pidfile(path)

    def event(self, n: int, group: str) -> dict[str, Any]:
        """The body of the n-th event of `group`; payload.e2e_id names it for the counting queries."""
        assert self.project_id is not None
        return build_event(self.project_id, session_id=self.session,
                           payload={"e2e_id": f"{self.session}-{group}-{n}", "tool_name": "Edit",
                                    "tool_input": {"file_path": f"src/{group}_{n}.py"},
                                    "tool_response": f"e2e {group} event {n}"})

    def post(self, group: str, n: int, *, deadline_s: float = 90.0, request_timeout: float = 30.0) -> PostedEvent:
        """POST the n-th event of `group` until the server accepts it (201), re-posting the same body on
        connection errors and timeouts (idempotent: same body, same event and job)."""
        body = self.event(n, group)
        posted = PostedEvent(str(body["payload"]["e2e_id"]))
        client = self.api(self.full_key, timeout=request_timeout)

        def accepted() -> ApiResponse | None:
            posted.attempts += 1
            resp = client.post_event(body)  # HttpError (no server yet, or it went away): post it again
            posted.status = resp.status
            if resp.status == 201:
                return resp
            if resp.status < 500:
                raise StepFailed(f"POST /v1/events answered {resp.status}: {resp.text[:160]}")
            return None  # 5xx while the server restarts: post it again

        try:
            resp = poll(accepted, Deadline.after(deadline_s), what=f"event {posted.e2e_id} to be accepted",
                        transient=(HttpError,), interval=0.1, max_interval=0.1)
        except OpsTimeoutError as exc:
            raise StepFailed(f"{exc.message} (last status {posted.status})") from None
        posted.event_id = (resp.body.get("event") or {}).get("id")
        job = resp.body.get("generationJob") or {}
        posted.job_id, posted.bullmq_job_id = job.get("id"), job.get("bullmqJobId")
        self.events.setdefault(group, []).append(posted)
        return posted

    def job_rows(self, e2e_ids: list[str]) -> list[dict[str, Any]]:
        """For each event (by payload.e2e_id): its event id, its jobs' ids, status, attempts and observations."""
        import psycopg
        from psycopg.rows import dict_row

        sql = """
            SELECT e.payload->>'e2e_id' AS e2e_id, e.id AS event_id, j.id AS job_id, j.status, j.attempts,
                   j.bullmq_job_id,
                   (SELECT count(*) FROM observations o WHERE o.created_by_job_id = j.id) AS observations
            FROM agent_events e LEFT JOIN observation_generation_jobs j ON j.agent_event_id = e.id
            WHERE e.payload->>'e2e_id' = ANY(%s)
            ORDER BY 1, j.created_at"""
        with psycopg.connect(self.database_url, connect_timeout=5, autocommit=True, row_factory=dict_row) as conn:
            return list(conn.execute(sql, (e2e_ids,)).fetchall())

    def bullmq_job(self, bullmq_job_id: str) -> dict[str, Any]:
        """What BullMQ holds for a job: completed or not, attempts made/started, its return value."""
        queue = f"{self.prefix}:server_beta_generate_event"
        with self.redis() as conn:
            score = conn.command("ZSCORE", f"{queue}:completed", bullmq_job_id)
            raw = conn.command("HGETALL", f"{queue}:{bullmq_job_id}")
        fields: dict[str, str] = {}
        if isinstance(raw, list):
            items = [v.decode() if isinstance(v, bytes) else str(v) for v in raw]
            fields = dict(zip(items[::2], items[1::2], strict=False))
        try:
            returned = json.loads(fields.get("returnvalue") or "null")
        except ValueError:
            returned = None
        return {"completed": score is not None, "attempts_made": int(fields.get("atm") or 0),
                "attempts_started": int(fields.get("ats") or 0),
                "observations": (returned or {}).get("observationCount") if isinstance(returned, dict) else None}

    def wait_completed(self, e2e_ids: list[str], timeout: float) -> list[dict[str, Any]]:
        """Poll Postgres until every event's job is completed (or `timeout`); return the last rows."""
        rows: list[dict[str, Any]] = []

        def all_completed() -> bool:
            rows[:] = self.job_rows(e2e_ids)
            return {r["e2e_id"] for r in rows if r["status"] == "completed"} >= set(e2e_ids)

        with contextlib.suppress(OpsTimeoutError):  # the caller judges the last rows
            poll(all_completed, Deadline.after(timeout), what="every event's job to complete", interval=0.25,
                 max_interval=0.25)
        return rows
