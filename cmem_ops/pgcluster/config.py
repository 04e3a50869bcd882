"""Pure parts of the managed cluster: its state record, its config file, its URL and its identity marker."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from typing import Any
from urllib.parse import quote

HOST = "127.0.0.1"
ROLE = "cmem"
DATABASE = "claude_mem"
CONF_NAME = "cmem-ops.conf"
INCLUDE_LINE = f"include_if_exists = '{CONF_NAME}'   # added by cmem-ops"
MARKER_PREFIX = "cmem-ops-"


@dataclass(frozen=True)
class ClusterState:
    """What cmem-ops remembers about its cluster (<data dir>/postgres/cluster.json, mode 0600: holds the password)."""

    pgdata: str
    port: int
    password: str
    os_user: str
    bindir: str
    version: str | None
    role: str = ROLE
    database: str = DATABASE
    initialized: bool = False
    database_created: bool = False
    created_at: float | None = None

    @property
    def major(self) -> int | None:
        return int(self.version.split(".")[0]) if self.version else None

    def url(self) -> str:
        """The unredacted connection URL claude-mem uses."""
        return build_url(self.role, self.password, HOST, self.port, self.database)

    def evolve(self, **changes: Any) -> ClusterState:
        """A copy with `changes` applied."""
        return replace(self, **changes)


def build_url(role: str, password: str, host: str, port: int, database: str) -> str:
    """postgres://role:password@host:port/database with the password percent-encoded (pure)."""
    return f"postgres://{quote(role, safe='')}:{quote(password, safe='')}@{host}:{port}/{quote(database, safe='')}"


def format_state(state: ClusterState) -> str:
    """The JSON text of cluster.json (pure)."""
    return json.dumps(asdict(state), indent=2) + "\n"


def parse_state(text: str) -> ClusterState | None:
    """Parse cluster.json; None when it is not a state record we wrote (pure)."""
    try:
        data = json.loads(text)
        return ClusterState(
            pgdata=str(data["pgdata"]), port=int(data["port"]), password=str(data["password"]),
            os_user=str(data["os_user"]), bindir=str(data["bindir"]),
            version=str(data["version"]) if data.get("version") else None,
            role=str(data.get("role") or ROLE), database=str(data.get("database") or DATABASE),
            initialized=bool(data.get("initialized")), database_created=bool(data.get("database_created")),
            created_at=float(data["created_at"]) if data.get("created_at") is not None else None,
        )
    except (ValueError, KeyError, TypeError):
        return None


def render_conf(port: int) -> str:
    """cmem-ops.conf, included from postgresql.conf: loopback TCP only, our port, no Unix socket (pure).

    No Unix socket: its path would have to fit 107 bytes and the distro's socket dir is not the
    cluster user's to write; claude-mem connects over TCP anyway.
    """
    return "\n".join([
        "# Written by cmem-ops at every start; edits here are overwritten.",
        "# Put your own settings in postgresql.conf or postgresql.auto.conf (ALTER SYSTEM).",
        f"listen_addresses = '{HOST}'",
        f"port = {port}",
        "unix_socket_directories = ''",
        "password_encryption = 'scram-sha-256'",
        "logging_collector = off",
        "log_destination = 'stderr'",
        "log_line_prefix = '%m [%p] '",
        "log_timezone = 'UTC'",
        "timezone = 'UTC'",
        "",
    ])


def add_include(postgresql_conf: str) -> str:
    """postgresql.conf text with our include line appended once (pure)."""
    if INCLUDE_LINE in postgresql_conf:
        return postgresql_conf
    sep = "" if postgresql_conf.endswith("\n") or not postgresql_conf else "\n"
    return f"{postgresql_conf}{sep}\n{INCLUDE_LINE}\n"


def marker(token: str) -> str:
    """The identity marker passed on the postmaster's command line: cluster_name=cmem-ops-<token> (pure)."""
    return f"cluster_name={MARKER_PREFIX}{token}"


def parse_marker(cmdline: str) -> str | None:
    """The marker found in a postmaster's command line, or None (pure)."""
    for word in cmdline.split():
        if word.startswith(f"cluster_name={MARKER_PREFIX}"):
            return word
    return None


def parse_postmaster_pid(text: str) -> tuple[int, str] | None:
    """(pid, data directory) from PGDATA/postmaster.pid's first two lines; None when malformed (pure)."""
    lines = text.splitlines()
    if len(lines) < 2:
        return None
    try:
        pid = int(lines[0].strip())
    except ValueError:
        return None
    return (pid, lines[1].strip()) if pid > 0 else None
