"""Shared types of the installers: a provider says whether it can run here and plans argv steps.

A plan is data (compared by equality in tests, printed by `--dry-run`); acting on it happens in
apply.py (command steps through the Runner), tarball.py (download/verify/unpack/swap) and
container.py (the Docker engine, through containers/engine.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from ..host.detect import Host
from .manifest import Manifest

Which = Callable[[str], str | None]


class ProviderName(StrEnum):
    BREW = "brew"
    APT = "apt"
    DNF = "dnf"
    YUM = "yum"
    APK = "apk"
    PACMAN = "pacman"
    TARBALL = "tarball"
    DOCKER = "docker"
    WHEEL = "wheel"


class StepKind(StrEnum):
    """How a step is carried out: COMMAND steps run through the Runner; the others run in-process."""

    COMMAND = "command"
    DOWNLOAD = "download"
    VERIFY = "verify"
    UNPACK = "unpack"
    SWAP = "swap"
    CONTAINER = "container"  # a Docker SDK call; argv shows the equivalent docker CLI


@dataclass(frozen=True)
class Step:
    """One action of a plan; `needs_root` steps get `sudo` when we are not root."""

    argv: tuple[str, ...]
    needs_root: bool
    description: str
    kind: StepKind = StepKind.COMMAND


@dataclass(frozen=True)
class InstallPlan:
    """What a provider would do here, in order, and what it leaves behind."""

    provider: ProviderName
    steps: tuple[Step, ...]
    notes: tuple[str, ...] = ()
    product: str = ""
    flavour: str = "valkey"
    version: str | None = None
    binary: str | None = None
    mode: str = "managed"

    @property
    def needs_root(self) -> bool:
        return any(step.needs_root for step in self.steps)


@dataclass(frozen=True)
class Availability:
    """Whether a provider can run on this host, and why (not)."""

    available: bool
    reason: str


@dataclass(frozen=True)
class InstallRequest:
    """What the user asked for, resolved at the edge so that planning stays pure."""

    manifest: Manifest
    bin_root: Path
    version: str | None = None
    redis_compat: bool = False
    base_url: str | None = None
    image: str | None = None
    port: int | None = None
    python: str = "python3"
    store_config_dir: Path | None = None  # where the docker-mode store's config file goes


class Provider(Protocol):
    """One way of getting a server binary (or container) onto the host."""

    name: ProviderName

    def check(self, host: Host, which: Which, request: InstallRequest) -> Availability:
        """Whether this provider can install here, with the reason (pure)."""
        ...

    def plan(self, host: Host, which: Which, request: InstallRequest) -> InstallPlan:
        """The steps it would run on `host` (pure; call only when check() is available)."""
        ...


def root_reason(host: Host) -> str | None:
    """Why a root-needing step cannot run here, or None (pure)."""
    if host.is_root or host.has_sudo:
        return None
    return "needs root: not running as root and `sudo` is not installed"


def root_note(host: Host) -> tuple[str, ...]:
    """The plan note saying how root steps run (pure)."""
    if host.is_root:
        return ()
    return ("steps marked [root] run through sudo (never with a password prompt when non-interactive)",)
