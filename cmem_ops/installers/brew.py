"""Homebrew (macOS, or Linux with brew on PATH): `brew install valkey`, never `brew services`."""

from __future__ import annotations

from ..host.detect import Host, OSName
from .base import Availability, InstallPlan, InstallRequest, ProviderName, Step, Which


def brew_prefix(host: Host) -> str:
    """Homebrew's default prefix for `host` (pure)."""
    if host.os is OSName.MACOS:
        return "/opt/homebrew" if host.arch == "arm64" else "/usr/local"
    return "/home/linuxbrew/.linuxbrew"


class BrewProvider:
    """Homebrew's valkey formula; runs as the user (Homebrew refuses root)."""

    name = ProviderName.BREW

    def check(self, host: Host, which: Which, request: InstallRequest) -> Availability:
        if host.os not in (OSName.MACOS, OSName.LINUX):
            return Availability(False, "Homebrew runs on macOS and Linux only")
        if which("brew") is None:
            hint = " (install it from https://brew.sh, then rerun)" if host.os is OSName.MACOS else ""
            return Availability(False, f"brew is not on PATH{hint}")
        if host.is_root:
            return Availability(False, "Homebrew refuses to run as root; rerun as your user")
        return Availability(True, "Homebrew has the valkey formula; no root needed")

    def plan(self, host: Host, which: Which, request: InstallRequest) -> InstallPlan:
        steps = (Step(("brew", "install", "valkey"), False, "install the valkey formula"),)
        notes = ("cmem-ops runs the server itself on a private port: do not enable `brew services start valkey`",)
        return InstallPlan(ProviderName.BREW, steps, notes, product="Valkey (Homebrew formula valkey)",
                           flavour="valkey", version=None, binary=f"{brew_prefix(host)}/bin/valkey-server")
