"""apt (Debian, Ubuntu): `valkey-server` where the archive has it, else `redis-server` when it is >= 6.2.

Debian 12 (bookworm) main has no Valkey; its redis-server is Redis 7.0. Ubuntu 22.04's
redis-server is Redis 6.0, below BullMQ's 6.2 floor, so apt is not offered there.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..host.detect import Family, Host, parse_version
from .base import Availability, InstallPlan, InstallRequest, ProviderName, Step, Which, root_note, root_reason

MIN_REDIS = (6, 2)


@dataclass(frozen=True)
class AptRelease:
    """What one release's archive carries (major.minor upstream versions)."""

    label: str
    valkey: str | None
    redis: str | None


APT_RELEASES: dict[tuple[str, str], AptRelease] = {
    ("debian", "11"): AptRelease("Debian 11 (bullseye)", None, "6.0"),
    ("debian", "12"): AptRelease("Debian 12 (bookworm)", None, "7.0"),
    ("debian", "13"): AptRelease("Debian 13 (trixie)", "8.1", "8.0"),
    ("ubuntu", "22.04"): AptRelease("Ubuntu 22.04 (jammy)", None, "6.0"),
    ("ubuntu", "24.04"): AptRelease("Ubuntu 24.04 (noble)", "7.2", "7.0"),
}


def release_of(host: Host) -> AptRelease | None:
    """The known archive of `host`'s release; later releases than the table inherit Valkey (pure)."""
    version = host.distro_version
    key = (host.distro_id, version.split(".")[0] if host.distro_id == "debian" else version)
    if key in APT_RELEASES:
        return APT_RELEASES[key]
    numbers = parse_version(version)
    if host.distro_id == "debian" and numbers and numbers[0] > 13:
        return AptRelease(f"Debian {version}", "8.1+", None)
    if host.distro_id == "ubuntu" and numbers and numbers >= (24, 10):
        return AptRelease(f"Ubuntu {version}", "7.2+", None)
    return None


def choose_package(host: Host, redis_compat: bool) -> tuple[tuple[str, ...], str, str, str | None]:
    """(packages, flavour, binary, why-not) for `host` (pure)."""
    release = release_of(host)
    if release is None:
        return (), "", "", (f"{host.distro_name or host.distro_id} is not a release cmem-ops "
                            "knows the archive of (check: apt-cache policy valkey-server redis-server)")
    if release.valkey:
        packages = ("valkey-server", "valkey-redis-compat") if redis_compat else ("valkey-server",)
        return packages, "valkey", "/usr/bin/valkey-server", None
    if release.redis and parse_version(release.redis) >= MIN_REDIS:
        return ("redis-server",), "redis", "/usr/bin/redis-server", None
    return (), "", "", (f"{release.label} has no Valkey package and its redis-server is Redis {release.redis}, "
                        "older than 6.2 (BullMQ's floor)")


class AptProvider:
    """Debian/Ubuntu packages through apt-get."""

    name = ProviderName.APT

    def check(self, host: Host, which: Which, request: InstallRequest) -> Availability:
        if host.family is not Family.DEBIAN:
            return Availability(False, f"apt is for Debian and Ubuntu; this host is {host.family.value}")
        if which("apt-get") is None:
            return Availability(False, "apt-get is not on PATH")
        _, flavour, _, why_not = choose_package(host, request.redis_compat)
        if why_not:
            return Availability(False, why_not)
        root = root_reason(host)
        if root:
            return Availability(False, root)
        release = release_of(host)
        assert release is not None
        if flavour == "valkey":
            return Availability(True, f"{release.label} has valkey-server (Valkey {release.valkey})")
        return Availability(True, f"{release.label} main has no Valkey package; apt installs redis-server "
                                  f"(Redis {release.redis}, BullMQ-compatible)")

    def plan(self, host: Host, which: Which, request: InstallRequest) -> InstallPlan:
        packages, flavour, binary, _ = choose_package(host, request.redis_compat)
        release = release_of(host)
        label = release.label if release else host.label
        notes = [*root_note(host)]
        if flavour == "redis":
            notes.append(f"{label} main has no Valkey package: installing redis-server "
                         f"(Redis {release.redis if release else '?'}); for Valkey use --provider tarball")
            service = "redis-server"
        else:
            service = "valkey-server"
        notes.append(f"the package may start its own {service} service on port 6379; cmem-ops does not use it "
                     f"(it runs its own store on a private port): `systemctl disable --now {service}` stops it")
        steps = (
            Step(("apt-get", "update"), True, "refresh the package lists"),
            Step(("env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "--no-install-recommends",
                  *packages), True, f"install {' '.join(packages)}"),
        )
        version = (release.valkey if flavour == "valkey" else release.redis) if release else None
        product = f"{'Valkey' if flavour == 'valkey' else 'Redis'} {version} ({label} package {packages[0]})"
        return InstallPlan(ProviderName.APT, steps, tuple(notes), product=product, flavour=flavour,
                           version=version, binary=binary)
