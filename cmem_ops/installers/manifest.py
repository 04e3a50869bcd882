"""The pinned release manifest of official Valkey Linux tarballs: versions, file names, digests.

It is data (manifest.json, shipped in the wheel), not code: an air-gapped install points
`--manifest` (or CMEM_OPS_VALKEY_MANIFEST) at its own copy, and `--base-url` at its mirror.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .checksums import is_sha256

_VERSION_RE = re.compile(r"^\d+\.\d+\.\d+$")


@dataclass(frozen=True)
class Variant:
    """A build flavour of the official tarballs (the Ubuntu release it was built on)."""

    name: str
    min_glibc: tuple[int, ...]


@dataclass(frozen=True)
class Artifact:
    """One downloadable tarball and its pinned digest (None: not pinned)."""

    version: str
    variant: str
    arch: str
    filename: str
    top_dir: str
    sha256: str | None


@dataclass(frozen=True)
class Manifest:
    """The parsed manifest; `source` says where it was read from."""

    default_version: str
    base_url: str
    filename: str
    top_dir: str
    server_path: str
    variants: tuple[Variant, ...]
    releases: tuple[tuple[str, tuple[tuple[str, str | None], ...]], ...]
    source: str = "package data"

    @property
    def versions(self) -> tuple[str, ...]:
        return tuple(version for version, _ in self.releases)

    def artifact(self, version: str, variant: str, arch: str) -> Artifact | None:
        """The artifact for (version, variant, arch), or None when the manifest does not list it (pure)."""
        for release, entries in self.releases:
            if release != version:
                continue
            for key, digest in entries:
                if key == f"{variant}-{arch}":
                    fields = {"version": version, "variant": variant, "arch": arch}
                    return Artifact(version, variant, arch, self.filename.format(**fields),
                                    self.top_dir.format(**fields), digest)
        return None

    def url(self, artifact: Artifact, base_url: str | None = None) -> str:
        """Download URL of `artifact` under `base_url` (default: the manifest's) (pure)."""
        return f"{(base_url or self.base_url).rstrip('/')}/{artifact.filename}"


def parse_manifest(data: Any, source: str) -> Manifest:
    """Validate and parse manifest JSON data; raise ConfigError naming `source` (pure)."""
    def bad(why: str) -> ConfigError:
        return ConfigError(f"release manifest {source} is invalid: {why}",
                           hint="restore it from the cmem-ops wheel, or fix the file named")

    if not isinstance(data, dict) or data.get("schema") != 1:
        raise bad("expected a JSON object with \"schema\": 1")
    try:
        variants = tuple(
            Variant(name, tuple(int(p) for p in str(spec["min_glibc"]).split(".")))
            for name, spec in data["variants"].items()
        )
        releases = []
        for version, entries in data["releases"].items():
            if not _VERSION_RE.match(version):
                raise bad(f"version {version!r} is not X.Y.Z")
            for key, digest in entries.items():
                if digest is not None and not is_sha256(digest):
                    raise bad(f"{version} {key}: {digest!r} is not a SHA256 hex digest")
            releases.append((version, tuple(sorted(entries.items()))))
        manifest = Manifest(
            default_version=str(data["default_version"]), base_url=str(data["base_url"]),
            filename=str(data["filename"]), top_dir=str(data["top_dir"]), server_path=str(data["server_path"]),
            variants=variants, releases=tuple(releases), source=source,
        )
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise bad(f"missing or malformed field ({exc})") from None
    if manifest.default_version not in manifest.versions:
        raise bad(f"default_version {manifest.default_version} is not among the releases")
    return manifest


def load_manifest(path: Path | None = None) -> Manifest:
    """Load `path`, or the manifest shipped with cmem-ops."""
    if path is None:
        text = resources.files("cmem_ops.installers").joinpath("manifest.json").read_text(encoding="utf-8")
        source = "package data cmem_ops/installers/manifest.json"
    else:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read release manifest {path}: {exc.strerror}",
                              hint=f"check the path given to --manifest ({path})") from exc
        source = str(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"release manifest {source} is not JSON: {exc.msg} at line {exc.lineno}",
                          hint=f"fix line {exc.lineno} of {source}") from None
    return parse_manifest(data, source)
