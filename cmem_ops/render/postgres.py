"""Text views of the managed (or external) Postgres."""

from __future__ import annotations

from ..lifecycle.postgres import PgStatus
from .console import render_lines

__all__ = ["format_pg_status", "render_lines"]


def format_pg_status(status: PgStatus) -> list[str]:
    """The lines of `cmem-ops postgres start|stop|status` (pure)."""
    state = "running" if status.running else "not running"
    managed_where = f"127.0.0.1:{status.port}" if status.port else "(not configured)"
    where = managed_where if status.mode == "managed" else (status.url or "(not configured)")
    version = f" PostgreSQL {status.version}" if status.version else ""
    lines = [f"Postgres: {status.mode}{version}, {state} ({where})"]
    if status.pid is not None:
        lines.append(f"PID: {status.pid}")
    if status.data_dir:
        lines.append(f"Data: {status.data_dir}")
    if status.url:
        lines.append(f"URL: {status.url}")
    if status.problem:
        lines.append(f"Problem: {status.problem}")
    if status.hint:
        lines.append(f"Fix: {status.hint}")
    return lines
