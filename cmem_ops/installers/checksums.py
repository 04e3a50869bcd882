"""SHA256 of downloaded files, and the `<file>.sha256` sidecars release servers publish."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from ..errors import ProcessError

_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")


class IntegrityError(ProcessError):
    """A download does not match its expected digest (tampered, truncated or wrong file)."""


def is_sha256(text: str) -> bool:
    """True for a 64-character hex string (pure)."""
    return bool(_HEX64.match(text))


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """Lowercase hex SHA256 of the file at `path`."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def parse_sha256_file(text: str, filename: str | None = None) -> str | None:
    """The digest in a `.sha256` sidecar: 'HEX', 'HEX  name' or 'SHA256 (name) = HEX' lines (pure).

    With several lines, the one naming `filename` wins; None when no digest is found.
    """
    found: list[tuple[str, str]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("SHA256 (") and "=" in line:
            name = line[len("SHA256 ("):line.index(")")]
            hexpart = line.rsplit("=", 1)[1].strip()
        else:
            parts = line.split()
            hexpart = parts[0]
            name = parts[-1].lstrip("*") if len(parts) > 1 else ""
        if is_sha256(hexpart):
            found.append((hexpart.lower(), name))
    if not found:
        return None
    if filename:
        for digest, name in found:
            if Path(name).name == filename:
                return digest
    return found[0][0]


def verify_sha256(path: Path, expected: str, what: str) -> str:
    """Raise IntegrityError unless `path` hashes to `expected`; return the digest."""
    actual = sha256_file(path)
    if actual != expected.lower():
        size = path.stat().st_size
        raise IntegrityError(
            f"{what} failed its SHA256 check: expected {expected.lower()}, got {actual} ({size} bytes); "
            "the download is truncated, tampered with, or not the file the manifest pins. Nothing was unpacked.",
            hint="retry the install; if it fails again, check the mirror (--base-url) and the manifest (--manifest)",
        )
    return actual
