"""Official Valkey Linux binaries: download to a temp dir, verify SHA256, unpack, swap into place.

Layout: <data dir>/bin/valkey/<version>/bin/valkey-server (store/binaries.py finds it there).
The digest is the manifest's pin, cross-checked with the mirror's `<url>.sha256` when it has one;
with no pin the sidecar is used and the plan says so. A wrong digest, a truncated download or an
unsafe archive is refused before anything is unpacked or moved, and leaves no files behind; a
failed swap restores the previous install.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from ..errors import ProcessError
from ..host.detect import Host, OSName
from ..runner import Runner
from ..store.binaries import parse_server_version
from ..store.flavour import Flavour
from .archive import extract_release
from .base import Availability, InstallPlan, InstallRequest, ProviderName, Step, StepKind, Which
from .checksums import IntegrityError, parse_sha256_file, verify_sha256
from .download import DownloadError, Progress, download, fetch_text
from .manifest import Artifact, Manifest

ARCHES = ("x86_64", "arm64")
# glibc of each release, for captured hosts whose C library we cannot ask (live hosts report their own).
KNOWN_GLIBC: dict[tuple[str, str], tuple[int, ...]] = {
    ("debian", "11"): (2, 31), ("debian", "12"): (2, 36), ("debian", "13"): (2, 41),
    ("ubuntu", "20.04"): (2, 31), ("ubuntu", "22.04"): (2, 35), ("ubuntu", "24.04"): (2, 39),
    ("fedora", "40"): (2, 39), ("fedora", "41"): (2, 40), ("fedora", "42"): (2, 41),
    ("rhel", "9"): (2, 34), ("rocky", "9"): (2, 34), ("almalinux", "9"): (2, 34), ("centos", "9"): (2, 34),
    ("arch", ""): (2, 40),
}


class TarballOutcome(StrEnum):
    INSTALLED = "installed"
    ALREADY_PRESENT = "already-present"


@dataclass(frozen=True)
class TarballTarget:
    """The artifact chosen for this host, where it comes from and where it goes."""

    artifact: Artifact
    url: str
    target_dir: Path
    server_path: str

    @property
    def server(self) -> Path:
        return self.target_dir / self.server_path


@dataclass(frozen=True)
class TarballResult:
    outcome: TarballOutcome
    version: str
    path: str
    sha256: str
    digest_source: str
    size: int


def host_glibc(host: Host) -> tuple[int, ...]:
    """The host's glibc version: reported live, else known for its release, else () (pure)."""
    if host.glibc_version:
        return host.glibc_version
    major = host.distro_version.split(".")[0] if host.distro_id in ("rhel", "rocky", "almalinux", "centos") else \
        host.distro_version
    return KNOWN_GLIBC.get((host.distro_id, major), ())


def resolve(host: Host, request: InstallRequest) -> tuple[TarballTarget | None, str]:
    """Pick the artifact for `host`: newest compatible build, a pinned one first; else (None, why) (pure)."""
    manifest: Manifest = request.manifest
    version = request.version or manifest.default_version
    if version not in manifest.versions:
        return None, f"Valkey {version} is not in the release manifest ({', '.join(manifest.versions)})"
    glibc = host_glibc(host)
    compatible = [v for v in sorted(manifest.variants, key=lambda v: v.min_glibc, reverse=True)
                  if glibc and glibc >= v.min_glibc]
    if not compatible:
        have = ".".join(map(str, glibc)) if glibc else "unknown"
        need = min(".".join(map(str, v.min_glibc)) for v in manifest.variants)
        return None, f"the official builds need glibc >= {need}; this host has {have}"
    found = [a for v in compatible if (a := manifest.artifact(version, v.name, host.arch)) is not None]
    if not found:
        return None, f"the manifest lists no Valkey {version} build for {host.arch}"
    artifact = next((a for a in found if a.sha256), found[0])
    target = TarballTarget(artifact, manifest.url(artifact, request.base_url),
                           request.bin_root / artifact.version, manifest.server_path)
    return target, ""


class TarballProvider:
    """Valkey's official Linux tarballs (glibc, x86_64/arm64), no root needed."""

    name = ProviderName.TARBALL

    def check(self, host: Host, which: Which, request: InstallRequest) -> Availability:
        if host.os is not OSName.LINUX:
            return Availability(False, "official Valkey binaries are published for Linux only")
        if host.arch not in ARCHES:
            return Availability(False, f"official Valkey binaries are x86_64/arm64; this host is {host.arch}")
        if host.libc.startswith("musl"):
            return Availability(False, "official Valkey binaries are built for glibc; this host uses musl")
        target, why = resolve(host, request)
        if target is None:
            return Availability(False, why)
        pinned = "SHA256 pinned" if target.artifact.sha256 else "digest from the mirror's .sha256 (not pinned)"
        return Availability(True, f"Valkey {target.artifact.version} official build "
                                  f"({target.artifact.variant}, {host.arch}), {pinned}; no root needed")

    def plan(self, host: Host, which: Which, request: InstallRequest) -> InstallPlan:
        target, why = resolve(host, request)
        if target is None:
            raise ProcessError(f"no tarball for this host: {why}", hint="cmem-ops install --dry-run --explain")
        art = target.artifact
        staging = f"{request.bin_root}/.staging-{art.version}-*"
        digest = art.sha256 or f"<from {target.url}.sha256>"
        notes = [f"installs into {target.target_dir} (no root); the previous install there is restored on failure"]
        if not art.sha256:
            notes.append(f"the manifest pins no digest for {art.filename}: the mirror's {target.url}.sha256 is "
                         "trusted instead (pin one with --manifest for air-gapped installs)")
        steps = (
            Step(("download", target.url, f"{staging}/{art.filename}"), False,
                 "download the release (progress shown)", StepKind.DOWNLOAD),
            Step(("sha256", digest, art.filename), False,
                 "verify SHA256 before unpacking (also against the mirror's .sha256 when present)", StepKind.VERIFY),
            Step(("unpack", art.filename, f"{staging}/tree"), False,
                 f"unpack {art.top_dir}/, refusing paths that escape it", StepKind.UNPACK),
            Step(("swap", f"{staging}/tree", str(target.target_dir)), False,
                 "move into place atomically, keeping the previous version until the new one runs", StepKind.SWAP),
        )
        return InstallPlan(ProviderName.TARBALL, steps, tuple(notes),
                           product=f"Valkey {art.version} (official tarball)", flavour="valkey",
                           version=art.version, binary=str(target.server))


def check_server(path: Path, version: str, runner: Runner) -> None:
    """Raise unless `path --version` says Valkey `version`."""
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise IntegrityError(f"the release has no executable {path.name} at {path}",
                             hint="the archive is not the expected release; check --version and the mirror")
    out = runner.run([str(path), "--version"], timeout=10)
    parsed = parse_server_version(out.stdout or out.stderr)
    if parsed is None or parsed[0] is not Flavour.VALKEY or ".".join(map(str, parsed[1])) != version:
        said = (out.stdout or out.stderr).strip().splitlines()[:1]
        raise IntegrityError(f"{path} does not report Valkey {version} (it says {said[0] if said else 'nothing'!r})",
                             hint="the archive is not the expected release; check --version and the mirror")


def expected_digest(target: TarballTarget) -> tuple[str, str]:
    """The digest to check and its source: the pin (cross-checked with the sidecar), else the sidecar."""
    pinned = target.artifact.sha256
    try:
        sidecar = parse_sha256_file(fetch_text(target.url + ".sha256"), target.artifact.filename)
    except DownloadError:
        sidecar = None
    if pinned:
        if sidecar and sidecar != pinned:
            raise IntegrityError(
                f"the mirror's {target.url}.sha256 says {sidecar}, but the manifest pins {pinned}; nothing was "
                "downloaded", hint="use the official mirror, or a manifest that matches yours: --manifest FILE")
        return pinned, "pinned in the manifest" + (" (mirror's .sha256 agrees)" if sidecar else "")
    if not sidecar:
        raise IntegrityError(f"no digest for {target.artifact.filename}: the manifest pins none and "
                             f"{target.url}.sha256 is unavailable", hint="pin one: cmem-ops install --manifest FILE")
    return sidecar, f"{target.url}.sha256 (not pinned)"


def swap_into_place(new: Path, target: Path, verify: Callable[[Path], None]) -> None:
    """Rename `new` to `target`, keeping the old one aside; restore it if the rename or `verify` fails."""
    backup = None
    if target.exists():
        backup = target.with_name(f".{target.name}.previous-{os.getpid()}")
        os.rename(target, backup)
    try:
        os.rename(new, target)
        verify(target)
    except BaseException:
        if backup is not None:
            if target.exists():
                shutil.rmtree(target, ignore_errors=True)
            os.rename(backup, target)
        raise
    if backup is not None:
        shutil.rmtree(backup, ignore_errors=True)


def install_tarball(target: TarballTarget, runner: Runner, *, on_progress: Progress | None = None,
                    timeout: float = 120.0) -> TarballResult:
    """Install `target` (idempotent: a working install of that version is left alone)."""
    art = target.artifact
    if target.server.is_file():
        try:
            check_server(target.server, art.version, runner)
            return TarballResult(TarballOutcome.ALREADY_PRESENT, art.version, str(target.server), "", "", 0)
        except IntegrityError:
            pass  # broken or different: replace it below
    created = [d for d in (target.target_dir.parent.parent, target.target_dir.parent) if not d.exists()]
    target.target_dir.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    staging = Path(tempfile.mkdtemp(prefix=f".staging-{art.version}-", dir=target.target_dir.parent))
    ok = False
    try:
        digest, source = expected_digest(target)
        archive = staging / art.filename
        size = download(target.url, archive, timeout=timeout, on_progress=on_progress)
        verify_sha256(archive, digest, art.filename)
        tree = staging / "tree"
        extract_release(archive, tree, art.top_dir)
        check_server(tree / target.server_path, art.version, runner)
        swap_into_place(tree, target.target_dir, lambda d: check_server(d / target.server_path, art.version, runner))
        ok = True
        return TarballResult(TarballOutcome.INSTALLED, art.version, str(target.server), digest, source, size)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if not ok:
            for directory in reversed(created):
                with contextlib.suppress(OSError):  # rmdir only removes empty dirs: never others' files
                    directory.rmdir()
