"""The filesystem steps of backups, restores and upgrades, each failing as an OpsError naming both paths.

A full disk or a permission problem in the middle of a restore must say which copy or move failed
and what to check, never show a traceback.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from ..errors import OpsError


def _fail(action: str, src: Path | None, dst: Path, exc: OSError) -> OpsError:
    what = f"{action} {src} to {dst}" if src is not None else f"{action} {dst}"
    return OpsError(f"cannot {what}: {exc.strerror or exc}",
                    hint=f"check free space (df -h {dst.parent}) and permissions of {dst.parent}")


def copy_file(src: Path, dst: Path) -> None:
    """Copy one file's bytes."""
    try:
        shutil.copyfile(src, dst)
    except OSError as exc:
        raise _fail("copy", src, dst, exc) from exc


def copy_tree(src: Path, dst: Path) -> None:
    """Copy a directory tree (dst must not exist)."""
    try:
        shutil.copytree(src, dst)
    except OSError as exc:
        raise _fail("copy", src, dst, exc) from exc


def move(src: Path, dst: Path) -> None:
    """Rename within one filesystem (atomic)."""
    try:
        os.replace(src, dst)
    except OSError as exc:
        raise _fail("move", src, dst, exc) from exc


def private_temp_dir(parent: Path, prefix: str) -> Path:
    """A new 0700 directory under `parent` (same filesystem as what it stages)."""
    try:
        parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        return Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    except OSError as exc:
        raise _fail("create a directory in", None, parent / prefix, exc) from exc
