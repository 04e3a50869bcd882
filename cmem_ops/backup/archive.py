"""Write and read the backup archive: one tar.gz, manifest.json first, every file checked against it.

Writing goes to `<name>.partial` and is renamed into place once complete (mode 0600: the dump
holds API key hashes and user data). Reading extracts only the regular files the manifest names,
each streamed to a fixed path (no member path is trusted), and checks size and SHA-256.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import tarfile
from pathlib import Path

from ..errors import ConfigError, MissingError, OpsError
from ..paths import FILE_MODE, ensure_private_dir
from .manifest import MANIFEST_NAME, Manifest, format_manifest, parse_manifest


def default_archive_name(kind: str, now: dt.datetime | None = None) -> str:
    """cmem-ops-backup-20261201T194500Z.tar.gz / cmem-ops-store-...tar.gz (pure)."""
    stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%SZ")
    return f"cmem-ops-{'backup' if kind == 'stack' else 'store'}-{stamp}.tar.gz"


def write_archive(dest: Path, manifest: Manifest, files: dict[str, Path]) -> Path:
    """Write `manifest` and `files` (archive name -> path on disk) into the tar.gz `dest`; return dest."""
    ensure_private_dir(dest.parent)
    partial = dest.with_name(dest.name + ".partial")
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            blob = format_manifest(manifest).encode()
            member = tarfile.TarInfo(MANIFEST_NAME)
            member.size, member.mode, member.mtime = len(blob), FILE_MODE, int(dt.datetime.now(dt.UTC).timestamp())
            tar.addfile(member, io.BytesIO(blob))
            for name, path in files.items():
                tar.add(str(path), arcname=name, recursive=False)
            raw.flush()
        os.replace(partial, dest)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise OpsError(f"cannot write the archive {dest}: {exc.strerror or exc}",
                       hint=f"check free space and permissions of {dest.parent}, or pass --to DIR") from exc
    return dest


def read_manifest(archive: Path) -> Manifest:
    """The manifest of `archive`, without extracting anything else."""
    with _open(archive) as tar:
        return _manifest(tar, archive)


def extract_archive(archive: Path, workdir: Path) -> Manifest:
    """Extract the files the manifest names into `workdir` (same relative names) and verify their digests."""
    ensure_private_dir(workdir)
    with _open(archive) as tar:
        manifest = _manifest(tar, archive)
        for entry in manifest.files:
            try:
                member = tar.getmember(entry.name)
            except KeyError:
                raise ConfigError(f"{archive} lacks {entry.name}, which its manifest lists",
                                  hint="the archive is incomplete: use another backup") from None
            source = tar.extractfile(member) if member.isfile() else None
            if source is None:
                raise ConfigError(f"{entry.name} in {archive} is not a regular file", hint="use another backup")
            out = workdir / _safe_name(entry.name)
            ensure_private_dir(out.parent)
            digest = hashlib.sha256()
            size = 0
            with source, out.open("wb") as sink:
                while chunk := source.read(1 << 20):
                    digest.update(chunk)
                    size += len(chunk)
                    sink.write(chunk)
            os.chmod(out, FILE_MODE)
            if digest.hexdigest() != entry.sha256 or size != entry.size:
                raise ConfigError(f"{entry.name} in {archive} does not match its manifest "
                                  f"(sha256 {digest.hexdigest()[:12]}..., {size} bytes; expected "
                                  f"{entry.sha256[:12]}..., {entry.size} bytes)",
                                  hint="the archive is damaged: use another backup")
    return manifest


def _safe_name(name: str) -> Path:
    parts = Path(name).parts
    if not parts or Path(name).is_absolute() or ".." in parts:
        raise ConfigError(f"the manifest names an unsafe path {name!r}", hint="use an archive written by cmem-ops")
    return Path(*parts)


def _open(archive: Path) -> tarfile.TarFile:
    if not archive.is_file():
        raise MissingError(f"no backup archive at {archive}",
                           hint="cmem-ops backup writes them to <data dir>/backups (default ~/.claude-mem/backups)")
    try:
        return tarfile.open(archive, mode="r:gz")
    except (tarfile.TarError, OSError) as exc:
        raise ConfigError(f"{archive} is not a readable tar.gz: {exc}", hint="use another backup") from exc


def _manifest(tar: tarfile.TarFile, archive: Path) -> Manifest:
    try:
        member = tar.getmember(MANIFEST_NAME)
        source = tar.extractfile(member)
    except KeyError:
        source = None
    if source is None:
        raise ConfigError(f"{archive} has no {MANIFEST_NAME}: it is not a cmem-ops backup",
                          hint="pass an archive written by cmem-ops backup or cmem-ops store backup")
    with source:
        return parse_manifest(source.read().decode("utf-8", "replace"), str(archive))
