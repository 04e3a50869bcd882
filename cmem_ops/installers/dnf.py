"""dnf / yum (Fedora, RHEL and its rebuilds): `valkey` (+ `valkey-compat-redis` when asked).

Fedora 40+ and EL 10 carry valkey in their own repos; EL 9 rebuilds get it from EPEL
(`epel-release`); RHEL 9 without EPEL gets AppStream's redis (Redis 6.2, BullMQ's floor).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..host.detect import Family, Host
from .base import Availability, InstallPlan, InstallRequest, ProviderName, Step, Which, root_note, root_reason


@dataclass(frozen=True)
class RpmChoice:
    """Packages to install, steps to run before, and what they give."""

    pre: tuple[tuple[str, ...], ...]
    packages: tuple[str, ...]
    flavour: str
    label: str
    notes: tuple[str, ...] = ()


def choose_rpm(host: Host, redis_compat: bool) -> RpmChoice | str:
    """The packages for `host`, or why dnf is not offered (pure)."""
    major = host.version_tuple[0] if host.version_tuple else 0
    name = host.distro_name or f"{host.distro_id} {host.distro_version}".strip()
    valkey = ("valkey", "valkey-compat-redis") if redis_compat else ("valkey",)
    if host.family is Family.FEDORA:
        if major >= 40:
            return RpmChoice((), valkey, "valkey", f"Valkey ({name} package valkey)")
        return f"{name} predates Fedora's valkey package (Fedora 40); use --provider tarball"
    if host.family is Family.RHEL:
        if major >= 10:
            return RpmChoice((), valkey, "valkey", f"Valkey ({name} AppStream package valkey)")
        if major == 9 and host.distro_id == "rhel":
            return RpmChoice((), ("redis",), "redis", f"Redis 6.2 ({name} AppStream package redis)",
                             ("RHEL 9 has Valkey only in EPEL (not enabled here): installing AppStream's redis "
                              "(Redis 6.2); for Valkey enable EPEL or use --provider tarball",))
        if major == 9:
            return RpmChoice((("epel-release",),), valkey, "valkey", f"Valkey ({name} EPEL package valkey)",
                             ("valkey comes from EPEL: epel-release is installed first",))
        return f"{name} is older than EL 9; use --provider docker"
    return f"dnf/yum are for Fedora and RHEL-family hosts; this host is {host.family.value}"


class DnfProvider:
    """RPM packages through dnf (or yum on hosts that have only yum)."""

    def __init__(self, tool: str = "dnf") -> None:
        self.tool = tool
        self.name = ProviderName.DNF if tool == "dnf" else ProviderName.YUM

    def check(self, host: Host, which: Which, request: InstallRequest) -> Availability:
        choice = choose_rpm(host, request.redis_compat)
        if isinstance(choice, str):
            return Availability(False, choice)
        if which(self.tool) is None:
            return Availability(False, f"{self.tool} is not on PATH")
        if self.tool == "yum" and which("dnf") is not None:
            return Availability(False, "dnf is present (yum is its alias here): use --provider dnf")
        root = root_reason(host)
        if root:
            return Availability(False, root)
        return Availability(True, f"{self.tool} installs {choice.label}")

    def plan(self, host: Host, which: Which, request: InstallRequest) -> InstallPlan:
        choice = choose_rpm(host, request.redis_compat)
        assert not isinstance(choice, str), choice
        steps = tuple(Step((self.tool, "install", "-y", *pkgs), True, f"enable {' '.join(pkgs)}")
                      for pkgs in choice.pre)
        steps += (Step((self.tool, "install", "-y", *choice.packages), True,
                       f"install {' '.join(choice.packages)}"),)
        server = "valkey-server" if choice.flavour == "valkey" else "redis-server"
        notes = (*root_note(host), *choice.notes,
                 "cmem-ops runs its own server on a private port; the package's systemd unit stays disabled")
        return InstallPlan(self.name, steps, notes, product=choice.label, flavour=choice.flavour,
                           binary=f"/usr/bin/{server}")
