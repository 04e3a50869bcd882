"""Unpack a release tarball safely: every member is checked before anything is written.

Refused (the whole archive, nothing extracted): absolute paths, `..` components, members outside
the expected top directory, links pointing outside the target, device files and FIFOs.
"""

from __future__ import annotations

import posixpath
import tarfile
from pathlib import Path

from ..errors import ProcessError


class UnsafeArchiveError(ProcessError):
    """An archive holds a member that would land outside its target (or is not a plain file/dir/link)."""


def _refuse(archive: Path, member: str, why: str) -> UnsafeArchiveError:
    return UnsafeArchiveError(
        f"refusing to unpack {archive.name}: member {member!r} {why}; nothing was extracted",
        hint="the archive is not an official release tarball: check the mirror (--base-url) and retry",
    )


def strip_top(name: str, top_dir: str) -> str | None:
    """The member path below `top_dir/`, '' for top_dir itself, None when it is elsewhere (pure)."""
    clean = name[2:] if name.startswith("./") else name
    clean = clean.rstrip("/")
    if clean == top_dir:
        return ""
    prefix = top_dir + "/"
    return clean[len(prefix):] if clean.startswith(prefix) else None


def check_member(member: tarfile.TarInfo, top_dir: str, archive: Path) -> str:
    """Validate one member and return its path relative to the target; raise UnsafeArchiveError."""
    name = member.name
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise _refuse(archive, name, "is an absolute path")
    if ".." in name.replace("\\", "/").split("/"):
        raise _refuse(archive, name, "contains '..'")
    rel = strip_top(name, top_dir)
    if rel is None:
        raise _refuse(archive, name, f"is outside the release directory {top_dir}/")
    if not (member.isfile() or member.isdir() or member.issym() or member.islnk()):
        raise _refuse(archive, name, "is a device, FIFO or other special file")
    if member.issym() or member.islnk():
        target = member.linkname
        if target.startswith("/"):
            raise _refuse(archive, name, f"links to the absolute path {target!r}")
        base = posixpath.dirname(rel) if member.issym() else ""
        resolved = posixpath.normpath(posixpath.join(base, target if member.issym() else
                                                     (strip_top(target, top_dir) or "")))
        if resolved == ".." or resolved.startswith("../"):
            raise _refuse(archive, name, f"links outside the release directory ({target!r})")
    return rel


def extract_release(archive: Path, dest: Path, top_dir: str) -> list[str]:
    """Extract `archive`'s `top_dir/` into `dest` (which must not exist); return the relative paths.

    Every member is validated first, so a bad archive leaves `dest` absent.
    """
    try:
        tar = tarfile.open(archive, "r:*")  # noqa: SIM115 (closed by the `with` below)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise UnsafeArchiveError(f"{archive.name} is not a readable tar archive: {exc}",
                                 hint="retry the download; check the mirror (--base-url)") from exc
    with tar:
        try:
            members = tar.getmembers()
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise UnsafeArchiveError(f"{archive.name} is damaged: {exc}",
                                     hint="retry the download; check the mirror (--base-url)") from exc
        planned = [(member, check_member(member, top_dir, archive)) for member in members]
        if not any(rel for _, rel in planned):
            raise UnsafeArchiveError(f"{archive.name} has nothing under {top_dir}/",
                                     hint="the archive is not the expected release; check --version and the mirror")
        dest.mkdir(mode=0o755)
        written = []
        try:
            for member, rel in planned:
                if not rel:
                    continue
                member.name = rel
                if member.islnk():
                    member.linkname = strip_top(member.linkname, top_dir) or ""
                # The 'data' filter re-checks paths and drops setuid bits and ownership.
                tar.extract(member, dest, filter="data")
                written.append(rel)
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise UnsafeArchiveError(f"unpacking {archive.name} failed at {written[-1] if written else 'start'}: "
                                     f"{exc}", hint="retry the download; check the mirror (--base-url)") from exc
    return written
