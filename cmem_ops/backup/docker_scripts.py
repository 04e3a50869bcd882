"""What `backup` / `restore` run inside the docker stack's containers, as argv (pure).

Every command is `sh -c SCRIPT sh ARG...` handed to `docker compose exec` (containers/compose_argv.py builds
that argv). Passwords never reach an argv or an exec environment: each script reads its container's
own secret file (/run/secrets/valkey-password, /run/secrets/postgres-password) into REDISCLI_AUTH /
PGPASSWORD. Only busybox applets (sh, cat, ln, rm, mkdir) and the servers' own tools are used, so the
tiny images of `cmem-ops images build` and the official images both run them.
"""

from __future__ import annotations

from ..lifecycle.docker_stack_config import POSTGRES_DB, POSTGRES_USER, SECRETS_MOUNT

VALKEY_AUTH = f'export REDISCLI_AUTH="$(cat {SECRETS_MOUNT}/valkey-password)"; '
PG_AUTH = (f'export PGPASSWORD="$(cat {SECRETS_MOUNT}/postgres-password)" PGUSER={POSTGRES_USER} '
           f'PGDATABASE={POSTGRES_DB} PGCONNECT_TIMEOUT=10; ')
STORE_DATA = "/data"
STORE_RDB = "/data/dump.rdb"
STORE_COPY = "/tmp/cmem-ops-backup.rdb"
RESTORE_DIR = "/data/.cmem-ops-restore"
SCRATCH_PORT = 6390
PG_DUMP_FILE = "/tmp/cmem-ops-backup.dump"
PG_RESTORE_FILE = "/tmp/cmem-ops-restore.dump"
DUMP_OK = "CMEM_OPS_DUMP_OK"

# One line per user table, `rows <schema.table> <count>`, counted in the transaction's snapshot.
COUNT_SQL = ("SELECT 'rows ' || schemaname || '.' || tablename || ' ' || (xpath('/row/c/text()', query_to_xml("
             "format('SELECT count(*) AS c FROM %I.%I', schemaname, tablename), false, true, '')))[1]::text "
             "FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1;")


def sh(script: str, *args: str) -> list[str]:
    """`sh -c SCRIPT sh ARG...`: the arguments reach the script as "$@", never parsed by a shell (pure)."""
    return ["sh", "-c", script, "sh", *args]


def build_cli_argv(*command: str, port: int | None = None) -> list[str]:
    """valkey-cli (authenticated unless `port`: the unauthenticated scratch server) running `command` (pure)."""
    if port is not None:
        return sh('p="$1"; shift; exec valkey-cli -p "$p" "$@"', str(port), *command)
    return sh(VALKEY_AUTH + 'exec valkey-cli --no-auth-warning "$@"', *command)


def build_snapshot_copy_argv() -> list[str]:
    """Copy the RDB BGSAVE wrote to a private path, so a later automatic save cannot change it under us (pure)."""
    return sh(f'umask 077; cat {STORE_RDB} > {STORE_COPY}')


def build_check_argv(path: str) -> list[str]:
    """The server's own RDB checker on `path`: the server binary started as `<flavour>-check-rdb` (pure)."""
    return sh('s="$(command -v valkey-server || command -v redis-server)"; n="${s##*/}"; '
              'ln -sf "$s" "/tmp/${n%-server}-check-rdb" && exec "/tmp/${n%-server}-check-rdb" "$1"', path)


def build_remove_argv(*paths: str) -> list[str]:
    """rm -rf PATH... (pure)."""
    return sh('rm -rf "$@"', *paths)


def build_scratch_argv(directory: str, dbfilename: str) -> list[str]:
    """A throwaway server in the store's container on 127.0.0.1:6390 loading `directory/dbfilename`,
    saving nothing: the live store replicates from it (pure)."""
    return sh('exec "$(command -v valkey-server || command -v redis-server)" --port "$1" --bind 127.0.0.1 '
              '--protected-mode yes --dir "$2" --dbfilename "$3" --appendonly no --save "" --daemonize yes '
              '--logfile "$2/scratch.log"', str(SCRATCH_PORT), directory, dbfilename)


def build_pg_dump_argv() -> list[str]:
    """pg_dump in one exported REPEATABLE READ snapshot, the row counts read in the same one (pure).

    Prints `server <version>`, `pg_dump <version line>`, one `rows <table> <n>` per table and DUMP_OK
    when pg_dump succeeded; the dump is left at PG_DUMP_FILE for `compose cp`.
    """
    sql = "\n".join((
        "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;",
        "SELECT pg_export_snapshot() AS snap \\gset",
        "\\setenv CMEM_OPS_SNAPSHOT :snap",
        "SELECT 'server ' || current_setting('server_version');",
        COUNT_SQL,
        f'\\! pg_dump --format=custom --no-owner --no-privileges --snapshot="$CMEM_OPS_SNAPSHOT" '
        f'--file={PG_DUMP_FILE} && echo {DUMP_OK}',
        "COMMIT;"))
    return sh(PG_AUTH + 'umask 077; echo "pg_dump $(pg_dump --version)"; '
              f"psql -X -q -At -v ON_ERROR_STOP=1 <<'CMEM_OPS_SQL'\n{sql}\nCMEM_OPS_SQL")


def build_psql_argv(sql: str, database: str = POSTGRES_DB) -> list[str]:
    """psql -At running `sql` (stops at the first error) in `database` (pure)."""
    return sh(PG_AUTH + 'exec psql -X -q -At -v ON_ERROR_STOP=1 -d "$1" -c "$2"', database, sql)


def build_pg_restore_argv(database: str = POSTGRES_DB) -> list[str]:
    """pg_restore of PG_RESTORE_FILE into `database` in one transaction, stopping at the first error (pure)."""
    return sh(PG_AUTH + 'exec pg_restore --single-transaction --exit-on-error --no-owner --no-privileges '
              '-d "$1" "$2"', database, PG_RESTORE_FILE)


def build_pg_list_argv() -> list[str]:
    """pg_restore --list of PG_RESTORE_FILE: the container's pg_restore can read the dump (pure)."""
    return sh(PG_AUTH + 'pg_restore --list "$1" > /dev/null && echo "pg_restore $(pg_restore --version)"',
              PG_RESTORE_FILE)


def parse_dump_output(text: str) -> tuple[str, str, dict[str, int], bool]:
    """(server version, pg_dump version, rows per table, dump ok) from build_pg_dump_argv's output (pure)."""
    server = dump = ""
    rows: dict[str, int] = {}
    ok = False
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("server "):
            server = line.split()[1]
        elif line.startswith("pg_dump ") and "PostgreSQL" in line:
            dump = line.split()[-1]
        elif line.startswith("rows "):
            parts = line.split()
            if len(parts) == 3 and parts[2].isdigit():
                rows[parts[1]] = int(parts[2])
        elif line == DUMP_OK:
            ok = True
    return server, dump, rows, ok


def parse_rows(text: str) -> dict[str, int]:
    """`rows <table> <n>` lines (COUNT_SQL's output) as a dict (pure)."""
    return parse_dump_output(text)[2]


def format_problem(text: str) -> str:
    """The lines of an in-container command's output that are not our own `rows`/`server` lines (pure)."""
    lines = [line.strip() for line in text.splitlines()
             if line.strip() and not line.startswith(("rows ", "server ", DUMP_OK))]
    return ("; ".join(lines) or "no error text")[-400:]
