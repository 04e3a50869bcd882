"""apk (Alpine): `valkey` (+ `valkey-compat` when asked) from the community repository."""

from __future__ import annotations

from ..host.detect import Family, Host
from .base import Availability, InstallPlan, InstallRequest, ProviderName, Step, Which, root_note, root_reason

FIRST_VALKEY = (3, 20)


class ApkProvider:
    """Alpine packages through apk."""

    name = ProviderName.APK

    def check(self, host: Host, which: Which, request: InstallRequest) -> Availability:
        if host.family is not Family.ALPINE:
            return Availability(False, f"apk is for Alpine; this host is {host.family.value}")
        if which("apk") is None:
            return Availability(False, "apk is not on PATH")
        if host.version_tuple[:2] < FIRST_VALKEY:
            return Availability(False, f"Alpine {host.distro_version} predates its valkey package (3.20)")
        root = root_reason(host)
        if root:
            return Availability(False, root)
        return Availability(True, f"Alpine {host.distro_version} community has valkey")

    def plan(self, host: Host, which: Which, request: InstallRequest) -> InstallPlan:
        packages = ("valkey", "valkey-compat") if request.redis_compat else ("valkey",)
        steps = (Step(("apk", "add", "--no-cache", *packages), True, f"install {' '.join(packages)}"),)
        notes = (*root_note(host), "valkey is in the community repository (enabled on standard Alpine images)")
        return InstallPlan(ProviderName.APK, steps, notes, product=f"Valkey (Alpine {host.distro_version} package)",
                           flavour="valkey", binary="/usr/bin/valkey-server")
