"""pacman (Arch and derivatives): `valkey` from the extra repository."""

from __future__ import annotations

from ..host.detect import Family, Host
from .base import Availability, InstallPlan, InstallRequest, ProviderName, Step, Which, root_note, root_reason


class PacmanProvider:
    """Arch packages through pacman (no -Sy: a partial upgrade is the user's call)."""

    name = ProviderName.PACMAN

    def check(self, host: Host, which: Which, request: InstallRequest) -> Availability:
        if host.family is not Family.ARCH:
            return Availability(False, f"pacman is for Arch; this host is {host.family.value}")
        if which("pacman") is None:
            return Availability(False, "pacman is not on PATH")
        root = root_reason(host)
        if root:
            return Availability(False, root)
        return Availability(True, "Arch's extra repository has valkey")

    def plan(self, host: Host, which: Which, request: InstallRequest) -> InstallPlan:
        steps = (Step(("pacman", "-S", "--noconfirm", "--needed", "valkey"), True, "install valkey"),)
        notes = (*root_note(host),
                 "if pacman cannot find valkey, the package database is stale: run `pacman -Syu` first")
        return InstallPlan(ProviderName.PACMAN, steps, notes, product="Valkey (Arch package valkey)",
                           flavour="valkey", binary="/usr/bin/valkey-server")
