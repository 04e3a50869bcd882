"""The docker stack as a backup source: pg_dump and the store snapshot taken inside its containers.

Postgres: the container's own pg_dump (its major is the server's) in one exported snapshot, the row
counts read in the same one (docker_scripts.build_pg_dump_argv), then `compose cp` out. Store:
BGSAVE through the container's valkey-cli, polled until done and ok, the RDB copied aside inside the
container, checked there by the server's own checker (valkey-check-rdb: the server binary under that
name), then `compose cp` out. Nothing is published for this; only our compose project is touched.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..containers.compose import Compose
from ..context import Context
from ..errors import MissingError, NotRunningError, OpsError, ProcessError
from ..lifecycle.docker_stack_config import POSTGRES, POSTGRES_DB, VALKEY, StackState
from ..paths import ensure_private_dir
from ..resp import parse_info
from ..wait import Deadline, poll
from . import docker_scripts as scripts
from .keyspace import KeyCount, parse_keyspace
from .manifest import FileEntry, PostgresPart
from .rdb import RdbCheck, parse_check_output, parse_rdb_header
from .store_snapshot import RDB_NAME, StoreSnapshot, sha256_file

Say = Callable[[str], None]


def require_running(compose: Compose, services: tuple[str, ...] = (POSTGRES, VALKEY)) -> None:
    """NotRunningError unless every one of `services` has a running container."""
    running = {s.service for s in compose.ps() if s.running}
    missing = [s for s in services if s not in running]
    if missing:
        raise NotRunningError(f"the docker stack's {', '.join(missing)} is not running (project "
                              f"{compose.project.name})", hint="cmem-ops stack up --docker")


def store_info(compose: Compose, section: str = "", port: int | None = None) -> dict[str, str]:
    """INFO [section] of the stack's store (or of the scratch server on `port`), parsed."""
    command = ("INFO", section) if section else ("INFO",)
    return parse_info(compose.exec(VALKEY, scripts.build_cli_argv(*command, port=port), timeout=30))


def store_keys(compose: Compose, port: int | None = None) -> KeyCount:
    """The store's key count (INFO keyspace)."""
    return parse_keyspace(store_info(compose, "keyspace", port))


def check_in_container(compose: Compose, path: str) -> RdbCheck:
    """The server's own checker on `path` inside the store's container."""
    code, out = compose.exec_status(VALKEY, scripts.build_check_argv(path), timeout=600)
    return parse_check_output(out, code)


def dump_postgres(compose: Compose, dest: Path, entry_name: str, deadline: Deadline, say: Say) -> PostgresPart:
    """pg_dump of claude_mem inside the postgres container, copied to `dest`; its manifest entry."""
    say("postgres (container): pg_dump in one snapshot, row counts in the same one...")
    code, out = compose.exec_status(POSTGRES, scripts.build_pg_dump_argv(), timeout=max(deadline.remaining(), 5.0))
    server, dump_version, tables, ok = scripts.parse_dump_output(out)
    if not dump_version:
        raise MissingError(f"the postgres container has no pg_dump (its image lacks the client tools): "
                           f"{scripts.format_problem(out)}",
                           hint="cmem-ops images build postgres   (local/cmem-postgres carries pg_dump), then: "
                                "cmem-ops stack up --docker")
    if code != 0 or not ok or not server:
        raise ProcessError(f"pg_dump inside the postgres container did not finish (exit {code}): "
                           f"{scripts.format_problem(out)}",
                           hint=f"docker compose -p {compose.project.name} logs postgres --tail 50")
    try:
        compose.copy_from(POSTGRES, scripts.PG_DUMP_FILE, dest, timeout=max(deadline.remaining(), 5.0))
    finally:
        compose.exec(POSTGRES, scripts.build_remove_argv(scripts.PG_DUMP_FILE), timeout=30)
    dest.chmod(0o600)
    say(f"postgres (container): PostgreSQL {server}, pg_dump {dump_version}, {sum(tables.values())} rows in "
        f"{len(tables)} tables")
    return PostgresPart(file=FileEntry(entry_name, sha256_file(dest), dest.stat().st_size), server_version=server,
                        pg_dump_version=dump_version, database=POSTGRES_DB, mode="docker", tables=tables)


def snapshot_store(compose: Compose, state: StackState, dest_dir: Path, deadline: Deadline, say: Say
                   ) -> StoreSnapshot:
    """BGSAVE in the store's container, the RDB checked there and copied into dest_dir/dump.rdb."""
    ensure_private_dir(dest_dir)
    dest = dest_dir / RDB_NAME
    server = store_info(compose, "server")
    flavour = "valkey" if "valkey_version" in server else "redis"
    version = server.get("valkey_version") or server.get("redis_version") or "unknown"
    say(f"queue store (container): BGSAVE on {flavour} {version}...")
    hint = f"docker compose -p {compose.project.name} logs valkey --tail 50"

    def started() -> bool:
        code, out = compose.exec_status(VALKEY, scripts.build_cli_argv("BGSAVE"), timeout=30)
        if "in progress" in out.lower():
            return False  # an automatic save runs: ours starts after it
        if code != 0 or "Background saving started" not in out:
            raise ProcessError(f"the store refused BGSAVE: {out.strip()[-200:]}", hint=hint)
        return True

    poll(started, deadline, what="the store to accept BGSAVE", hint=hint)
    live = store_keys(compose)

    def saved() -> dict[str, str] | None:
        persistence = store_info(compose, "persistence")
        return persistence if persistence.get("rdb_bgsave_in_progress") == "0" else None

    done = poll(saved, deadline, what="the store's BGSAVE to finish", transient=(OpsError,), hint=hint)
    if done.get("rdb_last_bgsave_status") != "ok":
        raise ProcessError(f"the store's BGSAVE failed (rdb_last_bgsave_status:{done.get('rdb_last_bgsave_status')})",
                           hint=hint)
    try:
        compose.exec(VALKEY, scripts.build_snapshot_copy_argv(), timeout=max(deadline.remaining(), 5.0))
        verdict = check_in_container(compose, scripts.STORE_COPY)
        if not verdict.ok:
            raise ProcessError(f"{flavour}'s RDB checker rejects the snapshot: {verdict.summary}",
                               hint="cmem-ops backup --docker   (try again); " + hint)
        compose.copy_from(VALKEY, scripts.STORE_COPY, dest, timeout=max(deadline.remaining(), 5.0))
    finally:
        compose.exec(VALKEY, scripts.build_remove_argv(scripts.STORE_COPY), timeout=30)
    dest.chmod(0o600)
    with dest.open("rb") as fh:
        header = parse_rdb_header(fh.read(9))
    if header is None:
        raise ProcessError(f"{dest} does not start with an RDB header", hint="cmem-ops backup --docker   (try again)")
    return StoreSnapshot(dest, flavour, version, f"{state.project}/{VALKEY} (container)", header, verdict, live,
                         "bgsave", sha256_file(dest), dest.stat().st_size)


def take_parts(ctx: Context, staging: Path, pg_entry: str | None, deadline: Deadline, say: Say
               ) -> tuple[PostgresPart | None, StoreSnapshot, str]:
    """Postgres (when `pg_entry`) then the store, from this data dir's docker stack; and its queue prefix."""
    from ..lifecycle.docker_stack_project import existing

    state, compose = existing(ctx)
    require_running(compose, (POSTGRES, VALKEY) if pg_entry else (VALKEY,))
    pg = dump_postgres(compose, staging / "claude_mem.dump", pg_entry, deadline, say) if pg_entry else None
    return pg, snapshot_store(compose, state, staging / "store", deadline, say), state.prefix


def snapshot_in_place(compose: Compose, name: str, deadline: Deadline) -> None:
    """BGSAVE, then the RDB copied to /data/<name> inside the store's volume (the data kept aside)."""
    hint = f"docker compose -p {compose.project.name} logs valkey --tail 50"

    def started() -> bool:
        code, out = compose.exec_status(VALKEY, scripts.build_cli_argv("BGSAVE"), timeout=30)
        return code == 0 and "Background saving started" in out

    poll(started, deadline, what="the store to accept BGSAVE", hint=hint)
    poll(lambda: store_info(compose, "persistence").get("rdb_bgsave_in_progress") == "0", deadline,
         what="the store's BGSAVE to finish", transient=(OpsError,), hint=hint)
    compose.exec(VALKEY, scripts.sh('umask 077; cat "$1" > "$2"', scripts.STORE_RDB, f"{scripts.STORE_DATA}/{name}"),
                 timeout=max(deadline.remaining(), 5.0))
