"""pg_dump of claude-mem's database, with the row count of every table taken in the same snapshot.

One REPEATABLE READ transaction exports its snapshot (pg_export_snapshot), counts the rows of
every user table in it, and stays open while `pg_dump --snapshot` dumps exactly that state: the
counts in the manifest are the dump's, even while the server keeps writing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ..context import Context
from ..errors import OpsError, ProcessError
from ..redaction import redact_text
from ..wait import Deadline
from .manifest import FileEntry, PostgresPart
from .pgtools import Database, claude_mem_database, find_tool, parse_server_version, require_running
from .store_snapshot import sha256_file

if TYPE_CHECKING:
    import psycopg

Say = Callable[[str], None]
TABLES_SQL = ("SELECT schemaname, tablename FROM pg_tables "
              "WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2")


def build_dump_argv(pg_dump: Path, db: Database, dest: Path, snapshot: str | None) -> list[str]:
    """pg_dump in custom format, no owners or grants (restored into our own role) (pure)."""
    argv = [str(pg_dump), "--format=custom", "--no-owner", "--no-privileges", f"--file={dest}",
            f"--dbname={db.safe_url}"]
    if snapshot:
        argv.append(f"--snapshot={snapshot}")
    return argv


def connect(url: str, timeout: float = 10.0) -> psycopg.Connection[tuple[object, ...]]:
    """A psycopg connection, or OpsError naming the (redacted) URL."""
    import psycopg

    try:
        return psycopg.connect(url, connect_timeout=max(int(timeout), 1))
    except psycopg.Error as exc:
        raise OpsError(f"cannot connect to {redact_text(url)}: {str(exc).strip()}",
                       hint="cmem-ops postgres status") from exc


def count_rows(conn: psycopg.Connection[tuple[object, ...]]) -> dict[str, int]:
    """schema.table -> row count for every user table, in the connection's current snapshot."""
    from psycopg import sql

    counts: dict[str, int] = {}
    for schema, table in conn.execute(TABLES_SQL).fetchall():
        query = sql.SQL("SELECT count(*) FROM {}.{}").format(sql.Identifier(str(schema)), sql.Identifier(str(table)))
        row = conn.execute(query).fetchone()
        counts[f"{schema}.{table}"] = int(row[0]) if row else 0  # type: ignore[call-overload]
    return counts


def server_version(conn: psycopg.Connection[tuple[object, ...]]) -> tuple[str, int]:
    """The server's version text and major."""
    row = conn.execute("SHOW server_version").fetchone()
    return parse_server_version(str(row[0]) if row else "")


def dump_database(ctx: Context, dest: Path, entry_name: str, deadline: Deadline, say: Say = lambda _m: None
                  ) -> PostgresPart:
    """pg_dump claude-mem's database to `dest`; return its manifest entry (row counts of the same snapshot)."""
    import psycopg

    db = claude_mem_database(ctx)
    require_running(ctx, db)
    conn = connect(db.url)
    try:
        version, major = server_version(conn)
        conn.rollback()
        tool = find_tool(ctx, "pg_dump", major)
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        row = conn.execute("SELECT pg_export_snapshot()").fetchone()
        snapshot = str(row[0]) if row else None
        tables = count_rows(conn)
        say(f"postgres: pg_dump {tool.version} of {db.name} ({db.mode}, {sum(tables.values())} rows in "
            f"{len(tables)} tables)...")
        done = ctx.runner.run(build_dump_argv(tool.path, db, dest, snapshot), timeout=max(deadline.remaining(), 5.0),
                              env=db.env())
        if not done.ok:
            raise ProcessError(f"pg_dump of {db.name} failed (exit {done.returncode}): "
                               f"{redact_text(done.stderr.strip()[-400:])}",
                               hint=f"run it by hand: {tool.path} --dbname={redact_text(db.safe_url)} -Fc -f /tmp/x")
        conn.rollback()
    except psycopg.Error as exc:
        raise OpsError(f"reading {db.name} failed: {str(exc).strip()}", hint="cmem-ops postgres status") from exc
    finally:
        conn.close()
    return PostgresPart(file=FileEntry(entry_name, sha256_file(dest), dest.stat().st_size), server_version=version,
                        pg_dump_version=tool.version, database=db.name, mode=db.mode, tables=tables)
