"""Host detection against captured /etc trees of real distros (no mocks of the OS files)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cmem_ops.host.detect import Family, Host, OSName, detect_host, normalize_arch, parse_version

DISTROS = Path(__file__).parents[2] / "fixtures" / "distros"


def which_of(*names: str):
    table = {name: f"/usr/bin/{name}" for name in names}
    return table.get


def detect(tree: str, system: str = "Linux", machine: str = "x86_64", **kw) -> Host:
    defaults = dict(which=which_of(), env={}, euid=1000, stdin_tty=False, docker_engine=lambda: False)
    defaults.update(kw)
    return detect_host(DISTROS / tree, system=system, machine=machine, **defaults)


@pytest.mark.parametrize(("tree", "distro_id", "version", "codename", "family", "name"), [
    ("debian12", "debian", "12", "bookworm", Family.DEBIAN, "Debian GNU/Linux 12 (bookworm)"),
    ("debian13", "debian", "13", "trixie", Family.DEBIAN, "Debian GNU/Linux 13 (trixie)"),
    ("ubuntu2204", "ubuntu", "22.04", "jammy", Family.DEBIAN, "Ubuntu 22.04.4 LTS"),
    ("ubuntu2404", "ubuntu", "24.04", "noble", Family.DEBIAN, "Ubuntu 24.04.3 LTS"),
    ("fedora42", "fedora", "42", "", Family.FEDORA, "Fedora Linux 42 (Forty Two)"),
    ("rocky9", "rocky", "9.3", "Blue Onyx", Family.RHEL, "Rocky Linux 9.3 (Blue Onyx)"),
    ("rhel9", "rhel", "9.6", "Plow", Family.RHEL, "Red Hat Enterprise Linux 9.6 (Plow)"),
    ("alpine320", "alpine", "3.20.3", "", Family.ALPINE, "Alpine Linux v3.20"),
    ("arch", "arch", "", "", Family.ARCH, "Arch Linux"),
])
def test_linux_trees(tree, distro_id, version, codename, family, name):
    host = detect(tree)
    assert host.os is OSName.LINUX
    assert (host.distro_id, host.distro_version, host.distro_codename) == (distro_id, version, codename)
    assert host.family is family
    assert host.distro_name == name


def test_id_like_is_read_in_order():
    assert detect("rocky9").distro_like == ("rhel", "centos", "fedora")
    assert detect("ubuntu2404").distro_like == ("debian",)
    assert detect("debian12").distro_like == ()


def test_captured_trees_get_their_libc_from_the_distro():
    assert detect("alpine320").libc == "musl"
    assert detect("debian12").libc == "glibc"
    assert detect("debian12", libc="glibc 2.36").glibc_version == (2, 36)


def test_macos_reads_system_version_plist():
    host = detect("macos14", system="Darwin", machine="arm64")
    assert (host.os, host.family, host.distro_id, host.distro_version) == (OSName.MACOS, Family.MACOS, "macos",
                                                                           "14.4.1")
    assert host.label == "macOS 14.4.1 arm64"


def test_windows_from_injected_system_name(tmp_path):
    host = detect_host(tmp_path, which=which_of("docker"), env={}, system="Windows", machine="AMD64",
                       euid=-1, stdin_tty=True, docker_engine=lambda: True)
    assert (host.os, host.family, host.arch) == (OSName.WINDOWS, Family.WINDOWS, "x86_64")
    assert host.docker_installed and host.docker_running and host.stdin_tty and not host.is_root


def test_root_sudo_docker_and_wsl_facts():
    host = detect("ubuntu2404", which=which_of("sudo", "docker"), euid=0, docker_engine=lambda: False,
                  env={"WSL_DISTRO_NAME": "Ubuntu"})
    assert host.is_root and host.has_sudo and host.docker_installed and not host.docker_running and host.wsl
    # the engine is not asked when there is no docker CLI
    asked = []
    host = detect("ubuntu2404", docker_engine=lambda: asked.append(1) or True)
    assert not host.docker_running and not asked


def test_missing_tree_is_an_unknown_linux(tmp_path):
    host = detect_host(tmp_path, which=which_of(), env={}, system="Linux", machine="riscv64", euid=1000,
                       stdin_tty=False, docker_engine=lambda: False)
    assert host.family is Family.UNKNOWN and host.arch == "riscv64"


def test_live_host_detects_this_machine():
    host = detect_host(stdin_tty=False, docker_engine=lambda: False)
    assert host.os is OSName.LINUX and host.distro_id
    assert host.libc.startswith(("glibc", "musl"))


@pytest.mark.parametrize(("text", "expected"), [("22.04", (22, 4)), ("9.3", (9, 3)), ("3.20.3", (3, 20, 3)),
                                                ("rolling", ()), ("", ()), ("12", (12,)), ("14.4.1", (14, 4, 1))])
def test_parse_version(text, expected):
    assert parse_version(text) == expected


@pytest.mark.parametrize(("machine", "arch"), [("x86_64", "x86_64"), ("AMD64", "x86_64"), ("aarch64", "arm64"),
                                               ("arm64", "arm64"), ("riscv64", "riscv64")])
def test_normalize_arch(machine, arch):
    assert normalize_arch(machine) == arch
