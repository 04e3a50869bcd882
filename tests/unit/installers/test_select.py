"""Provider choice per captured host: a table plus rules, pure."""

from __future__ import annotations

import pytest

from cmem_ops.installers.base import ProviderName
from cmem_ops.installers.select import select_provider

from .conftest import captured, which_of


@pytest.mark.parametrize(("tree", "kw", "tools", "chosen"), [
    # Debian 12: no Valkey in main, so the pinned official tarball beats apt's Redis 7.0
    ("debian12", {"root": True}, ("apt-get",), ProviderName.TARBALL),
    ("debian13", {"root": True}, ("apt-get",), ProviderName.APT),
    ("ubuntu2404", {}, ("apt-get", "sudo"), ProviderName.APT),
    ("ubuntu2204", {"root": True}, ("apt-get",), ProviderName.TARBALL),
    ("fedora42", {}, ("dnf", "sudo"), ProviderName.DNF),
    ("rocky9", {"root": True}, ("dnf", "yum"), ProviderName.DNF),
    # RHEL 9 without EPEL: dnf only has Redis 6.2 and the tarball needs glibc 2.35, so the Valkey wheel wins
    ("rhel9", {"root": True}, ("dnf",), ProviderName.WHEEL),
    ("alpine320", {"root": True}, ("apk",), ProviderName.APK),
    ("arch", {}, ("pacman", "sudo"), ProviderName.PACMAN),
    ("macos14", {"system": "Darwin", "machine": "arm64"}, ("brew",), ProviderName.BREW),
    ("macos14", {"system": "Darwin", "machine": "arm64"}, (), ProviderName.WHEEL),
    # not root and no sudo: package managers are out, the no-root tarball remains
    ("ubuntu2404", {}, ("apt-get",), ProviderName.TARBALL),
])
def test_chosen_provider(request_, tree, kw, tools, chosen):
    selection = select_provider(captured(tree, tools=tools, **kw), which_of(*tools), request_)
    assert selection.chosen is chosen
    assert selection.plan is not None and selection.plan.provider is chosen
    assert [c.provider for c in selection.choices if c.chosen] == [chosen]


def test_debian12_explains_every_provider(request_):
    tools = ("apt-get", "docker")
    selection = select_provider(captured("debian12", root=True, tools=tools, docker=True), which_of(*tools), request_)
    reasons = {c.provider: (c.available, c.reason) for c in selection.choices}
    assert list(reasons) == [ProviderName.APT, ProviderName.DNF, ProviderName.YUM, ProviderName.APK,
                             ProviderName.PACMAN, ProviderName.TARBALL, ProviderName.WHEEL, ProviderName.DOCKER]
    assert reasons[ProviderName.APT] == (True, "Debian 12 (bookworm) main has no Valkey package; apt installs "
                                               "redis-server (Redis 7.0, BullMQ-compatible) (not chosen: Valkey "
                                               "(tarball) is preferred to Redis)")
    assert reasons[ProviderName.TARBALL] == (True, "Valkey 9.1.2 official build (jammy, x86_64), SHA256 pinned; "
                                                   "no root needed")
    assert reasons[ProviderName.DOCKER][1].endswith("(not chosen: a local binary (tarball) is preferred to a "
                                                    "container)")
    assert reasons[ProviderName.DNF] == (False, "dnf/yum are for Fedora and RHEL-family hosts; this host is debian")


def test_windows_uses_docker_only_when_the_engine_runs(request_):
    running = captured("macos14", system="Windows", tools=("docker",), docker=True)
    assert select_provider(running, which_of("docker"), request_).chosen is ProviderName.DOCKER
    stopped = captured("macos14", system="Windows", tools=("docker",), docker=False)
    selection = select_provider(stopped, which_of("docker"), request_)
    assert selection.chosen is None and selection.plan is None
    assert "docker: the Docker engine is not running" in selection.why_none


def test_explicit_provider_wins_or_fails_with_its_reason(request_):
    tools = ("apt-get", "docker")
    host = captured("debian12", root=True, tools=tools, docker=True)
    selection = select_provider(host, which_of(*tools), request_, ProviderName.APT)
    assert selection.chosen is ProviderName.APT and selection.plan.flavour == "redis"
    tarball = next(c for c in selection.choices if c.provider is ProviderName.TARBALL)
    assert tarball.reason.endswith("(not chosen: --provider apt)")
    selection = select_provider(host, which_of(*tools), request_, ProviderName.BREW)
    assert selection.chosen is None and "brew: brew is not on PATH" in selection.why_none


def test_an_explicit_provider_refused_names_only_its_own_reason(request_):
    host = captured("debian12", tools=(), docker=False)
    selection = select_provider(host, which_of(), request_, ProviderName.DOCKER)
    assert selection.chosen is None
    assert selection.why_none == "docker: Docker is not installed (cmem-ops never installs Docker)"
    for other in ("dnf", "apk", "pacman", "apt"):
        assert other not in selection.why_none
    unasked = select_provider(host, which_of(), request_)
    assert "dnf:" in unasked.why_none and "pacman:" in unasked.why_none  # nothing asked: every reason


def test_docker_needs_no_extra_install_when_the_engine_answers(request_):
    host = captured("macos14", system="Windows", tools=("docker",), docker=True)
    selection = select_provider(host, which_of("docker"), request_, ProviderName.DOCKER)
    assert selection.chosen is ProviderName.DOCKER and selection.plan is not None
