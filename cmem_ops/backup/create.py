"""`store backup` and `backup`: take the parts, write one archive with its manifest.

Postgres first (claude-mem's canonical storage; the queue is rebuilt from its outbox), then the
queue store. Everything is staged in a private temp dir beside the destination and removed after.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .. import __version__
from ..context import Context
from ..paths import ensure_private_dir
from ..wait import Deadline
from .archive import default_archive_name, write_archive
from .files import private_temp_dir
from .manifest import FileEntry, Manifest, PostgresPart, StorePart
from .store_snapshot import StoreSnapshot, require_managed, take_snapshot

Say = Callable[[str], None]
STORE_ENTRY = "store/dump.rdb"
POSTGRES_ENTRY = "postgres/claude_mem.dump"


@dataclass(frozen=True)
class BackupResult:
    """The archive written and its manifest."""

    archive: Path
    manifest: Manifest
    size: int
    elapsed_ms: float


def default_backup_dir(ctx: Context) -> Path:
    """<data dir>/backups."""
    return ctx.paths.data_dir / "backups"


def store_part(snapshot: StoreSnapshot, queue_prefix: str | None = None) -> StorePart:
    """The manifest entry of a checked store snapshot (pure)."""
    return StorePart(file=FileEntry(STORE_ENTRY, snapshot.sha256, snapshot.size), flavour=snapshot.flavour,
                     version=snapshot.version, binary=snapshot.binary, rdb=snapshot.header.text,
                     rdb_version=snapshot.header.version, keys=snapshot.check.keys or 0,
                     expires=snapshot.check.expires or 0, check=snapshot.check.summary, how=snapshot.how,
                     queue_prefix=queue_prefix)


def backup_store(ctx: Context, to_dir: Path | None = None, timeout: float = 300.0, say: Say = lambda _m: None,
                 docker: bool = False) -> BackupResult:
    """Write a store-only archive (`cmem-ops store backup`)."""
    return _backup(ctx, "store", to_dir, timeout, say, with_postgres=False, docker=docker)


def backup_stack(ctx: Context, to_dir: Path | None = None, timeout: float = 1800.0, say: Say = lambda _m: None,
                 docker: bool = False) -> BackupResult:
    """Write the whole-stack archive (`cmem-ops backup`): pg_dump first, then the store snapshot.

    `docker` (or CLAUDE_MEM_STACK=docker): from the docker stack's containers (docker_source.py).
    """
    return _backup(ctx, "stack", to_dir, timeout, say, with_postgres=True, docker=docker)


def _backup(ctx: Context, kind: str, to_dir: Path | None, timeout: float, say: Say, with_postgres: bool,
            docker: bool = False) -> BackupResult:
    from ..lifecycle.docker_stack_project import wants_docker

    t0 = dt.datetime.now(dt.UTC)
    deadline = Deadline.after(timeout)
    docker = wants_docker(ctx, docker)
    if not docker:
        require_managed(ctx, "backs up")  # before anything is written
    dest_dir = (to_dir or default_backup_dir(ctx)).expanduser().absolute()
    ensure_private_dir(dest_dir)
    staging = private_temp_dir(dest_dir, ".cmem-ops-backup-")
    try:
        files: dict[str, Path] = {}
        pg: PostgresPart | None = None
        prefix = ctx.settings.queue_prefix
        if docker:
            from .docker_source import take_parts

            pg, snapshot, prefix = take_parts(ctx, staging, POSTGRES_ENTRY if with_postgres else None, deadline, say)
            if pg is not None:
                files[POSTGRES_ENTRY] = staging / "claude_mem.dump"
        elif with_postgres:
            from .postgres_dump import dump_database  # psycopg: loaded only for the full backup

            dump_file = staging / "claude_mem.dump"
            pg = dump_database(ctx, dump_file, POSTGRES_ENTRY, deadline, say)
            files[POSTGRES_ENTRY] = dump_file
        if not docker:
            snapshot = take_snapshot(ctx, staging / "store", deadline, say)
        files[STORE_ENTRY] = snapshot.path
        manifest = Manifest(kind=kind, created_at=t0.strftime("%Y-%m-%dT%H:%M:%SZ"), cmem_ops=__version__,
                            postgres=pg, store=store_part(snapshot, prefix))
        say(f"writing the archive in {dest_dir}...")
        archive = write_archive(dest_dir / default_archive_name(kind, t0), manifest, files)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    elapsed = (dt.datetime.now(dt.UTC) - t0).total_seconds() * 1000
    return BackupResult(archive, manifest, archive.stat().st_size, round(elapsed, 1))
