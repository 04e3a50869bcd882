"""What each server binary printed for `--version`, remembered so a start asks each file only once.

<data dir>/cache/server-versions.json (0600 in a 0700 dir) maps a binary's real path to the
identity of the file that answered (size, mtime_ns, inode, device) and the text it printed. An
entry counts only while the file on disk still has that identity, so an upgraded, rebuilt or
replaced binary is asked again; the text is parsed afresh on every read, so a parser change needs
no cache migration. A missing, unreadable or garbled cache is an empty one (it is only a cache),
and it is written only into a data dir that already exists: listing binaries creates nothing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..paths import Paths, ensure_private_dir, write_private_file

CACHE_NAME = "server-versions.json"
Entries = dict[str, dict[str, object]]


def cache_file(paths: Paths) -> Path:
    """Where the version cache of this data dir lives."""
    return paths.cache_dir / CACHE_NAME


def file_identity(path: Path) -> list[int] | None:
    """(size, mtime_ns, inode, device) of the file `path` resolves to, or None when it cannot be read."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev]


def parse_cache(text: str) -> Entries:
    """The entries of a cache file's text; anything that is not the shape we write is dropped (pure)."""
    try:
        raw = json.loads(text)
    except ValueError:
        return {}
    if not isinstance(raw, dict):
        return {}
    return {k: v for k, v in raw.items()
            if isinstance(k, str) and isinstance(v, dict) and isinstance(v.get("text"), str)
            and isinstance(v.get("file"), list)}


def read_cache(path: Path) -> Entries:
    """The cache at `path`, or no entries when it is missing or unreadable."""
    try:
        return parse_cache(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return {}


def lookup(entries: Entries, real: str, identity: list[int] | None) -> str | None:
    """The remembered `--version` text of the file at real path `real`, if it is still the same file (pure)."""
    entry = entries.get(real)
    if entry is None or identity is None or entry.get("file") != identity:
        return None
    text = entry["text"]
    return text if isinstance(text, str) else None


def remember(entries: Entries, real: str, identity: list[int] | None, text: str) -> bool:
    """Record what `real` printed; True when that changed the entries (pure on `entries`)."""
    if identity is None:
        return False
    entry: dict[str, object] = {"file": identity, "text": text}
    if entries.get(real) == entry:
        return False
    entries[real] = entry
    return True


def write_cache(paths: Paths, entries: Entries) -> None:
    """Write the cache into an existing data dir (never creating the data dir); failures are ignored."""
    if not paths.data_dir.is_dir():
        return
    try:
        ensure_private_dir(paths.cache_dir)
        # not fsynced: losing it to a crash costs one `--version` per binary on the next start
        write_private_file(cache_file(paths), json.dumps(entries, indent=1, sort_keys=True) + "\n", durable=False)
    except OSError:
        pass
