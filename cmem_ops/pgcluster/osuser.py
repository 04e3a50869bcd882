"""Who runs the managed cluster, and where its data directory may live so that user can reach it.

PostgreSQL refuses to run as root. When cmem-ops runs as root, initdb and pg_ctl run as an
unprivileged user through `runuser -u <user> --` (the `postgres` system user, or
CMEM_OPS_POSTGRES_USER), and PGDATA must be owned by that user with every ancestor traversable by
it. A root data dir (~/.claude-mem under /root, both 0700) never is, so as root PGDATA lives under
/var/lib/cmem-ops/postgres/<id>/data (the way distro packages keep /var/lib/postgresql), where <id>
names the data dir; CMEM_OPS_POSTGRES_ROOT moves that base. The secrets stay in <data dir>/postgres.
"""

from __future__ import annotations

import hashlib
import os
import stat
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError, MissingError

if sys.platform != "win32":  # no pwd on Windows, where the managed cluster is not offered
    import pwd

DEFAULT_USER = "postgres"
SYSTEM_ROOT = Path("/var/lib/cmem-ops/postgres")


@dataclass(frozen=True)
class ClusterUser:
    """The OS user the cluster's server tools run as."""

    name: str
    uid: int
    gid: int
    groups: tuple[int, ...]
    via_runuser: bool  # we are root: wrap server tools in `runuser -u name --`

    def wrap(self, argv: Sequence[str]) -> list[str]:
        """`argv` run as this user (pure)."""
        if self.via_runuser:
            return ["runuser", "-u", self.name, "--", *argv]
        return list(argv)


def resolve_user(euid: int, override: str | None = None,
                 getpwnam: Callable[[str], pwd.struct_passwd] | None = None,
                 getpwuid: Callable[[int], pwd.struct_passwd] | None = None) -> ClusterUser:
    """Ourselves when not root; else the unprivileged user named by `override` or `postgres`."""
    getpwnam = getpwnam or pwd.getpwnam
    getpwuid = getpwuid or pwd.getpwuid
    if euid != 0:
        entry = getpwuid(euid)
        return ClusterUser(entry.pw_name, entry.pw_uid, entry.pw_gid, _groups(entry), via_runuser=False)
    name = override or DEFAULT_USER
    try:
        entry = getpwnam(name)
    except KeyError:
        raise MissingError(
            f"PostgreSQL refuses to run as root, and there is no `{name}` user to run the managed cluster as",
            hint="useradd --system --user-group --home-dir /var/lib/postgresql --shell /usr/sbin/nologin postgres"
                 "   (or set CMEM_OPS_POSTGRES_USER to an existing unprivileged user)",
        ) from None
    if entry.pw_uid == 0:
        raise ConfigError(f"CMEM_OPS_POSTGRES_USER={name} is root; PostgreSQL refuses to run as root",
                          hint="set CMEM_OPS_POSTGRES_USER to an unprivileged user, e.g. postgres")
    return ClusterUser(entry.pw_name, entry.pw_uid, entry.pw_gid, _groups(entry), via_runuser=True)


def _groups(entry: pwd.struct_passwd) -> tuple[int, ...]:
    try:
        return tuple(os.getgrouplist(entry.pw_name, entry.pw_gid))
    except OSError:
        return (entry.pw_gid,)


def can_traverse(mode: int, owner: int, group: int, uid: int, groups: Sequence[int]) -> bool:
    """True when a user (uid, groups) may search a directory with this mode/owner/group (pure; root always may)."""
    if uid == 0:
        return True
    if owner == uid:
        return bool(mode & stat.S_IXUSR)
    if group in groups:
        return bool(mode & stat.S_IXGRP)
    return bool(mode & stat.S_IXOTH)


def blocked_ancestors(path: Path, user: ClusterUser) -> list[Path]:
    """Existing ancestors of `path` (nearest last) that `user` cannot traverse; empty when it can reach `path`."""
    blocked = []
    for ancestor in reversed(path.absolute().parents):
        try:
            st = ancestor.stat()
        except FileNotFoundError:
            break
        if not can_traverse(st.st_mode, st.st_uid, st.st_gid, user.uid, user.groups):
            blocked.append(ancestor)
    return blocked


def data_dir_id(data_dir: Path) -> str:
    """A short stable name for a data dir, used for its cluster under the system root (pure)."""
    return hashlib.sha256(str(data_dir.absolute()).encode()).hexdigest()[:12]


def plan_pgdata(data_dir: Path, as_root: bool, root_override: str | None = None,
                system_root: Path = SYSTEM_ROOT) -> Path:
    """Where PGDATA goes for a new cluster (pure): <data>/postgres/data, or <root>/<id>/data when root or overridden."""
    if root_override:
        return Path(root_override).expanduser().absolute() / data_dir_id(data_dir) / "data"
    if as_root:
        return system_root / data_dir_id(data_dir) / "data"
    return data_dir / "postgres" / "data"


def check_reachable(pgdata: Path, user: ClusterUser) -> None:
    """Raise ConfigError naming the directories that keep `user` from reaching PGDATA's parent."""
    blocked = blocked_ancestors(pgdata.parent, user)
    if blocked:
        dirs = " ".join(str(p) for p in blocked)
        raise ConfigError(
            f"the cluster user `{user.name}` cannot reach {pgdata}: {dirs} "
            f"{'is' if len(blocked) == 1 else 'are'} not searchable by it",
            hint=f"set CMEM_OPS_POSTGRES_ROOT to a directory {user.name} can reach (e.g. /var/lib/cmem-ops/postgres), "
                 f"or grant search (not read) on the way: chmod o+x {dirs}",
        )
