"""Restore claude-mem's database from a pg_dump, keeping the current one aside.

Managed cluster: the current database is renamed `<name>_before_restore_<stamp>`, a fresh one is
created for our role, `pg_restore --single-transaction --exit-on-error` fills it, and every
table's row count must equal the manifest's. On failure the new database is dropped and the old
one renamed back. An external database is refused unless `force_external`; then its current
contents are first saved with pg_dump (the aside copy), and restored from it on failure.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..context import Context
from ..errors import ConfigError, ConflictError, OpsError, ProcessError
from ..lifecycle import postgres as pg_service
from ..lifecycle.postgres import PgMode
from ..paths import ensure_private_dir
from ..redaction import redact_text
from ..wait import Deadline
from .manifest import PostgresPart
from .pgtools import Database, PgTool, claude_mem_database, find_tool, require_running, with_database
from .postgres_dump import build_dump_argv, connect, count_rows, server_version

Say = Callable[[str], None]


@dataclass(frozen=True)
class PreparedPostgres:
    """Everything checked before anything stops: the database, the dump and the tools of the server's major."""

    db: Database
    part: PostgresPart
    dump: Path
    pg_restore: PgTool
    pg_dump: PgTool


@dataclass(frozen=True)
class SwappedPostgres:
    """A finished database restore: where the old contents went, and the verified row counts."""

    db: Database
    aside: str | None  # a database name (managed) or a dump file (external)
    rows: dict[str, int]
    prepared: PreparedPostgres


def plan_row_check(expected: dict[str, int], found: dict[str, int]) -> str | None:
    """Why the restored tables differ from the manifest, or None (pure). Extra tables are allowed."""
    wrong = [f"{name}: {found.get(name, 'missing')} rows, expected {count}"
             for name, count in sorted(expected.items()) if found.get(name) != count]
    return "; ".join(wrong) if wrong else None


def aside_name(database: str, now: dt.datetime | None = None) -> str:
    """claude_mem_before_restore_20261201t194500 (pure; a lower-case identifier under 63 bytes)."""
    stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%dt%H%M%S")
    return f"{database[:30]}_before_restore_{stamp}"


def prepare_postgres(ctx: Context, part: PostgresPart, dump: Path, force_external: bool, deadline: Deadline,
                     say: Say = lambda _m: None) -> PreparedPostgres:
    """Check that the dump can be restored here; raise before anything stops when it cannot."""
    if pg_service.postgres_mode(ctx) == PgMode.MANAGED:
        say("postgres: starting the managed cluster (created on first start: a fresh data dir restores too)...")
        pg_service.start(ctx, timeout=max(min(deadline.remaining(), 120.0), 5.0))
        ctx = ctx.reload()
    db = claude_mem_database(ctx)
    if db.mode != PgMode.MANAGED and not force_external:
        raise ConfigError(
            f"claude-mem's database is external ({redact_text(db.safe_url)}): cmem-ops will not overwrite it",
            hint="to overwrite it anyway (its current contents are saved first): "
                 "cmem-ops restore FILE --force-external")
    require_running(ctx, db)
    with connect(db.url) as conn:
        version, major = server_version(conn)
    if int(part.pg_dump_version.split(".")[0]) > major:
        raise ConfigError(f"the dump was made by pg_dump {part.pg_dump_version}, newer than this server "
                          f"(PostgreSQL {version}); pg_restore cannot go back a major version",
                          hint=f"restore into a PostgreSQL {part.pg_dump_version.split('.')[0]} cluster")
    pg_restore = find_tool(ctx, "pg_restore", major)
    pg_dump = find_tool(ctx, "pg_dump", major)
    say(f"postgres: {db.mode} PostgreSQL {version}, pg_restore {pg_restore.version}")
    return PreparedPostgres(db, part, dump, pg_restore, pg_dump)


def build_restore_argv(pg_restore: Path, url: str, dump: Path, clean: bool) -> list[str]:
    """pg_restore in one transaction, stopping at the first error (pure)."""
    argv = [str(pg_restore), "--single-transaction", "--exit-on-error", "--no-owner", "--no-privileges",
            f"--dbname={url}"]
    if clean:
        argv += ["--clean", "--if-exists"]
    return [*argv, str(dump)]


def swap_postgres(ctx: Context, prepared: PreparedPostgres, deadline: Deadline, say: Say = lambda _m: None
                  ) -> SwappedPostgres:
    """Restore the dump in place of the current database; on failure the old one is back."""
    if prepared.db.mode == PgMode.MANAGED:
        return _swap_managed(ctx, prepared, deadline, say)
    return _swap_external(ctx, prepared, deadline, say)


def undo_postgres(ctx: Context, swapped: SwappedPostgres) -> None:
    """Put the old database back after a later step failed."""
    if swapped.db.mode == PgMode.MANAGED and swapped.aside:
        _rename_back(swapped.db, swapped.aside)
    elif swapped.aside:
        _pg_restore(ctx, swapped.prepared, swapped.db.safe_url, Path(swapped.aside), clean=True,
                    deadline=Deadline.after(600))


def _admin_url(db: Database) -> str:
    return with_database(db.url, "postgres")


def _swap_managed(ctx: Context, prepared: PreparedPostgres, deadline: Deadline, say: Say) -> SwappedPostgres:
    from psycopg import sql

    db = prepared.db
    aside = aside_name(db.name)
    with connect(_admin_url(db)) as admin:
        admin.autocommit = True
        others = admin.execute("SELECT pid, coalesce(application_name, ''), coalesce(client_addr::text, 'local') "
                               "FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                               (db.name,)).fetchall()
        if others:
            who = ", ".join(f"pid {p} {app or '?'} from {addr}" for p, app, addr in others)
            raise ConflictError(f"{db.name} still has {len(others)} connection(s) not of ours: {who}",
                                hint="stop those clients (claude-mem servers cmem-ops did not start), then retry")
        say(f"postgres: keeping the current database aside as {aside}...")
        admin.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(sql.Identifier(db.name), sql.Identifier(aside)))
        owner = sql.Identifier(db.owner) if db.owner else sql.SQL("CURRENT_USER")
        admin.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(db.name), owner))
    try:
        say(f"postgres: pg_restore into a fresh {db.name}...")
        _pg_restore(ctx, prepared, db.safe_url, prepared.dump, clean=False, deadline=deadline)
        rows = _verify(db, prepared.part)
    except BaseException:
        say("postgres: restore failed; putting the old database back...")
        _rename_back(db, aside)
        raise
    return SwappedPostgres(db, aside, rows, prepared)


def _swap_external(ctx: Context, prepared: PreparedPostgres, deadline: Deadline, say: Say) -> SwappedPostgres:
    db = prepared.db
    keep_dir = ctx.paths.data_dir / "backups"
    ensure_private_dir(keep_dir)
    kept = keep_dir / f"{aside_name(db.name)}.dump"
    say(f"postgres: saving the external database's current contents to {kept}...")
    done = ctx.runner.run(build_dump_argv(prepared.pg_dump.path, db, kept, None),
                          timeout=max(deadline.remaining(), 5.0), env=db.env())
    if not done.ok:
        raise ProcessError(f"could not save {db.name} before overwriting it: {redact_text(done.stderr.strip()[-400:])}",
                           hint="cmem-ops postgres status; nothing was changed")
    try:
        say(f"postgres: pg_restore --clean into {db.name}...")
        _pg_restore(ctx, prepared, db.safe_url, prepared.dump, clean=True, deadline=deadline)
        rows = _verify(db, prepared.part)
    except BaseException:
        say(f"postgres: restore failed; restoring the saved contents from {kept}...")
        _pg_restore(ctx, prepared, db.safe_url, kept, clean=True, deadline=Deadline.after(600))
        raise
    return SwappedPostgres(db, str(kept), rows, prepared)


def _pg_restore(ctx: Context, prepared: PreparedPostgres, url: str, dump: Path, clean: bool,
                deadline: Deadline) -> None:
    done = ctx.runner.run(build_restore_argv(prepared.pg_restore.path, url, dump, clean),
                          timeout=max(deadline.remaining(), 5.0), env=prepared.db.env())
    if not done.ok:
        raise ProcessError(f"pg_restore into {prepared.db.name} failed (exit {done.returncode}): "
                           f"{redact_text(done.stderr.strip()[-400:])}", hint="cmem-ops postgres status")


def _verify(db: Database, part: PostgresPart) -> dict[str, int]:
    with connect(db.url) as conn:
        rows = count_rows(conn)
    problem = plan_row_check(part.tables, rows)
    if problem:
        raise ProcessError(f"the restored database differs from the manifest: {problem}", hint="use another backup")
    return rows


def _rename_back(db: Database, aside: str) -> None:
    from psycopg import sql

    try:
        with connect(_admin_url(db)) as admin:
            admin.autocommit = True
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(db.name)))
            admin.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(sql.Identifier(aside),
                                                                           sql.Identifier(db.name)))
    except Exception as exc:  # psycopg.Error: say where the old data is, never lose it silently
        raise OpsError(f"could not put the old database back: {exc}; it is kept as {aside}",
                       hint=f"ALTER DATABASE {aside} RENAME TO {db.name};   (in psql, as the cluster owner)") from exc
