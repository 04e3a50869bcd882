"""The docker stack as a restore target: Postgres and the store restored inside their containers.

    prepare  (nothing stopped) the dump copied into the postgres container and read by its own
             pg_restore --list (a dump of a newer major is refused); the RDB copied into the store's
             volume, checked by the server's own checker, loaded by a scratch server in the same
             container (127.0.0.1:6390, no port outside the container) whose key count must equal the
             manifest's
    quiesce  `compose stop` of claude-mem-worker and claude-mem-server (only our project)
    postgres claude_mem renamed aside (claude_mem_before_restore_<stamp>), a fresh one created,
             pg_restore in one transaction, row counts verified; on failure dropped and renamed back
    store    the live data BGSAVEd to /data/before-restore-<stamp>.rdb (kept aside), then the live
             store replicates from the scratch server (REPLICAOF: the whole dataset is replaced, its
             AOF rewritten), REPLICAOF NO ONE, key count verified; on failure it replicates back from
             the aside copy
    resume   `compose start` of what ran, waiting until the server is healthy and the workers run
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..containers.compose import Compose
from ..errors import ConfigError, ConflictError, OpsError, ProcessError
from ..lifecycle.docker_stack_config import POSTGRES, POSTGRES_DB, SERVER, VALKEY, WORKER
from ..wait import Deadline, poll
from . import docker_scripts as scripts
from .docker_source import check_in_container, store_info, store_keys
from .keyspace import KeyCount, plan_key_check
from .manifest import PostgresPart, StorePart
from .postgres_restore import aside_name, plan_row_check
from .store_restore import stamp

Say = Callable[[str], None]


@dataclass(frozen=True)
class Quiet:
    """How many server and worker containers ran before the restore stopped them."""

    server: int
    workers: int


def _hint(compose: Compose, service: str) -> str:
    return f"docker compose -p {compose.project.name} logs {service} --tail 50"


def prepare_postgres(compose: Compose, part: PostgresPart, dump: Path, deadline: Deadline, say: Say) -> str:
    """Copy the dump in and let the container's pg_restore read it; its version line."""
    server = compose.exec(POSTGRES, scripts.build_psql_argv("SHOW server_version"), timeout=30).strip()
    major = int(server.split(".")[0]) if server.split(".")[0].isdigit() else 0
    if int(part.pg_dump_version.split(".")[0]) > major:
        raise ConfigError(f"the dump was made by pg_dump {part.pg_dump_version}, newer than the stack's PostgreSQL "
                          f"{server}; pg_restore cannot go back a major version",
                          hint=f"set CMEM_STACK_POSTGRES_IMAGE to a PostgreSQL {part.pg_dump_version.split('.')[0]} "
                               "image, then: cmem-ops stack up --docker")
    compose.copy_to(dump, POSTGRES, scripts.PG_RESTORE_FILE, timeout=max(deadline.remaining(), 5.0))
    code, out = compose.exec_status(POSTGRES, scripts.build_pg_list_argv(), timeout=120)
    if code != 0:
        raise ConfigError(f"the postgres container's pg_restore cannot read the dump: {out.strip()[-300:]}",
                          hint="use another backup")
    say(f"postgres (container): PostgreSQL {server}, {out.strip().splitlines()[-1]}")
    return server


def prepare_store(compose: Compose, part: StorePart, rdb: Path, deadline: Deadline, say: Say) -> None:
    """Stage the RDB in a scratch server inside the store's container; raise unless it holds the manifest's keys."""
    compose.exec(VALKEY, scripts.sh('mkdir -p "$1" && chmod 700 "$1"', scripts.RESTORE_DIR), timeout=30)
    compose.copy_to(rdb, VALKEY, f"{scripts.RESTORE_DIR}/dump.rdb", timeout=max(deadline.remaining(), 5.0))
    verdict = check_in_container(compose, f"{scripts.RESTORE_DIR}/dump.rdb")
    if not verdict.ok:
        raise ConfigError(f"the stack's store cannot read the snapshot: {verdict.summary}",
                          hint="restore it into a stack whose store is the version that wrote it "
                               f"({part.flavour} {part.version})")
    keys = _scratch(compose, scripts.RESTORE_DIR, "dump.rdb", deadline)
    problem = plan_key_check(KeyCount(part.keys, part.expires), keys)
    if problem:
        raise ProcessError(f"the staged snapshot differs from the manifest: {problem}", hint="use another backup")
    say(f"queue store (container): snapshot staged ({keys.keys} keys), checked by the server's own checker")


def _scratch(compose: Compose, directory: str, name: str, deadline: Deadline) -> KeyCount:
    compose.exec(VALKEY, scripts.build_scratch_argv(directory, name), timeout=30)

    def loaded() -> bool:
        return store_info(compose, "persistence", scripts.SCRATCH_PORT).get("loading") == "0"

    poll(loaded, deadline, what="the scratch server to load the snapshot", transient=(OpsError,),
         hint=_hint(compose, VALKEY))
    return store_keys(compose, scripts.SCRATCH_PORT)


def stop_scratch(compose: Compose) -> None:
    """Shut the scratch server down (if it runs) and remove the staged files."""
    try:
        compose.exec_status(VALKEY, scripts.build_cli_argv("SHUTDOWN", "NOSAVE", port=scripts.SCRATCH_PORT),
                            timeout=30)
    finally:
        compose.exec_status(VALKEY, scripts.build_remove_argv(scripts.RESTORE_DIR), timeout=30)


def quiesce(compose: Compose, say: Say) -> Quiet:
    """Stop our claude-mem server and workers (this project only); what ran."""
    rows = [s for s in compose.ps() if s.running]
    quiet = Quiet(sum(s.service == SERVER for s in rows), sum(s.service == WORKER for s in rows))
    if quiet.server or quiet.workers:
        say(f"stopping {quiet.workers} worker container(s) and the server container...")
        compose.stop_services([WORKER, SERVER], timeout=150)
    return quiet


def resume(compose: Compose, quiet: Quiet, deadline: Deadline, say: Say) -> None:
    """Start again what `quiesce` stopped; wait until the server is healthy and the workers run."""
    from ..lifecycle.docker_stack_ready import wait_ready

    if quiet.server:
        say("starting the server container again...")
        compose.start_services([SERVER], timeout=120)
        wait_ready(compose, SERVER, 1, Deadline.after(max(deadline.remaining(), 120.0)), healthy=True)
    if quiet.workers:
        say(f"starting {quiet.workers} worker container(s) again...")
        compose.start_services([WORKER], timeout=120)
        wait_ready(compose, WORKER, quiet.workers, Deadline.after(max(deadline.remaining(), 60.0)), healthy=False)


def swap_postgres(compose: Compose, part: PostgresPart, say: Say) -> tuple[str, dict[str, int]]:
    """claude_mem aside, a fresh one restored and verified; (aside name, rows). On failure the old one is back."""
    others = compose.exec(POSTGRES, scripts.build_psql_argv(
        f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{POSTGRES_DB}' AND pid <> pg_backend_pid()",
        "postgres"), timeout=30).strip()
    if others not in ("", "0"):
        raise ConflictError(f"{POSTGRES_DB} still has {others} connection(s) with our server and workers stopped",
                            hint=f"docker compose -p {compose.project.name} ps   (stop whatever else uses it)")
    aside = aside_name(POSTGRES_DB)
    say(f"postgres (container): keeping the current database aside as {aside}...")
    compose.exec(POSTGRES, scripts.build_psql_argv(f'ALTER DATABASE "{POSTGRES_DB}" RENAME TO "{aside}"',
                                                   "postgres"), timeout=60)
    try:
        compose.exec(POSTGRES, scripts.build_psql_argv(f'CREATE DATABASE "{POSTGRES_DB}"', "postgres"), timeout=60)
        say(f"postgres (container): pg_restore into a fresh {POSTGRES_DB}...")
        compose.exec(POSTGRES, scripts.build_pg_restore_argv(), timeout=1800)
        rows = scripts.parse_rows(compose.exec(POSTGRES, scripts.build_psql_argv(scripts.COUNT_SQL), timeout=300))
        problem = plan_row_check(part.tables, rows)
        if problem:
            raise ProcessError(f"the restored database differs from the manifest: {problem}",
                               hint="use another backup")
    except BaseException:
        say("postgres (container): restore failed; putting the old database back...")
        undo_postgres(compose, aside)
        raise
    finally:
        compose.exec_status(POSTGRES, scripts.build_remove_argv(scripts.PG_RESTORE_FILE), timeout=30)
    return aside, rows


def undo_postgres(compose: Compose, aside: str) -> None:
    """Drop the restored claude_mem and rename the aside one back."""
    for sql in (f'DROP DATABASE IF EXISTS "{POSTGRES_DB}"', f'ALTER DATABASE "{aside}" RENAME TO "{POSTGRES_DB}"'):
        code, out = compose.exec_status(POSTGRES, scripts.build_psql_argv(sql, "postgres"), timeout=60)
        if code != 0:
            raise OpsError(f"could not put the old database back ({out.strip()[-200:]}); it is kept as {aside}",
                           hint=f'docker compose -p {compose.project.name} exec postgres psql -U claude_mem -d '
                                f'postgres -c \'ALTER DATABASE "{aside}" RENAME TO "{POSTGRES_DB}"\'')


def _replicate(compose: Compose, deadline: Deadline) -> None:
    """The live store takes the scratch server's whole dataset, then stands alone again."""
    compose.exec(VALKEY, scripts.build_cli_argv("REPLICAOF", "127.0.0.1", str(scripts.SCRATCH_PORT)), timeout=30)
    try:
        def synced() -> bool:
            info = store_info(compose)
            return (info.get("master_link_status") == "up" and info.get("master_sync_in_progress") == "0"
                    and info.get("loading") == "0" and info.get("aof_rewrite_in_progress") == "0"
                    and info.get("aof_rewrite_scheduled") == "0")

        poll(synced, deadline, what="the store to take the restored dataset", transient=(OpsError,),
             hint=_hint(compose, VALKEY))
    finally:
        compose.exec(VALKEY, scripts.build_cli_argv("REPLICAOF", "NO", "ONE"), timeout=30)


def swap_store(compose: Compose, part: StorePart, deadline: Deadline, say: Say) -> tuple[str, KeyCount]:
    """Keep the live data aside, replace it by the staged snapshot, verify; (aside path, keys)."""
    from .docker_source import snapshot_in_place

    aside = f"before-restore-{stamp()}.rdb"
    say(f"queue store (container): keeping the current data aside as {scripts.STORE_DATA}/{aside}...")
    snapshot_in_place(compose, aside, deadline)
    try:
        say("queue store (container): loading the snapshot into the live store (replication)...")
        _replicate(compose, deadline)
        keys = store_keys(compose)
        problem = plan_key_check(KeyCount(part.keys, part.expires), keys)
        if problem:
            raise ProcessError(f"the restored store differs from the manifest: {problem}", hint="use another backup")
    except BaseException:
        say("queue store (container): restore failed; putting the old data back...")
        stop_scratch(compose)
        _scratch(compose, scripts.STORE_DATA, aside, Deadline.after(120))
        _replicate(compose, Deadline.after(120))
        raise
    finally:
        stop_scratch(compose)
    return f"{scripts.STORE_DATA}/{aside} (volume {compose.project.name}_valkey-data)", keys


@dataclass(frozen=True)
class DockerRestored:
    """What a docker-stack restore did."""

    store_keys: KeyCount
    store_aside: str
    postgres_rows: dict[str, int] | None
    postgres_aside: str | None
    restarted: tuple[str, ...]
    notes: tuple[str, ...]


def restore_into_stack(compose: Compose, prefix: str, store: StorePart, postgres: PostgresPart | None, work: Path,
                       deadline: Deadline, say: Say) -> DockerRestored:
    """Prepare both parts (nothing stopped), stop our claude-mem containers, swap, start them again."""
    from .docker_source import require_running

    require_running(compose, (POSTGRES, VALKEY) if postgres else (VALKEY,))
    notes: list[str] = []
    pg: tuple[str, dict[str, int]] | None = None
    try:
        if postgres is not None:
            prepare_postgres(compose, postgres, work / postgres.file.name, deadline, say)
        prepare_store(compose, store, work / store.file.name, deadline, say)
        quiet = quiesce(compose, say)
        try:
            if postgres is not None:
                pg = swap_postgres(compose, postgres, say)
            try:
                store_aside, keys = swap_store(compose, store, deadline, say)
            except BaseException:
                if pg is not None:
                    undo_postgres(compose, pg[0])
                raise
        finally:
            resume(compose, quiet, deadline, say)
    finally:  # whatever happened: no scratch server and no staged file is left in the containers
        stop_scratch(compose)
        if postgres is not None:
            compose.exec_status(POSTGRES, scripts.build_remove_argv(scripts.PG_RESTORE_FILE), timeout=30)
    if store.queue_prefix and store.queue_prefix != prefix:
        notes.append(f"the backup's queue prefix is {store.queue_prefix} but this stack's is {prefix}: the restored "
                     "jobs stay under the old prefix (claude-mem re-enqueues pending work from Postgres at start)")
    notes.append(f"the previous store data is kept as {store_aside}")
    if pg is not None:
        notes.append(f"the previous database is kept as {pg[0]}")
    restarted = ((SERVER,) if quiet.server else ()) + ((f"{quiet.workers} worker(s)",) if quiet.workers else ())
    return DockerRestored(keys, store_aside, pg[1] if pg else None, pg[0] if pg else None, restarted, tuple(notes))
