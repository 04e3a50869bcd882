"""`store restore FILE` and `restore FILE`: everything that can be refused is refused before anything stops.

    1. extract the archive into a private dir and check every file against the manifest
    2. prepare: stage the store data (scratch server; the binary proves it reads the RDB), check
       that Postgres can be restored (the managed cluster, a pg_restore of its major)
    3. stop our workers and server (quiesce.py)
    4. Postgres: the current database renamed aside, the dump restored, row counts verified
    5. store: the current data moved aside, the staged data in, started, key count verified
    6. on failure of 4 or 5: every part done is put back; then our server and workers start again
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..context import Context
from ..errors import ConfigError, OpsError
from ..paths import ensure_private_dir
from ..settings import KEY_PREFIX, RedisMode, write_settings_keys
from ..wait import Deadline
from .archive import extract_archive
from .files import private_temp_dir
from .keyspace import KeyCount
from .manifest import Manifest
from .quiesce import Quiesced, quiesce, resume
from .store_restore import SwappedStore, prepare_store, swap_store

Say = Callable[[str], None]


@dataclass(frozen=True)
class RestoreResult:
    """What a restore did: the parts restored, their verified counts, where the old data was kept."""

    archive: Path
    manifest: Manifest
    store_keys: KeyCount | None
    store_aside: str | None
    postgres_rows: dict[str, int] | None
    postgres_aside: str | None
    restarted: tuple[str, ...]
    notes: tuple[str, ...]
    elapsed_ms: float


def restore_store_archive(ctx: Context, archive: Path, timeout: float = 600.0, say: Say = lambda _m: None
                          ) -> RestoreResult:
    """Restore only the queue store from `archive` (a store or a stack backup); the docker stack's with
    CLAUDE_MEM_STACK=docker."""
    from ..lifecycle.docker_stack_project import wants_docker

    if wants_docker(ctx, False):
        return _restore_docker(ctx, archive, timeout, say, with_postgres=False)
    return _restore(ctx, archive, timeout, say, with_postgres=False, force_external=False)


def restore_stack_archive(ctx: Context, archive: Path, timeout: float = 1800.0, say: Say = lambda _m: None,
                          force_external: bool = False, docker: bool = False) -> RestoreResult:
    """Restore Postgres and the queue store from a stack backup (into the docker stack with `docker` or
    CLAUDE_MEM_STACK=docker: docker_target.py)."""
    from ..lifecycle.docker_stack_project import wants_docker

    if wants_docker(ctx, docker):
        return _restore_docker(ctx, archive, timeout, say)
    return _restore(ctx, archive, timeout, say, with_postgres=True, force_external=force_external)


def _restore_docker(ctx: Context, archive: Path, timeout: float, say: Say, with_postgres: bool = True
                    ) -> RestoreResult:
    from ..lifecycle.docker_stack_project import existing
    from .docker_target import restore_into_stack

    t0 = time.monotonic()
    deadline = Deadline.after(timeout)
    archive = archive.expanduser().absolute()
    state, compose = existing(ctx)
    work = private_temp_dir(cfg_stack_dir(ctx), ".cmem-ops-restore-")
    try:
        say(f"reading {archive}...")
        manifest = extract_archive(archive, work)
        if manifest.store is None or (with_postgres and manifest.postgres is None):
            missing = "store snapshot" if manifest.store is None else "Postgres dump"
            raise ConfigError(f"{archive} lacks the {missing}",
                              hint=f"cmem-ops store restore {archive}" if manifest.store is not None
                              else "pass an archive written by cmem-ops backup")
        pg_part = manifest.postgres if with_postgres else None
        done = restore_into_stack(compose, state.prefix, manifest.store, pg_part, work, deadline, say)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return RestoreResult(archive, manifest, done.store_keys, done.store_aside, done.postgres_rows,
                         done.postgres_aside, done.restarted, done.notes, round((time.monotonic() - t0) * 1000, 1))


def cfg_stack_dir(ctx: Context) -> Path:
    """<data dir>/docker-stack (made private): where a docker restore unpacks its archive."""
    from ..lifecycle.docker_stack_config import stack_dir

    return ensure_private_dir(stack_dir(ctx.paths))


def _restore(ctx: Context, archive: Path, timeout: float, say: Say, with_postgres: bool, force_external: bool
             ) -> RestoreResult:
    t0 = time.monotonic()
    deadline = Deadline.after(timeout)
    archive = archive.expanduser().absolute()
    ensure_private_dir(ctx.paths.data_dir)
    work = private_temp_dir(ctx.paths.data_dir, ".cmem-ops-restore-")
    notes: list[str] = []
    swapped: SwappedStore | None = None
    pg_done = None
    try:
        say(f"reading {archive}...")
        manifest = extract_archive(archive, work)
        if manifest.store is None:
            raise ConfigError(f"{archive} holds no queue store snapshot", hint="pass a cmem-ops backup archive")
        pg_plan = None
        if with_postgres:
            if manifest.postgres is None:
                raise ConfigError(f"{archive} is a store-only backup: it holds no Postgres dump",
                                  hint=f"cmem-ops store restore {archive}")
            from .postgres_restore import prepare_postgres  # psycopg: loaded only for the full restore

            pg_plan = prepare_postgres(ctx, manifest.postgres, work / manifest.postgres.file.name, force_external,
                                       deadline, say)
        prepared = None
        if ctx.settings.redis_mode is RedisMode.MANAGED or not (with_postgres and force_external):
            prepared = prepare_store(ctx, manifest.store, work / manifest.store.file.name, deadline, say)
        else:
            notes.append(f"the {ctx.settings.redis_mode.value} queue store was left as it is (cmem-ops restores only "
                         "the managed one); claude-mem re-enqueues pending work from Postgres at server start")
        before = quiesce(ctx, say)
        try:
            if pg_plan is not None:
                from .postgres_restore import swap_postgres, undo_postgres

                pg_done = swap_postgres(ctx, pg_plan, deadline, say)
                try:
                    swapped = swap_store(ctx, prepared, deadline, say) if prepared is not None else None
                except BaseException:
                    say("putting the old Postgres database back...")
                    undo_postgres(ctx, pg_done)
                    raise
            elif prepared is not None:
                swapped = swap_store(ctx, prepared, deadline, say)
            if swapped is not None:
                notes += apply_queue_prefix(ctx, manifest)  # before our server starts again and pins its own
        finally:
            restarted = _resume_quietly(ctx, before, say, notes)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if swapped is not None and swapped.aside is not None:
        notes.append(f"the previous store data is kept in {swapped.aside} (remove it when you no longer need it)")
    if pg_done is not None and pg_done.aside:
        notes.append(f"the previous database is kept as {pg_done.aside}")
    return RestoreResult(archive, manifest, swapped.keys if swapped else None,
                         str(swapped.aside) if swapped and swapped.aside else None,
                         dict(pg_done.rows) if pg_done else None, pg_done.aside if pg_done else None,
                         restarted, tuple(notes), round((time.monotonic() - t0) * 1000, 1))


def plan_queue_prefix(backup_prefix: str | None, current: str | None) -> tuple[str | None, str | None]:
    """(prefix to pin, note) for the restored keys: a fresh data dir takes the backup's prefix (pure)."""
    if not backup_prefix or backup_prefix == current:
        return None, None
    if current is None:
        return backup_prefix, (f"pinned {KEY_PREFIX}={backup_prefix} from the backup, so claude-mem finds its "
                               "restored queue")
    return None, (f"the backup's queue prefix is {backup_prefix} but {KEY_PREFIX} here is {current}: the restored "
                  "jobs stay under the old prefix (claude-mem re-enqueues pending work from Postgres at start)")


def apply_queue_prefix(ctx: Context, manifest: Manifest) -> list[str]:
    """Pin the backup's queue prefix when none is set here; the note saying what happened."""
    prefix, note = plan_queue_prefix(manifest.store.queue_prefix if manifest.store else None,
                                     ctx.reload().settings.queue_prefix)
    if prefix:
        write_settings_keys(ctx.paths, {KEY_PREFIX: prefix})
    return [note] if note else []


def _resume_quietly(ctx: Context, before: Quiesced, say: Say, notes: list[str]) -> tuple[str, ...]:
    try:
        resume(ctx, before, say)
    except OpsError as exc:
        notes.append(f"could not start our server/workers again: {exc.message} ({exc.hint or 'cmem-ops stack up'})")
        return ()
    parts = (["server"] if before.server else []) + ([f"{before.workers} worker(s)"] if before.workers else [])
    return tuple(parts)
