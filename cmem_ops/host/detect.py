"""Detect the host: OS, architecture, distro (read from an injectable root), Docker, root/sudo, TTY.

Linux distros are read with python-distro from `<root>/etc/os-release` (or `usr/lib/os-release`)
without running `lsb_release` or `uname`, so tests point `root` at captured `/etc` trees. macOS is
read from `<root>/System/Library/CoreServices/SystemVersion.plist`. The OS name, machine, euid,
TTY and Docker engine state are injectable too; nothing here writes anything.
"""

from __future__ import annotations

import os
import platform
import plistlib
import shutil
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import distro

from ..containers.engine_status import cli_installed

Which = Callable[[str], str | None]
MACOS_PLIST = Path("System/Library/CoreServices/SystemVersion.plist")


class OSName(StrEnum):
    LINUX = "linux"
    MACOS = "macos"
    WINDOWS = "windows"
    OTHER = "other"


class Family(StrEnum):
    """Distro families that decide which package manager and package names apply."""

    DEBIAN = "debian"
    FEDORA = "fedora"
    RHEL = "rhel"
    ALPINE = "alpine"
    ARCH = "arch"
    MACOS = "macos"
    WINDOWS = "windows"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Host:
    """Everything the installers decide on; a snapshot, never re-read."""

    os: OSName
    arch: str
    distro_id: str
    distro_version: str
    distro_codename: str = ""
    distro_like: tuple[str, ...] = ()
    distro_name: str = ""
    libc: str = ""
    docker_installed: bool = False
    docker_running: bool = False
    is_root: bool = False
    has_sudo: bool = False
    stdin_tty: bool = False
    wsl: bool = False

    @property
    def family(self) -> Family:
        """The distro family from ID and ID_LIKE (pure)."""
        return family_of(self.os, self.distro_id, self.distro_like)

    @property
    def version_tuple(self) -> tuple[int, ...]:
        """The distro version as integers ('22.04' -> (22, 4)); () when not numeric."""
        return parse_version(self.distro_version)

    @property
    def glibc_version(self) -> tuple[int, ...]:
        """(2, 36) from libc 'glibc 2.36'; () when musl or unknown."""
        kind, _, version = self.libc.partition(" ")
        return parse_version(version) if kind == "glibc" else ()

    @property
    def label(self) -> str:
        """'Debian GNU/Linux 12 (bookworm) x86_64', 'macOS 14.4.1 arm64' (pure)."""
        name = self.distro_name or self.distro_id or self.os.value
        if self.os is OSName.MACOS and self.distro_version:
            name = f"{name} {self.distro_version}"
        return f"{name} {self.arch}".strip()


_FAMILY_BY_ID = {
    "debian": Family.DEBIAN, "ubuntu": Family.DEBIAN, "raspbian": Family.DEBIAN, "linuxmint": Family.DEBIAN,
    "pop": Family.DEBIAN,
    "fedora": Family.FEDORA,
    "rhel": Family.RHEL, "centos": Family.RHEL, "rocky": Family.RHEL, "almalinux": Family.RHEL, "ol": Family.RHEL,
    "alpine": Family.ALPINE,
    "arch": Family.ARCH, "archarm": Family.ARCH, "manjaro": Family.ARCH, "endeavouros": Family.ARCH,
}


def family_of(os_name: OSName, distro_id: str, like: tuple[str, ...]) -> Family:
    """Map an OS + distro ID + ID_LIKE to a family; ID wins over ID_LIKE (pure)."""
    if os_name is OSName.MACOS:
        return Family.MACOS
    if os_name is OSName.WINDOWS:
        return Family.WINDOWS
    if distro_id in _FAMILY_BY_ID:
        return _FAMILY_BY_ID[distro_id]
    # ID_LIKE lists the closest relative first ("rhel centos fedora"), so the first known one wins.
    for relative in like:
        if relative in _FAMILY_BY_ID:
            return _FAMILY_BY_ID[relative]
    return Family.UNKNOWN


def parse_version(text: str) -> tuple[int, ...]:
    """Leading numeric dotted parts of a version string: '9.3' -> (9, 3), 'rolling' -> () (pure)."""
    parts: list[int] = []
    for piece in text.split("."):
        digits = ""
        for ch in piece:
            if not ch.isdigit():
                break
            digits += ch
        if not digits:
            break
        parts.append(int(digits))
        if len(digits) != len(piece):
            break
    return tuple(parts)


def normalize_arch(machine: str) -> str:
    """'x86_64' / 'AMD64' -> x86_64, 'aarch64' / 'arm64' -> arm64, else the lowercased name (pure)."""
    lowered = machine.strip().lower()
    return {"amd64": "x86_64", "x64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}.get(lowered, lowered)


def normalize_os(system: str) -> OSName:
    """platform.system() -> OSName (pure)."""
    lowered = system.strip().lower()
    if lowered == "linux":
        return OSName.LINUX
    if lowered == "darwin":
        return OSName.MACOS
    if lowered.startswith(("windows", "cygwin", "msys")):
        return OSName.WINDOWS
    return OSName.OTHER


def read_macos_version(root: Path) -> tuple[str, str]:
    """(ProductName, ProductVersion) from SystemVersion.plist under `root`; ('macOS', '') when absent."""
    try:
        with open(root / MACOS_PLIST, "rb") as fh:
            data = plistlib.load(fh)
    except (OSError, plistlib.InvalidFileException, ValueError):
        return "macOS", ""
    return str(data.get("ProductName", "macOS")), str(data.get("ProductVersion", ""))


def read_linux_distro(root: Path) -> distro.LinuxDistribution:
    """python-distro over `root` only: no lsb_release, uname or oslevel subprocesses."""
    root_dir = None if root == Path("/") else str(root)
    return distro.LinuxDistribution(root_dir=root_dir, include_lsb=False, include_uname=False,
                                    include_oslevel=False)


def live_libc() -> str:
    """'glibc 2.36' on glibc systems, else 'musl' (Linux only; the C library this Python runs on)."""
    try:
        value = os.confstr("CS_GNU_LIBC_VERSION")
    except (ValueError, OSError, AttributeError):
        value = None
    return value if value and value.startswith("glibc") else "musl"


def detect_host(
    root: Path = Path("/"),
    which: Which = shutil.which,
    env: Mapping[str, str] | None = None,
    *,
    system: str | None = None,
    machine: str | None = None,
    euid: int | None = None,
    stdin_tty: bool | None = None,
    libc: str | None = None,
    docker_engine: Callable[[], bool] | None = None,
) -> Host:
    """Describe this machine (or the captured tree at `root`); every live fact can be injected.

    `docker_engine` answers "does an engine answer?" (containers.engine_status.engine_answers when live);
    without it the engine counts as not running, so detection alone never waits on Docker.
    """
    env = os.environ if env is None else env
    os_name = normalize_os(system if system is not None else platform.system())
    arch = normalize_arch(machine if machine is not None else platform.machine())
    distro_id = version = codename = name = ""
    like: tuple[str, ...] = ()
    if os_name is OSName.LINUX:
        info = read_linux_distro(root)
        distro_id = info.id()
        version = info.version()
        codename = info.codename()
        like = tuple(info.like().split())
        name = info.name(pretty=True)
        if libc is None:
            libc = ("musl" if distro_id == "alpine" else "glibc") if root != Path("/") else live_libc()
    elif os_name is OSName.MACOS:
        name, version = read_macos_version(root)
        distro_id = "macos"
    elif os_name is OSName.WINDOWS:
        distro_id, name = "windows", "Windows"
        version = platform.release() if system is None else ""
    if euid is None:
        euid = os.geteuid() if hasattr(os, "geteuid") else -1
    docker_installed = cli_installed(which)
    running = docker_installed and docker_engine is not None and docker_engine()
    if stdin_tty is None:
        stdin_tty = sys.stdin is not None and sys.stdin.isatty()
    return Host(
        os=os_name, arch=arch, distro_id=distro_id, distro_version=version, distro_codename=codename,
        distro_like=like, distro_name=name, libc=libc or "", docker_installed=docker_installed,
        docker_running=running, is_root=euid == 0, has_sudo=which("sudo") is not None, stdin_tty=stdin_tty,
        wsl=bool(env.get("WSL_DISTRO_NAME")),
    )
