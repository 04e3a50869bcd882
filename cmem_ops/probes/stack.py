"""The stack cmem-ops runs: server and worker processes alive and ours, one queue prefix, no stuck jobs,
and why /v1/info hangs when it does.

    processes     run/server.json and run/worker-N.json name live processes of ours (start time + token)
    queue prefix  the HTTP server's prefix (/v1/info), the pinned one (settings), the workers' (our records)
                  and the prefixes of the BullMQ consumers connected to the store (CLIENT LIST) all agree
    stuck jobs    no job `processing` in Postgres without a live BullMQ lock (a worker killed mid-job)
    info cause    /v1/info waits on the queue store: when it times out and the store is silent, say so
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from pathlib import Path

from ..context import Context
from ..errors import ConfigError
from ..jobs.stuck import ScanError, ScanSide, Verdict, format_recovery_commands, scan
from ..paths import Paths
from ..pidfile import identify, read_pidfile
from ..redis_url import RedisTarget
from ..resp import RespError
from ..store_answer import ask
from ..store_client import open_store
from ..wait import Deadline
from .base import Group, ProbeResult, Status, Stopwatch
from .ownership import port_is_ours

QUEUES = ("server_beta_generate_event", "server_beta_generate_summary")
CLAUDE_MEM_PIDFILE = ".server-beta.pid"


def _result(name: str, target: str, status: Status, summary: str, hint: str | None = None, detail: str = "",
            required: bool = True, data: dict[str, object] | None = None) -> ProbeResult:
    return ProbeResult(name, target, status, summary, detail=detail, hint=hint, group=Group.SERVER,
                       required=required, data=dict(data or {}))


def _records(paths: Paths) -> list[Path]:
    if not paths.run_dir.is_dir():
        return []
    server = paths.run_dir / "server.json"
    workers = sorted(paths.run_dir.glob("worker-*.json"),
                     key=lambda p: int(p.stem.split("-", 1)[1]) if p.stem.split("-", 1)[1].isdigit() else 0)
    return ([server] if server.exists() else []) + workers


def probe_processes(paths: Paths) -> list[ProbeResult]:
    """One line for the server and one per worker that cmem-ops started; SKIP when it started none."""
    sw = Stopwatch()
    records = _records(paths)
    if not records:
        return [_result("processes", "cmem-ops", Status.SKIP, "no server or worker started by cmem-ops",
                        required=False)]
    results = []
    workers_alive = 0
    has_server = False
    for path in records:
        record = read_pidfile(path)
        name = path.stem
        if record is None:
            results.append(_result(name, str(path), Status.WARN, "unreadable record: not one of ours",
                                   hint=f"rm {path}", required=False))
            continue
        alive = identify(record) is not None
        command = "server" if name == "server" else "worker"
        if name == "server":
            has_server = True
        if not alive:
            results.append(_result(name, f"pid {record.pid}", Status.FAIL,
                                   f"not running: pid {record.pid} is gone or no longer ours (never signalled)",
                                   hint=f"cmem-ops {command} start   (or cmem-ops stack up)"))
            continue
        if name != "server":
            workers_alive += 1
        detail = ""
        if name == "server" and _claude_mem_pid(paths) != record.pid:
            detail = ("claude-mem's own .server-beta.pid is missing or stale (its worker deletes it on stop); "
                      "cmem-ops tracks the server by its own record")
        prefix = (record.extra or {}).get("prefix")
        results.append(_result(name, f"pid {record.pid}", Status.OK,
                               f"pid {record.pid} is our {command}" + (f" (queue prefix {prefix})" if prefix else ""),
                               detail=detail, data={"pid": record.pid, "prefix": prefix}).timed(sw.ms))
    if has_server and workers_alive == 0 and not any(p.stem.startswith("worker-") for p in records):
        results.append(_result("workers", "cmem-ops", Status.WARN, "the server runs but no worker of ours does: "
                               "events are queued and never processed", hint="cmem-ops worker start",
                               required=False))
    return results


def _claude_mem_pid(paths: Paths) -> int | None:
    try:
        value = json.loads((paths.data_dir / CLAUDE_MEM_PIDFILE).read_text(encoding="utf-8")).get("pid")
        return int(value)
    except (OSError, ValueError, TypeError, AttributeError):
        return None


def parse_consumer_prefixes(client_list: str) -> set[str]:
    """Prefixes of BullMQ workers in CLIENT LIST: their connections are named `<prefix>:<base64 queue>` (pure)."""
    found = set()
    for line in client_list.splitlines():
        fields = dict(part.split("=", 1) for part in line.split() if "=" in part)
        name = fields.get("name", "")
        if ":" not in name:
            continue
        head, _, tail = name.rpartition(":")
        if tail == "qe":  # the QueueEvents-style twin `<prefix>:<b64>:qe`
            head, _, tail = head.rpartition(":")
        try:
            queue = base64.b64decode(tail, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            continue
        if queue in QUEUES and head:
            found.add(head)
    return found


def read_consumer_prefixes(target: RedisTarget, timeout: float) -> set[str]:
    """The prefixes BullMQ workers connected to the store consume (socket/RESP errors propagate)."""
    with open_store(target, timeout) as conn:
        return parse_consumer_prefixes(conn.text("CLIENT", "LIST"))


def judge_prefixes(pinned: str | None, server: str | None, recorded: Iterable[str],
                   consumers: set[str] | None) -> ProbeResult:
    """Verdict on the queue prefixes of the server, the settings, our workers and the live consumers (pure).

    FAIL when the server, the pinned prefix or a worker of ours disagree, or when BullMQ consumers are
    connected but none reads the server's prefix; WARN when some consumer reads another prefix beside
    one that reads the server's (a stray worker, or another stack sharing the store).
    """
    recorded = sorted(set(recorded))
    data: dict[str, object] = {"pinned": pinned, "server": server, "workers": recorded,
                               "consumers": sorted(consumers) if consumers is not None else None}
    reference = server or pinned
    if reference is None:
        return _result("queue prefix", "stack", Status.SKIP, "no prefix known yet (server not answering, none pinned)",
                       required=False, data=data)
    hint = ("pin one: set CLAUDE_MEM_QUEUE_REDIS_PREFIX in settings.json, then "
            "cmem-ops server restart && cmem-ops worker stop && cmem-ops worker start")
    drift = [f"{where} uses {value}" for where, value in (("settings", pinned), ("the server", server))
             if value and value != reference]
    drift += [f"a worker of ours uses {p}" for p in recorded if p != reference]
    others = sorted(c for c in (consumers or set()) if c != reference)
    if consumers and reference not in consumers:
        drift += [f"the connected BullMQ consumers use {', '.join(others)}"]
    if drift:
        return _result("queue prefix", "stack", Status.FAIL,
                       f"prefix drift: the server reads {reference}, but " + "; ".join(drift),
                       detail="processes with different prefixes read different queues: events are never processed",
                       hint=hint, data=data)
    if others:
        return _result("queue prefix", "stack", Status.WARN,
                       f"the server and its workers share {reference}, but BullMQ consumers also read "
                       f"{', '.join(others)}", detail="a worker started by hand without the pinned prefix, or "
                       "another stack sharing this store", hint=hint, required=False, data=data)
    if consumers is not None and not consumers:
        return _result("queue prefix", "stack", Status.OK, f"{reference} (no BullMQ consumer connected)", data=data)
    return _result("queue prefix", "stack", Status.OK, f"server and workers share {reference}", data=data)


def explain_info_timeout(results: list[ProbeResult], store_error: str | None, store_hint: str) -> list[ProbeResult]:
    """Name the queue store as the cause of a hanging /v1/info or /api/health when it does not answer (pure)."""
    if store_error is None:
        return results
    out = []
    for result in results:
        hung = result.name in ("info", "api health") and result.status in (Status.FAIL, Status.WARN) \
            and "within" in result.summary
        if hung:
            path = "/v1/info" if result.name == "info" else "/api/health"
            result = result._replace(status=Status.FAIL if result.name == "info" else result.status,
                             summary=f"GET {path} hangs because the queue store (Valkey) does not answer: "
                                     f"{store_error}",
                             detail=f"{path} waits for the queue store; /healthz stays 200 meanwhile",
                             hint=store_hint)
        out.append(result)
    return out


def store_error(target: RedisTarget, timeout: float) -> str | None:
    """None when the store answers PING, else why not."""
    answer = ask(target, timeout)
    return None if answer.ok else f"{target.address}: {answer.error}"


def probe_stuck_jobs(database_url: str | None, target: RedisTarget | None, prefix: str | None, base_url: str,
                     timeout: float) -> ProbeResult:
    """WARN when a job is `processing` in Postgres with no live BullMQ lock, with the exact recovery commands."""
    sw = Stopwatch()
    if not database_url or target is None or not prefix:
        return _result("stuck jobs", "postgres", Status.SKIP, "needs the database URL, the queue store and a "
                       "pinned prefix", required=False)
    try:
        states = scan(database_url, target, prefix, timeout)
    except ScanError as exc:  # the postgres and store groups report the cause with its fix
        what = "jobs" if exc.side is ScanSide.POSTGRES else "BullMQ locks"
        return _result("stuck jobs", "postgres", Status.SKIP, f"cannot read {what}: {exc.detail[:120]}",
                       required=False).timed(sw.ms)
    if not states:
        return _result("stuck jobs", "postgres", Status.OK, "no job is processing").timed(sw.ms)
    stuck = [s for s in states if s.verdict is Verdict.STUCK]
    if not stuck:
        return _result("stuck jobs", "postgres", Status.OK, f"{len(states)} processing, none stuck").timed(sw.ms)
    commands = format_recovery_commands(stuck, base_url)
    first = stuck[0]
    return _result("stuck jobs", "postgres", Status.WARN,
                   f"{len(stuck)} job(s) stuck processing: {first.job.id} ({first.reason})",
                   detail="by hand, with a memories:write key of the job's project: " + " ; ".join(commands),
                   hint="cmem-ops jobs recover",
                   data={"stuck": [s.job.id for s in stuck], "commands": commands}).timed(sw.ms)


def recorded_worker_prefixes(paths: Paths) -> list[str]:
    """The prefixes our live workers were started with."""
    prefixes = []
    for path in _records(paths):
        if path.stem == "server":
            continue
        record = read_pidfile(path)
        if record is not None and identify(record) is not None and (record.extra or {}).get("prefix"):
            prefixes.append(str((record.extra or {})["prefix"]))
    return prefixes


def with_stack(ctx: Context, deadline: Deadline, http_results: list[ProbeResult], base_url: str
               ) -> list[ProbeResult]:
    """The server group's HTTP results, with /v1/info hangs explained, plus the stack checks (each bounded
    by what is left of the doctor's deadline)."""
    def budget(cap: float) -> float:
        return max(min(cap, deadline.remaining() - 0.15), 0.1)

    try:
        target = ctx.settings.redis_target()
        managed = ctx.settings.redis_mode.value == "managed"
    except ConfigError:
        target, managed = None, False
    if managed and target is not None and port_is_ours(ctx.paths, target.port) is False:
        target = None  # managed means ours: a foreign server on the managed port is not read (the store group names it)
    results = list(http_results)
    hung = any(r.name in ("info", "api health") and "within" in r.summary for r in results)
    if hung and target is not None:
        hint = "cmem-ops store start" if managed else "check the queue store: cmem-ops doctor --only store"
        results = explain_info_timeout(results, store_error(target, budget(1.0)), hint)
    results += probe_processes(ctx.paths)
    info = next((r for r in results if r.name == "info" and r.status is not Status.FAIL), None)
    queue_manager = (info.data.get("queueManager") or {}) if info else {}
    server_prefix = (queue_manager.get("details") or {}).get("prefix") if isinstance(queue_manager, dict) else None
    consumers = None
    if target is not None:
        try:
            consumers = read_consumer_prefixes(target, budget(1.0))
        except (OSError, RespError):
            consumers = None
    results.append(judge_prefixes(ctx.settings.queue_prefix, server_prefix, recorded_worker_prefixes(ctx.paths),
                                  consumers))
    results.append(probe_stuck_jobs(ctx.settings.get("CLAUDE_MEM_SERVER_DATABASE_URL"), target,
                                    ctx.settings.queue_prefix, base_url, budget(2.0)))
    return results
