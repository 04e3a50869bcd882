"""Text views of the managed (or external) Postgres."""

from __future__ import annotations

from ..lifecycle.postgres import PgMode, PgStatus
from .store import NO_ADDRESS, format_fields


def format_pg_status(status: PgStatus) -> list[str]:
    """The lines of `cmem-ops postgres start|stop|status` (pure)."""
    state = "running" if status.running else "not running"
    managed_where = f"127.0.0.1:{status.port}" if status.port else NO_ADDRESS
    where = managed_where if status.mode is PgMode.MANAGED else (status.url or NO_ADDRESS)
    version = f" PostgreSQL {status.version}" if status.version else ""
    return [f"Postgres: {status.mode}{version}, {state} ({where})",
            *format_fields(("PID", status.pid), ("Data", status.data_dir), ("URL", status.url),
                           ("Problem", status.problem), ("Fix", status.hint))]
