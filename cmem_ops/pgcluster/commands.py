"""The argv of every PostgreSQL tool the managed cluster runs, built where a test can compare them (pure)."""

from __future__ import annotations

from pathlib import Path

from .binaries import PgBinaries
from .config import DATABASE, HOST, ROLE, marker
from .osuser import ClusterUser


def build_initdb(bins: PgBinaries, user: ClusterUser, pgdata: Path, pwfile: Path, role: str = ROLE) -> list[str]:
    """initdb with a scram-sha-256 superuser `role` whose password is read from `pwfile`."""
    return user.wrap([str(bins.tool("initdb")), "-D", str(pgdata), "-U", role, f"--pwfile={pwfile}",
                      "--auth=scram-sha-256", "--encoding=UTF8", "--locale=C"])


def build_start(bins: PgBinaries, user: ClusterUser, pgdata: Path, token: str, wait_s: int) -> list[str]:
    """pg_ctl start -w with our identity marker on the postmaster's command line (output goes to our log)."""
    return user.wrap([str(bins.tool("pg_ctl")), "start", "-D", str(pgdata), "-w", "-t", str(max(1, wait_s)),
                      "-o", f"-c {marker(token)}"])


def build_stop(bins: PgBinaries, user: ClusterUser, pgdata: Path, wait_s: int) -> list[str]:
    """pg_ctl stop -m fast -w (aborts open transactions, checkpoints, exits)."""
    return user.wrap([str(bins.tool("pg_ctl")), "stop", "-D", str(pgdata), "-m", "fast", "-w",
                      "-t", str(max(1, wait_s))])


def build_createdb(bins: PgBinaries, port: int, role: str = ROLE, database: str = DATABASE) -> list[str]:
    """createdb over loopback TCP as `role` (the password comes in PGPASSWORD, never on argv)."""
    return [str(bins.tool("createdb")), "-h", HOST, "-p", str(port), "-U", role, "-O", role, database]
