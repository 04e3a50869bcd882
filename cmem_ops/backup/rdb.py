"""What an RDB file says about itself, and which servers can read it (pure).

Found on this machine (dump.rdb written by each server, read back by each server's own checker):

    writer            header       readers that accept it
    Redis 6.2.5       REDIS0009    all
    Redis 7.0.15      REDIS0010    Redis 7.0, 8.2, Valkey 8.1, 9.1
    Valkey 8.1.8      REDIS0011    Redis 8.2, Valkey 8.1, 9.1
    Redis 8.2.3       REDIS0012    Redis 8.2; Valkey 9.1 only with rdb-version-check relaxed
    Valkey 9.1.2      VALKEY080    Valkey 9.1 only ("Wrong signature" everywhere else)

`MAX_RDB` is that table as data: the highest RDB version a server release reads. It words the
refusal; the target binary's own check of the file is the verdict.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..store.flavour import Flavour

# (flavour, (major, minor)) -> highest RDB format version that release loads. Sources: the
# RDB_VERSION constant of each release's rdb.h, confirmed here for the five servers above.
MAX_RDB: dict[tuple[Flavour, tuple[int, int]], int] = {
    (Flavour.REDIS, (6, 2)): 9,
    (Flavour.REDIS, (7, 0)): 10,
    (Flavour.REDIS, (7, 2)): 11,
    (Flavour.REDIS, (7, 4)): 12,
    (Flavour.REDIS, (8, 0)): 12,
    (Flavour.REDIS, (8, 2)): 12,
    (Flavour.VALKEY, (7, 2)): 11,
    (Flavour.VALKEY, (8, 0)): 11,
    (Flavour.VALKEY, (8, 1)): 11,
    (Flavour.VALKEY, (9, 0)): 80,
    (Flavour.VALKEY, (9, 1)): 80,
}


@dataclass(frozen=True)
class RdbHeader:
    """The magic and format version in an RDB file's first 9 bytes."""

    magic: str  # "REDIS" | "VALKEY"
    version: int

    @property
    def text(self) -> str:
        return f"{self.magic}{self.version:04d}" if self.magic == "REDIS" else f"{self.magic}{self.version:03d}"


@dataclass(frozen=True)
class RdbCheck:
    """What `<server>-check-rdb FILE` said."""

    ok: bool
    keys: int | None
    expires: int | None
    already_expired: int | None
    summary: str
    needs_relaxed: bool = False


def parse_rdb_header(head: bytes) -> RdbHeader | None:
    """b'REDIS0011...' -> RdbHeader('REDIS', 11); b'VALKEY080' -> ('VALKEY', 80); None when not an RDB."""
    for magic, width in (("REDIS", 4), ("VALKEY", 3)):
        raw = head[len(magic):len(magic) + width]
        if head.startswith(magic.encode()) and len(raw) == width and raw.isdigit():
            return RdbHeader(magic, int(raw))
    return None


def max_rdb_version(flavour: Flavour | None, version: tuple[int, ...] | None) -> int | None:
    """The highest RDB version this release reads, from MAX_RDB; newer unknown releases get their
    family's newest entry, older unknown ones None."""
    if flavour is None or not version or len(version) < 2:
        return None
    key = (flavour, (version[0], version[1]))
    if key in MAX_RDB:
        return MAX_RDB[key]
    same = sorted((v, n) for (f, v), n in MAX_RDB.items() if f is flavour)
    if same and key[1] > same[-1][0]:
        return same[-1][1]
    older = [n for v, n in same if v < key[1]]
    return older[-1] if older else None


def plan_readable(header: RdbHeader, flavour: Flavour | None, version: tuple[int, ...] | None) -> str | None:
    """Why a server of `flavour` `version` cannot load an RDB with `header`, or None when the table
    says it can (or does not know)."""
    limit = max_rdb_version(flavour, version)
    if limit is None or flavour is None or version is None:
        return None
    name = f"{flavour.display} {'.'.join(map(str, version))}"
    if header.magic == "VALKEY" and flavour is not Flavour.VALKEY:
        return f"{name} cannot read a Valkey-format RDB ({header.text}, written by Valkey 9 or later)"
    if header.version > limit:
        return f"{name} reads RDB format versions up to {limit}; this file is {header.text} (version {header.version})"
    return None


_COUNT = re.compile(r"^\[info\]\s+(\d+)\s+(keys read|expires|already expired)\s*$")
_ERROR_LINE = re.compile(r"^\[offset \d+\]\s+(?P<msg>.+)$")


def parse_check_output(text: str, returncode: int) -> RdbCheck:
    """Read the output of redis-check-rdb / valkey-check-rdb (the same program as the server)."""
    counts: dict[str, int] = {}
    error = None
    in_error = False
    looks_ok = None
    for line in text.splitlines():
        line = line.strip()
        match = _COUNT.match(line)
        if match:
            counts[match.group(2)] = int(match.group(1))
            continue
        if "RDB ERROR DETECTED" in line:
            in_error = True
            continue
        offset = _ERROR_LINE.match(line)
        if offset and in_error and error is None:
            error = offset.group("msg")
        if "RDB looks OK" in line:
            looks_ok = line.split("]", 1)[-1].strip()
    relaxed = looks_ok is not None and "relaxed" in looks_ok
    ok = returncode == 0 and looks_ok is not None and not relaxed
    if ok:
        summary = "RDB looks OK"
    elif relaxed:
        summary = "readable only with rdb-version-check relaxed (a foreign RDB version)"
    else:
        summary = error or f"the check exited {returncode} without a verdict"
    return RdbCheck(ok, counts.get("keys read"), counts.get("expires"), counts.get("already expired"), summary,
                    relaxed)
