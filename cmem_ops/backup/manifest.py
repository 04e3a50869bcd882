"""The manifest at the head of every backup archive: versions, row and key counts, digests (pure).

    {"format": "cmem-ops-backup/1", "kind": "stack" | "store", "created_at": "...Z", "cmem_ops": "0.1.0",
     "postgres": {"file": {...}, "server_version", "pg_dump_version", "database", "mode", "tables": {...}} | null,
     "store": {"file": {...}, "flavour", "version", "binary", "rdb", "rdb_version", "keys", "expires", ...} | null}

Every file entry is {"name": <path inside the archive>, "sha256": ..., "size": ...}; restore
refuses an archive whose files do not match.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError
from ..result import to_jsonable

FORMAT = "cmem-ops-backup/1"
MANIFEST_NAME = "manifest.json"


@dataclass(frozen=True)
class FileEntry:
    """One file inside the archive and its digest."""

    name: str
    sha256: str
    size: int


@dataclass(frozen=True)
class StorePart:
    """The queue store snapshot: who wrote it, its RDB format, what the checker counted."""

    file: FileEntry
    flavour: str
    version: str
    binary: str
    rdb: str  # the header, e.g. "REDIS0011" / "VALKEY080"
    rdb_version: int
    keys: int
    expires: int
    check: str
    how: str
    queue_prefix: str | None = None  # claude-mem's CLAUDE_MEM_QUEUE_REDIS_PREFIX: its BullMQ keys live under it


@dataclass(frozen=True)
class PostgresPart:
    """The pg_dump of claude-mem's database and the row count of every table in the same snapshot."""

    file: FileEntry
    server_version: str
    pg_dump_version: str
    database: str
    mode: str  # managed | external
    tables: dict[str, int] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


@dataclass(frozen=True)
class Manifest:
    """What one archive holds."""

    kind: str  # "stack" | "store"
    created_at: str
    cmem_ops: str
    postgres: PostgresPart | None
    store: StorePart | None
    format: str = FORMAT

    @property
    def files(self) -> list[FileEntry]:
        return [part.file for part in (self.postgres, self.store) if part is not None]


def format_manifest(manifest: Manifest) -> str:
    """The JSON text of manifest.json (pure)."""
    return json.dumps(to_jsonable(manifest), indent=2) + "\n"


def parse_manifest(text: str, where: str) -> Manifest:
    """Parse manifest.json; ConfigError naming `where` when it is not one we wrote (pure)."""
    try:
        data = json.loads(text)
        if data.get("format") != FORMAT:
            raise ConfigError(f"{where} is not a cmem-ops backup (format {data.get('format')!r}, expected {FORMAT})",
                              hint="pass an archive written by cmem-ops backup or cmem-ops store backup")
        return Manifest(kind=str(data["kind"]), created_at=str(data["created_at"]), cmem_ops=str(data["cmem_ops"]),
                        postgres=_postgres(data.get("postgres")), store=_store(data.get("store")))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"{where} has an unreadable manifest: {exc}",
                          hint="pass an archive written by cmem-ops backup or cmem-ops store backup") from None


def _file(data: dict[str, Any]) -> FileEntry:
    return FileEntry(str(data["name"]), str(data["sha256"]), int(data["size"]))


def _store(data: dict[str, Any] | None) -> StorePart | None:
    if data is None:
        return None
    return StorePart(file=_file(data["file"]), flavour=str(data["flavour"]), version=str(data["version"]),
                     binary=str(data["binary"]), rdb=str(data["rdb"]), rdb_version=int(data["rdb_version"]),
                     keys=int(data["keys"]), expires=int(data["expires"]), check=str(data["check"]),
                     how=str(data["how"]), queue_prefix=data.get("queue_prefix"))


def _postgres(data: dict[str, Any] | None) -> PostgresPart | None:
    if data is None:
        return None
    return PostgresPart(file=_file(data["file"]), server_version=str(data["server_version"]),
                        pg_dump_version=str(data["pg_dump_version"]), database=str(data["database"]),
                        mode=str(data["mode"]), tables={str(k): int(v) for k, v in data["tables"].items()})
