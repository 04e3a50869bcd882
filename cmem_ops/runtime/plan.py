"""Decide a runtime install in pure code: the npm argv steps, the bun package, and what to tell the user."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..host.detect import Family
from .locate import BUNDLE_RELPATH
from .pins import BunPin, Pins

# --prefer-offline: every top-level version is exact, so cached metadata is as good as fresh (7 s instead of 13 s).
NPM_FLAGS = ("--no-audit", "--no-fund", "--save-exact", "--prefer-offline")


@dataclass(frozen=True)
class InstallStep:
    """One npm install: what it is for, and its argv."""

    label: str
    argv: tuple[str, ...]


@dataclass(frozen=True)
class InstallPlan:
    """Everything a runtime install will do, relative to its (temporary) root."""

    version: str
    steps: tuple[InstallStep, ...]
    bundle: Path  # relative to the root
    bun: Path | None  # relative to the root; None: run with node
    bun_pin: BunPin | None
    notes: tuple[str, ...]


def platform_key(system: str, arch: str, libc: str) -> str:
    """'linux-x86_64-glibc', 'darwin-arm64-' ... the key of pins.json's bun table (pure)."""
    return f"{system.lower()}-{arch}-{libc.split(' ')[0] if libc else ''}"


def plan_install(version: str, pins: Pins, npm: str, cache: Path, key: str) -> InstallPlan:
    """The npm steps that install claude-mem `version` (+ bun for `key`) into npm/ and bun/ under a root (pure)."""
    companions, verified = pins.companions_for(version)
    notes: list[str] = []
    if not verified:
        notes.append(f"the better-auth pins were verified with claude-mem {pins.default_companions}, "
                     f"not {version}; if npm stalls, install {pins.default_version}")
    cache_flag = ("--cache", str(cache))
    steps = [InstallStep(f"claude-mem {version} (npm, better-auth family pinned)",
                         (npm, "install", "--prefix", "npm", *NPM_FLAGS, *cache_flag, f"claude-mem@{version}",
                          *companions))]
    bun_pin = pins.bun_for(key)
    bun: Path | None = None
    if bun_pin is not None:
        steps.append(InstallStep(f"bun {bun_pin.version} ({bun_pin.package})",
                                 (npm, "install", "--prefix", "bun", *NPM_FLAGS, *cache_flag, bun_pin.spec)))
        bun = Path("bun/node_modules") / bun_pin.package / bun_pin.binary
    else:
        notes.append(f"bun is pinned only for linux x86_64 (glibc); on {key} the server runs with Node.js")
    return InstallPlan(version, tuple(steps), BUNDLE_RELPATH, bun, bun_pin, tuple(notes))


def parse_node_version(text: str) -> tuple[int, ...] | None:
    """'v20.20.2' -> (20, 20, 2) (pure)."""
    match = re.search(r"v?(\d+)\.(\d+)\.(\d+)", text)
    return tuple(int(g) for g in match.groups()) if match else None


def node_install_hint(family: Family, is_root: bool) -> str:
    """The command that installs Node.js and npm on this host (pure)."""
    sudo = "" if is_root else "sudo "
    return {
        Family.DEBIAN: f"{sudo}apt-get install -y nodejs npm",
        Family.FEDORA: f"{sudo}dnf install -y nodejs npm",
        Family.RHEL: f"{sudo}dnf install -y nodejs npm",
        Family.ALPINE: f"{sudo}apk add nodejs npm",
        Family.ARCH: f"{sudo}pacman -S --noconfirm nodejs npm",
        Family.MACOS: "brew install node",
    }.get(family, "install Node.js 20.12+ with npm from https://nodejs.org or your package manager")
