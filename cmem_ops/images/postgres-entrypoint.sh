#!/bin/sh
# cmem-ops' Postgres entrypoint: the official postgres image's interface (POSTGRES_USER, POSTGRES_DB,
# POSTGRES_PASSWORD_FILE, PGDATA) for an image built from Debian's binaries by `cmem-ops images build`.
# It runs as root only long enough to read the password file (mounted 0600) and own the data dir,
# then runs initdb/postgres as uid 999. The password never reaches an argv or the environment.
set -eu
: "${PGDATA:=/var/lib/postgresql/data}"
: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"
PG_UID=999
# busybox's start-stop-daemon without -b sets the user and execs the program in the same process.
as_postgres() {
    prog="$(command -v "$1")"
    shift
    start-stop-daemon -S -q -c "$PG_UID:$PG_UID" -x "$prog" -- "$@"
}

if [ "${1:-postgres}" != postgres ]; then
    exec "$@"
fi
[ "$#" -gt 0 ] && shift
if [ "$(id -u)" != 0 ]; then
    echo "postgres-entrypoint: run the container as root (it drops to uid $PG_UID itself)" >&2
    exit 1
fi
mkdir -p "$PGDATA" /run/postgresql
chown "$PG_UID:$PG_UID" "$PGDATA" /run/postgresql
chmod 0700 "$PGDATA"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    if [ -n "${POSTGRES_PASSWORD_FILE:-}" ]; then
        password="$(cat "$POSTGRES_PASSWORD_FILE")"
    else
        password="${POSTGRES_PASSWORD:-}"
    fi
    if [ -z "$password" ]; then
        echo "postgres-entrypoint: the database is uninitialized and no password was given: set POSTGRES_PASSWORD_FILE" >&2
        exit 1
    fi
    pwfile="$(mktemp /tmp/pgpass.XXXXXX)"
    printf '%s\n' "$password" >"$pwfile"
    chown "$PG_UID:$PG_UID" "$pwfile"
    chmod 0600 "$pwfile"
    as_postgres initdb -D "$PGDATA" -U "$POSTGRES_USER" --pwfile="$pwfile" -E UTF8 --locale=C \
        --auth-local=trust --auth-host=scram-sha-256 >/dev/null
    rm -f "$pwfile"
    printf "host all all all scram-sha-256\n" >>"$PGDATA/pg_hba.conf"
    printf "listen_addresses = '*'\njit = off\n" >>"$PGDATA/postgresql.conf"
    if [ "$POSTGRES_DB" != postgres ]; then
        echo "CREATE DATABASE \"$POSTGRES_DB\" OWNER \"$POSTGRES_USER\"" |
            as_postgres postgres --single -D "$PGDATA" -j postgres >/dev/null
    fi
    echo "postgres-entrypoint: initialized $PGDATA (user $POSTGRES_USER, database $POSTGRES_DB)"
fi
exec start-stop-daemon -S -q -c "$PG_UID:$PG_UID" -x "$(command -v postgres)" -- -D "$PGDATA" "$@"
