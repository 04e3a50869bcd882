"""Restore the managed queue store from a snapshot RDB, keeping the current data aside.

    prepare_store   check the RDB with the binary that will run it (its header against the RDB
                    table, then the binary's own checker), load it in a scratch server, count
                    the keys against the manifest, turn on AOF there (the managed store loads its
                    AOF, not an RDB). Nothing is stopped: a file the binary cannot read is refused here.
    swap_store      stop the managed store (only ours), move redis/data aside, move the staged
                    data in, start, verify the key count; on any failure put the old data back
                    and start it again.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..context import Context
from ..errors import ConfigError, OpsError, ProcessError
from ..paths import ensure_private_dir
from ..store import state
from ..store.binaries import ServerBinary
from ..wait import Deadline
from .checktool import check_rdb
from .files import copy_file, move
from .keyspace import KeyCount, plan_key_check, read_keyspace
from .manifest import StorePart
from .rdb import parse_rdb_header, plan_readable
from .scratch import enable_aof, scratch_server
from .store_snapshot import RDB_NAME, require_managed, store_binary

if TYPE_CHECKING:
    from ..lifecycle.store_control import HeldStore

Say = Callable[[str], None]


@dataclass(frozen=True)
class PreparedStore:
    """Staged data ready to be moved into redis/data, and the binary that proved it loads."""

    staging: Path
    binary: ServerBinary
    expected: KeyCount
    loaded: KeyCount


@dataclass(frozen=True)
class SwappedStore:
    """The restore done: where the old data was kept, and what the restored store holds."""

    aside: Path | None
    was_running: bool
    keys: KeyCount
    binary: str


def stamp(now: dt.datetime | None = None) -> str:
    """A sortable UTC stamp for aside dirs: 20261201T194500123456Z (pure)."""
    return (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%S%fZ")


def prepare_store(ctx: Context, part: StorePart, rdb: Path, deadline: Deadline, say: Say = lambda _m: None,
                  binary: ServerBinary | None = None) -> PreparedStore:
    """Stage `rdb` as the managed store's next data dir; raise (having stopped nothing) if it cannot be."""
    require_managed(ctx, "restores")
    binary = binary or store_binary(ctx, state.running_record(ctx.paths))
    with rdb.open("rb") as fh:
        header = parse_rdb_header(fh.read(9))
    if header is None:
        raise ConfigError(f"{rdb} is not an RDB file", hint="use another backup")
    why = plan_readable(header, binary.flavour, binary.version)
    verdict = check_rdb(binary, rdb, ctx.runner) if why is None else None
    if why is not None or (verdict is not None and not verdict.ok):
        reason = why or (verdict.summary if verdict else "")
        raise ConfigError(
            f"the managed store runs {binary.label} ({binary.path}), which cannot load this snapshot "
            f"(written by {part.flavour} {part.version}): {reason}; nothing was stopped",
            hint=f"run the store on a server that reads it first, e.g. cmem-ops store upgrade --to {part.version}")
    expected = KeyCount(part.keys, part.expires)
    ensure_private_dir(ctx.paths.redis_dir)
    staging = ctx.paths.redis_dir / f"data.restore-{stamp()}"
    ensure_private_dir(staging)
    try:
        copy_file(rdb, staging / RDB_NAME)
        say(f"queue store: loading the snapshot in a scratch {binary.label}...")
        with scratch_server(binary, ctx.runner, staging, appendonly=False, deadline=deadline) as target:
            loaded = read_keyspace(target)
            problem = plan_key_check(expected, loaded)
            if problem:
                raise ProcessError(f"the snapshot loads with {problem}", hint="use another backup")
            enable_aof(target, deadline)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return PreparedStore(staging, binary, expected, loaded)


def swap_store(ctx: Context, prepared: PreparedStore, deadline: Deadline, say: Say = lambda _m: None
               ) -> SwappedStore:
    """Put the staged data in place of redis/data and start; on failure put the old data back.

    One critical section under the store lock (store_control.held): stop, swap, start, verify and any
    roll-back, so a concurrent `cmem-ops store start` can never start the old data in between.
    """
    from ..lifecycle import store_control  # supervision code: only a restore needs it

    with store_control.held(ctx) as store:
        return _swap_held(ctx, store, prepared, deadline, say)


def _swap_held(ctx: Context, store: HeldStore, prepared: PreparedStore, deadline: Deadline, say: Say
               ) -> SwappedStore:
    data = ctx.paths.redis_data
    was_running = store.running()
    if was_running:
        say("queue store: stopping the managed store...")
        store.stop()
    aside = data.with_name(f"data.before-restore-{stamp()}") if data.exists() else None
    moved_aside = False
    try:
        if aside is not None:
            move(data, aside)
            moved_aside = True
        move(prepared.staging, data)
    except OpsError:
        if aside is not None and moved_aside and not data.exists():
            move(aside, data)
        if was_running:
            store.start(str(prepared.binary.path))
        raise
    try:
        say(f"queue store: starting {prepared.binary.label} on the restored data...")
        store.start(str(prepared.binary.path), timeout=max(deadline.remaining(), 5.0))
        keys = verify_store(ctx.reload(), prepared.expected)
    except BaseException as exc:
        failed = _put_back(ctx, store, aside, was_running, prepared.binary)
        kept = f"; the data that failed is kept in {failed}" if failed else ""
        if isinstance(exc, OpsError):
            raise OpsError(f"restoring the queue store failed: {exc.message}; the old data is back{kept}",
                           hint=exc.hint) from exc
        raise
    return SwappedStore(aside, was_running, keys, str(prepared.binary.path))


def verify_store(ctx: Context, expected: KeyCount) -> KeyCount:
    """The running managed store's key count; ProcessError when it does not match `expected`."""
    target = ctx.settings.redis_target()
    if target is None:
        raise ProcessError("the managed store has no URL in settings", hint="cmem-ops store start")
    found = read_keyspace(target)
    problem = plan_key_check(expected, found)
    if problem:
        raise ProcessError(f"the restored store holds {problem}", hint="cmem-ops store status")
    return found


def _put_back(ctx: Context, store: HeldStore, aside: Path | None, was_running: bool, binary: ServerBinary | str
              ) -> Path | None:
    data = ctx.paths.redis_data
    if store.running():
        store.stop()
    failed = None
    if data.exists():
        failed = data.with_name(f"data.failed-restore-{stamp()}")
        move(data, failed)
    if aside is not None:
        move(aside, data)
    if was_running:
        store.start(str(binary.path if isinstance(binary, ServerBinary) else binary))
    return failed
