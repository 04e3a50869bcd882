"""Managed Postgres services: start (first start: initdb + createdb), stop, status, database_url.

Mode: `external` when CLAUDE_MEM_SERVER_DATABASE_URL (env or settings.json) names anything but our
cluster, or CMEM_OPS_POSTGRES_MODE=external; else `managed`. An external database is reported
but never started or stopped. The first start chooses a loopback port and a password once and
persists them (<data dir>/postgres/cluster.json, 0600), then writes CLAUDE_MEM_SERVER_DATABASE_URL
and CMEM_OPS_POSTGRES_MODE=managed to settings.json.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit

from ..context import Context
from ..errors import ConfigError, ConflictError, OpsError
from ..host.detect import detect_host
from ..pgcluster import binaries, cluster
from ..pgcluster.config import HOST, ClusterState
from ..pgcluster.osuser import ClusterUser, check_reachable, plan_pgdata, resolve_user
from ..redaction import redact_text
from ..settings import write_settings_keys
from ..store.ports import choose_port, port_answers, port_is_free
from ..wait import Deadline

KEY_DATABASE_URL = "CLAUDE_MEM_SERVER_DATABASE_URL"
KEY_PG_MODE = "CMEM_OPS_POSTGRES_MODE"
KEY_PG_BINDIR = "CMEM_OPS_POSTGRES_BINDIR"
KEY_PG_USER = "CMEM_OPS_POSTGRES_USER"
KEY_PG_ROOT = "CMEM_OPS_POSTGRES_ROOT"
OWN_KEYS = (KEY_DATABASE_URL, KEY_PG_MODE)


class PgMode(StrEnum):
    """Whose Postgres it is: ours (a private cluster cmem-ops runs) or the user's (never started or stopped)."""

    MANAGED = "managed"
    EXTERNAL = "external"
    UNKNOWN = "unknown"  # status only: the settings could not be read


@dataclass(frozen=True)
class PgStatus:
    """What `cmem-ops postgres status` reports (the URL is redacted)."""

    mode: PgMode
    running: bool
    url: str | None
    port: int | None
    pid: int | None
    version: str | None
    data_dir: str | None
    problem: str | None
    hint: str | None


def postgres_mode(ctx: Context, state: ClusterState | None = None) -> PgMode:
    """managed | external, from the configured URL and CMEM_OPS_POSTGRES_MODE (see module docstring)."""
    explicit = (ctx.settings.get(KEY_PG_MODE) or "").strip().lower()
    if explicit not in ("", PgMode.MANAGED, PgMode.EXTERNAL):
        raise ConfigError(f"{KEY_PG_MODE}={explicit!r} ({ctx.settings.source(KEY_PG_MODE)}) is not managed or external",
                          hint=f"set {KEY_PG_MODE}=managed, or remove it")
    url = ctx.settings.get(KEY_DATABASE_URL)
    if explicit == PgMode.EXTERNAL and url:
        return PgMode.EXTERNAL
    state = state if state is not None else cluster.load_state(ctx.paths)
    if url and (state is None or url != state.url()):
        return PgMode.EXTERNAL
    return PgMode.MANAGED


def database_url(ctx: Context) -> str | None:
    """The unredacted URL claude-mem should use: an external one if configured, else the managed cluster's."""
    state = cluster.load_state(ctx.paths)
    if postgres_mode(ctx, state) is PgMode.EXTERNAL:
        return ctx.settings.get(KEY_DATABASE_URL)
    return state.url() if state is not None and state.initialized else None


def _euid() -> int:
    return os.geteuid() if hasattr(os, "geteuid") else -1


def _cluster_user(ctx: Context, state: ClusterState | None) -> ClusterUser:
    override = ctx.settings.get(KEY_PG_USER) or (state.os_user if state is not None and _euid() == 0 else None)
    return resolve_user(_euid(), override)


def _binaries(ctx: Context, state: ClusterState | None) -> binaries.PgBinaries:
    override = ctx.settings.get(KEY_PG_BINDIR)
    if state is not None and not override:
        kept = binaries.inspect_bindir(Path(state.bindir), "cluster.json", ctx.runner)
        if kept is not None and kept.major == state.major:
            return kept
    tried = binaries.candidate_dirs(ctx.runner, override)
    found = binaries.discover(ctx.runner, override)
    host = detect_host()
    return binaries.select_binaries(found, state.major if state is not None and state.initialized else None,
                                    binaries.install_hint(host.family, host.is_root), tried)


def _new_state(ctx: Context, bins: binaries.PgBinaries, user: ClusterUser) -> ClusterState:
    pgdata = plan_pgdata(ctx.paths.data_dir, user.via_runuser, ctx.settings.get(KEY_PG_ROOT))
    port = choose_port(port_is_free)
    return ClusterState(pgdata=str(pgdata), port=port, password=cluster.new_password(), os_user=user.name,
                        bindir=str(bins.bindir), version=bins.version, created_at=time.time())


def start(ctx: Context, timeout: float = 60) -> PgStatus:
    """Start the managed cluster (initdb + createdb on first start); idempotent; external URLs are left alone."""
    if postgres_mode(ctx) is PgMode.EXTERNAL:
        return status(ctx)
    deadline = Deadline.after(timeout)
    with cluster.cluster_lock(ctx.paths):
        state = cluster.load_state(ctx.paths)
        record = cluster.running_record(ctx.paths, state, adopt=True)
        if record is None or state is None or not state.database_created:
            state = _bring_up(ctx, state, record is not None, deadline)
        write_settings_keys(ctx.paths, {KEY_DATABASE_URL: state.url(), KEY_PG_MODE: PgMode.MANAGED.value})
    return status(ctx.reload())


def _bring_up(ctx: Context, state: ClusterState | None, running: bool, deadline: Deadline) -> ClusterState:
    user = _cluster_user(ctx, state)
    bins = _binaries(ctx, state)
    log_file = ctx.paths.log_file(cluster.COMPONENT)
    if state is None or not state.initialized:
        state = state or _new_state(ctx, bins, user)
        pgdata = Path(state.pgdata)
        if user.via_runuser:
            pgdata.parent.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
        check_reachable(pgdata, user)
        cluster.prepare_parent(pgdata, user)
        cluster.save_state(ctx.paths, state)  # before initdb: the password must never be lost
        cluster.run_initdb(ctx.runner, bins, user, state, log_file, deadline)
        state = state.evolve(initialized=True, bindir=str(bins.bindir), version=bins.version)
        cluster.save_state(ctx.paths, state)
    if not running:
        if port_answers(HOST, state.port):
            raise ConflictError(
                f"port {state.port} already answers on {HOST}, and it is not the managed Postgres "
                "(no live record of ours)",
                hint=f"stop whatever listens there (ss -ltnp 'sport = :{state.port}'), then cmem-ops postgres start",
            )
        cluster.write_conf(state, user)
        cluster.start_postmaster(ctx.paths, ctx.runner, bins, user, state, deadline)
    if not state.database_created:
        cluster.create_database(ctx.runner, bins, state, deadline)
        state = state.evolve(database_created=True)
        cluster.save_state(ctx.paths, state)
    if state.bindir != str(bins.bindir) or state.version != bins.version:
        state = state.evolve(bindir=str(bins.bindir), version=bins.version)
        cluster.save_state(ctx.paths, state)
    return state


def stop(ctx: Context, timeout: float = 30) -> PgStatus:
    """Stop the managed cluster (pg_ctl stop -m fast) only when its identity proves it is ours; data is kept."""
    if postgres_mode(ctx) is PgMode.EXTERNAL:
        return status(ctx)
    with cluster.cluster_lock(ctx.paths, create=False):
        state = cluster.load_state(ctx.paths)
        record = cluster.running_record(ctx.paths, state, adopt=True)
        if record is None or state is None:
            cluster.record_file(ctx.paths).unlink(missing_ok=True)  # stale: its process is gone or not ours
        else:
            user = _cluster_user(ctx, state)
            try:
                bins: binaries.PgBinaries | None = _binaries(ctx, state)
            except OpsError:
                bins = None  # binaries gone: stop_postmaster falls back to signals
            cluster.stop_postmaster(ctx.paths, ctx.runner, record, bins, user, state, timeout)
    return _status(ctx, down_is_ok=True)


def _external_status(url: str) -> PgStatus:
    parts = urlsplit(url)
    try:
        port = parts.port or 5432
    except ValueError:
        return PgStatus(PgMode.EXTERNAL, False, redact_text(url), None, None, None, None,
                        f"{KEY_DATABASE_URL} has an invalid port", f"fix {KEY_DATABASE_URL}")
    host = parts.hostname or "localhost"
    answers = _tcp_answers(host, port)
    return PgStatus(PgMode.EXTERNAL, answers, redact_text(url), port, None, None, None,
                    None if answers else f"nothing answers on {host}:{port}",
                    None if answers else f"start that Postgres, or unset {KEY_DATABASE_URL} to use the managed one: "
                                         "cmem-ops postgres start")


def _tcp_answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def status(ctx: Context) -> PgStatus:
    """Report the managed or external Postgres; never raises for Postgres itself being down."""
    return _status(ctx, down_is_ok=False)


def _status(ctx: Context, down_is_ok: bool) -> PgStatus:
    state = cluster.load_state(ctx.paths)
    if postgres_mode(ctx, state) is PgMode.EXTERNAL:
        return _external_status(ctx.settings.get(KEY_DATABASE_URL) or "")
    if state is None or not state.initialized:
        return PgStatus(PgMode.MANAGED, False, None, state.port if state else None, None, None,
                        state.pgdata if state else None, "the managed cluster is not initialized yet",
                        "cmem-ops postgres start")
    record = cluster.running_record(ctx.paths, state)
    url = redact_text(state.url())
    if record is None:
        if down_is_ok:  # after stop, not running is the wanted state, not a problem
            return PgStatus(PgMode.MANAGED, False, url, state.port, None, state.version, state.pgdata, None, None)
        return PgStatus(PgMode.MANAGED, False, url, state.port, None, state.version, state.pgdata,
                        "the managed cluster is not running", "cmem-ops postgres start")
    problem = hint = None
    if not port_answers(HOST, state.port):
        problem = f"the postmaster (pid {record.pid}) runs but nothing answers on {HOST}:{state.port}"
        hint = f"read the log: {ctx.paths.log_file(cluster.COMPONENT)}"
    elif not state.database_created:
        problem, hint = f"database {state.database} was not created yet", "cmem-ops postgres start"
    return PgStatus(PgMode.MANAGED, True, url, state.port, record.pid, state.version, state.pgdata, problem, hint)
