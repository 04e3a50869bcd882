"""Text views of the claude-mem server, its workers, API keys and startup checks (pure `format_*`)."""

from __future__ import annotations

from ..claudemem.apikeys import ApiKey
from ..lifecycle.server import Outcome, ServerStart, ServerStatus, ServerStop
from ..lifecycle.worker import WorkerLine, WorkerReport
from ..probes.base import ProbeResult, Status
from .doctor import format_result
from .store import format_duration, format_fields


def format_checks(checks: tuple[ProbeResult, ...] | list[ProbeResult], *, problems_only: bool = True
                  ) -> list[tuple[str, Status | None]]:
    """Startup-check lines in the doctor's style; by default only warnings and failures."""
    shown = [c for c in checks if not problems_only or c.status in (Status.WARN, Status.FAIL)]
    return [(line, c.status) for c in shown for line in format_result(c)]


def format_server_start(result: ServerStart) -> list[str]:
    """One line for a server start (pure)."""
    if result.outcome is Outcome.ALREADY_RUNNING:
        return [f"The claude-mem server is already running (pid {result.pid}, {result.url}); nothing to do."]
    return [f"Started the claude-mem server {result.version} (pid {result.pid}, {result.url}, queue prefix "
            f"{result.prefix}) in {result.elapsed_ms:.0f} ms."]


def format_server_stop(result: ServerStop) -> list[str]:
    """One line for a server stop (pure)."""
    if result.outcome is Outcome.STOPPED:
        return [f"Stopped the claude-mem server (pid {result.pid}, {result.how})."]
    return [f"The claude-mem server is {result.how}."]


def format_server_status(status: ServerStatus) -> list[str]:
    """The lines of `cmem-ops server status` (pure)."""
    if status.running:
        lines = [f"Server: running on {status.url} (pid {status.pid})"]
        health = "ok" if status.healthy else "no answer" if status.healthy is False else "unknown"
        lines.append(f"Health: /healthz {health}" + (f"; {status.info}" if status.info else ""))
        if status.prefix:
            lines.append(f"Queue prefix: {status.prefix}")
        if status.version:
            lines.append(f"Version: claude-mem {status.version}")
        if status.uptime_s is not None:
            lines.append(f"Uptime: {format_duration(status.uptime_s)}")
        if status.claude_mem_pidfile == "missing":
            lines.append("Note: claude-mem's own .server-beta.pid is missing (its worker deletes it when it stops); "
                         "cmem-ops tracks the server by its own record")
    else:
        lines = ["Server: not running" + (f" ({status.url})" if status.url else "")]
    return lines + format_fields(("Problem", status.problem), ("Fix", status.hint))


def format_worker_line(line: WorkerLine) -> str:
    """One worker (pure)."""
    label = f"Worker {line.component.removeprefix('worker-')}"
    if line.outcome == "started":
        return f"{label}: started (pid {line.pid}, queue prefix {line.prefix})"
    if line.outcome in ("already-running", "running"):
        uptime = f", up {format_duration(line.uptime_s)}" if line.uptime_s is not None else ""
        state = "already running" if line.outcome == "already-running" else "running"
        return f"{label}: {state} (pid {line.pid}, queue prefix {line.prefix}{uptime})"
    if line.outcome == "stopped":
        return f"{label}: stopped (pid {line.pid}, {line.note})"
    return f"{label}: {line.note or 'not running'}"


def format_worker_report(report: WorkerReport, *, empty: str = "No worker started by cmem-ops.") -> list[str]:
    """Every worker line, or `empty` (pure)."""
    return [format_worker_line(w) for w in report.workers] or [empty]


def format_api_key(key: ApiKey, key_file: str | None = None) -> list[str]:
    """The created key: shown once (claude-mem stores only its hash) unless written to `key_file` (pure)."""
    lines = [f"Created API key {key.id} ({', '.join(key.scopes)})",
             f"Team: {key.team_id}", f"Project: {key.project_id}"]
    if key_file:
        lines.append(f"Key: written to {key_file} (mode 0600)")
    else:
        lines.append(f"Key: {key.key}")
        lines.append("It is shown this once: claude-mem keeps only its hash.")
    return lines
