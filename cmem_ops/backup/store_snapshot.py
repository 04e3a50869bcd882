"""A consistent snapshot of the managed queue store, checked by the server's own RDB checker.

Running store: BGSAVE, wait (wait.poll on INFO persistence) until the fork is done and
`rdb_last_bgsave_status:ok`, copy the RDB it wrote. Stopped store: copy its files to a staging
dir, load them in a scratch server of the same binary, SAVE there. Either way the copy is
checked with `<server>-check-rdb` before it is called good, and the key count comes from it.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..context import Context
from ..errors import ConfigError, OpsError, ProcessError
from ..paths import ensure_private_dir
from ..pidfile import PidRecord
from ..redis_url import RedisTarget
from ..resp import RespError, parse_config_pairs
from ..settings import RedisMode
from ..store import state
from ..store.binaries import Candidate, ServerBinary, inspect_binary
from ..store.pinned import pinned_binary
from ..store_client import open_store
from ..wait import Deadline, poll
from .checktool import check_rdb
from .files import copy_file, copy_tree, private_temp_dir
from .keyspace import KeyCount, read_keyspace
from .rdb import RdbCheck, RdbHeader, parse_rdb_header
from .scratch import info, save_rdb, scratch_server

Say = Callable[[str], None]
RDB_NAME = "dump.rdb"


@dataclass(frozen=True)
class StoreSnapshot:
    """A checked RDB copy of the managed store and what produced it."""

    path: Path
    flavour: str
    version: str
    binary: str
    header: RdbHeader
    check: RdbCheck
    live: KeyCount | None  # what the running store reported as it saved (None: taken from a stopped store)
    how: str  # "bgsave" | "scratch"
    sha256: str
    size: int


def sha256_file(path: Path) -> str:
    """The hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def require_managed(ctx: Context, action: str) -> None:
    """Raise ConfigError unless the queue store is the managed one."""
    mode = ctx.settings.redis_mode
    if mode is RedisMode.DOCKER:
        raise ConfigError(f"the queue store runs in Docker (container cmem-ops-valkey); cmem-ops {action} only the "
                          "managed (native) store",
                          hint="docker exec cmem-ops-valkey valkey-cli -a <password> BGSAVE, then docker cp "
                               "cmem-ops-valkey:/data/dump.rdb .   (cmem-ops backup covers Postgres)")
    if mode is not RedisMode.MANAGED:
        where = ctx.settings.source("CLAUDE_MEM_REDIS_URL")
        raise ConfigError(
            f"the queue store is {mode.value} (CLAUDE_MEM_REDIS_URL from {where}); cmem-ops {action} only the "
            "managed store",
            hint="for an external store use its own tooling (its provider's snapshots); claude-mem rebuilds the queue "
                 "from Postgres at server start: cmem-ops backup covers Postgres")


def store_binary(ctx: Context, record: PidRecord | None) -> ServerBinary:
    """The binary the managed store runs (its live record), else the one it would start with."""
    from ..store.process import select_binary  # supervision code, loaded only when acting

    wanted = (record.binary if record is not None else None) or pinned_binary(ctx.settings)
    if wanted:
        binary = inspect_binary(Candidate(Path(wanted), "managed store"), ctx.runner)
        if binary.supported:
            return binary
    return select_binary(ctx.paths, ctx.runner, None)


def take_snapshot(ctx: Context, dest_dir: Path, deadline: Deadline, say: Say = lambda _m: None) -> StoreSnapshot:
    """Write a checked snapshot RDB of the managed store into `dest_dir` (dest_dir/dump.rdb)."""
    require_managed(ctx, "backs up")
    ensure_private_dir(dest_dir)
    dest = dest_dir / RDB_NAME
    record = state.running_record(ctx.paths)
    binary = store_binary(ctx, record)
    target = ctx.settings.redis_target()
    live: KeyCount | None = None
    if record is not None and target is not None:
        say(f"queue store: BGSAVE on {binary.label} (pid {record.pid})...")
        live = _bgsave_copy(target, ctx.paths.redis_data, dest, deadline)
        how = "bgsave"
    else:
        say(f"queue store: not running; loading a copy of {ctx.paths.redis_data} in a scratch {binary.label}...")
        _scratch_copy(ctx, binary, dest, deadline)
        how = "scratch"
    return checked(binary, dest, live, how, ctx)


def checked(binary: ServerBinary, dest: Path, live: KeyCount | None, how: str, ctx: Context) -> StoreSnapshot:
    """Run the server's checker on `dest`; raise unless it says the file is good."""
    with dest.open("rb") as fh:
        header = parse_rdb_header(fh.read(9))
    if header is None:
        raise ProcessError(f"{dest} does not start with an RDB header", hint="cmem-ops store backup   (try again)")
    verdict = check_rdb(binary, dest, ctx.runner)
    if not verdict.ok:
        raise ProcessError(f"{binary.label}'s RDB checker rejects the snapshot {dest}: {verdict.summary}",
                           hint="cmem-ops store backup   (try again); read cmem-ops store logs -n 50")
    return StoreSnapshot(dest, binary.flavour.value if binary.flavour else "unknown", binary.version_text,
                         str(binary.path), header, verdict, live, how, sha256_file(dest), dest.stat().st_size)


def _bgsave_copy(target: RedisTarget, default_dir: Path, dest: Path, deadline: Deadline) -> KeyCount:
    def started() -> bool:
        try:
            with open_store(target, 5.0) as conn:
                conn.command("BGSAVE")
        except RespError as exc:
            if "in progress" in str(exc).lower():
                return False  # an automatic save runs: ours starts after it
            raise ProcessError(f"the queue store refused BGSAVE: {exc}",
                               hint="read cmem-ops store logs -n 50") from exc
        return True

    hint = "pass a longer --timeout; read cmem-ops store logs -n 50"
    poll(started, deadline, what="the queue store to accept BGSAVE", transient=(OSError,), hint=hint)
    live = read_keyspace(target)
    # The child is forked before BGSAVE replies, so in_progress stays 1 until our save is done.

    def saved() -> dict[str, str] | None:
        persistence = info(target)
        return persistence if persistence.get("rdb_bgsave_in_progress") == "0" else None

    finished = poll(saved, deadline, what="the queue store's BGSAVE to finish", transient=(OSError,), hint=hint)
    if finished.get("rdb_last_bgsave_status") != "ok":
        raise ProcessError(f"the queue store's BGSAVE failed (rdb_last_bgsave_status:"
                           f"{finished.get('rdb_last_bgsave_status')})",
                           hint="check free disk space; read cmem-ops store logs -n 50")
    directory, name = _rdb_location(target, default_dir)
    copy_file(directory / name, dest)
    return live


def _rdb_location(target: RedisTarget, default_dir: Path) -> tuple[Path, str]:
    try:
        with open_store(target, 5.0) as conn:
            config = parse_config_pairs(conn.command("CONFIG", "GET", "dir")) | parse_config_pairs(
                conn.command("CONFIG", "GET", "dbfilename"))
    except (OSError, RespError):
        config = {}
    return Path(config.get("dir") or default_dir), config.get("dbfilename") or RDB_NAME


def _scratch_copy(ctx: Context, binary: ServerBinary, dest: Path, deadline: Deadline) -> None:
    source = ctx.paths.redis_data
    if not source.is_dir() or not any(source.iterdir()):
        raise OpsError(f"the managed store has no data yet ({source} is empty or missing)",
                       hint="cmem-ops store start")
    ensure_private_dir(ctx.paths.redis_dir)
    staging = private_temp_dir(ctx.paths.redis_dir, "snapshot-")
    try:
        copy = staging / "data"
        copy_tree(source, copy)
        has_aof = (copy / "appendonlydir").is_dir() or (copy / "appendonly.aof").is_file()
        with scratch_server(binary, ctx.runner, copy, appendonly=has_aof, deadline=deadline) as target:
            save_rdb(target, deadline)
        copy_file(copy / RDB_NAME, dest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
