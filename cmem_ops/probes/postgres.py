"""Postgres, claude-mem's canonical storage: connect, server version, claude-mem's schema present."""

from __future__ import annotations

from typing import Any

from ..redaction import redact_text
from .base import Group, ProbeResult, Status, Stopwatch, skipped

# Tables claude-mem's server creates at start (server-service.cjs 13.25.x).
SCHEMA_TABLES = ("agent_events", "api_keys", "observation_generation_jobs", "observations", "projects", "teams",
                 "server_beta_schema_migrations")
MIN_SERVER_VERSION = 120000


def probe_postgres(url: str | None, timeout: float, required: bool = True) -> list[ProbeResult]:
    """Connect with a bounded timeout and report version and schema; never raises for Postgres itself."""
    if not url:
        return [skipped("postgres", "(not configured)", "CLAUDE_MEM_SERVER_DATABASE_URL is not set", Group.POSTGRES,
                        required=False)]
    label = redact_text(url)
    sw = Stopwatch()
    import psycopg  # a core dependency, imported here to keep start-up light
    seconds = max(2, int(timeout + 0.999))  # libpq takes whole seconds and treats 1 as 2
    try:
        with psycopg.connect(url, connect_timeout=seconds, options=f"-c statement_timeout={int(timeout * 1000)}",
                             autocommit=True) as conn:
            connected_ms = sw.ms
            row: Any = conn.execute("SELECT current_setting('server_version_num')::int, version()").fetchone()
            version_num, version_text = int(row[0]), str(row[1])
            tables = {r[0] for r in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()").fetchall()}
            migration = None
            if "server_beta_schema_migrations" in tables:
                mrow: Any = conn.execute("SELECT count(*) FROM server_beta_schema_migrations").fetchone()
                migration = int(mrow[0])
    except psycopg.OperationalError as exc:
        message = " ".join(str(exc).split())
        low = message.lower()
        if "password authentication failed" in low or "no password supplied" in low:
            hint = "fix the user/password in CLAUDE_MEM_SERVER_DATABASE_URL"
        elif "does not exist" in low and "database" in low:
            hint = "create the database: createdb -h <host> -p <port> -U <user> <dbname>"
        elif "timeout" in low:
            hint = "check that the host is reachable and Postgres runs there"
        else:
            hint = "start Postgres (cmem-ops stack up starts the managed one), or fix CLAUDE_MEM_SERVER_DATABASE_URL"
        return [ProbeResult("postgres", label, Status.FAIL, f"cannot connect: {redact_text(message)}", hint=hint,
                            group=Group.POSTGRES, required=required).timed(sw.ms)]
    except psycopg.Error as exc:
        return [ProbeResult("postgres", label, Status.FAIL, f"query failed: {redact_text(str(exc))}",
                            hint="check the database user's permissions", group=Group.POSTGRES,
                            required=required).timed(sw.ms)]
    results = []
    short = version_text.split(",")[0]
    if version_num < MIN_SERVER_VERSION:
        results.append(ProbeResult("postgres", label, Status.FAIL, f"{short} is too old (claude-mem needs 12+)",
                                   hint="upgrade PostgreSQL", group=Group.POSTGRES, required=required,
                                   data={"server_version_num": version_num}).timed(connected_ms))
    else:
        results.append(ProbeResult("postgres", label, Status.OK, f"{short}, connected in {connected_ms:.0f} ms",
                                   group=Group.POSTGRES, required=required,
                                   data={"server_version_num": version_num}).timed(connected_ms))
    missing = [t for t in SCHEMA_TABLES if t not in tables]
    if missing:
        status = Status.WARN
        summary = ("claude-mem's schema is not there yet" if len(missing) == len(SCHEMA_TABLES)
                   else f"claude-mem's schema is incomplete: missing {', '.join(missing)}")
        results.append(ProbeResult("schema", label, status, summary,
                                   detail="the server creates its tables when it starts",
                                   hint="start the server once: cmem-ops server start", group=Group.POSTGRES,
                                   required=required, data={"missing": missing}).timed(sw.ms))
    else:
        results.append(ProbeResult("schema", label, Status.OK, f"claude-mem schema present ({migration} migrations)",
                                   group=Group.POSTGRES, required=required,
                                   data={"migrations": migration}).timed(sw.ms))
    return results
