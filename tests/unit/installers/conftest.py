from __future__ import annotations

from pathlib import Path

import pytest

from cmem_ops.host.detect import Host, detect_host
from cmem_ops.installers.base import InstallRequest
from cmem_ops.installers.manifest import load_manifest

DISTROS = Path(__file__).parents[2] / "fixtures" / "distros"
BIN_ROOT = Path("/home/u/.claude-mem/bin/valkey")


def which_of(*names: str):
    table = {name: f"/usr/bin/{name}" for name in names}
    return table.get


def captured(tree: str, *, system: str = "Linux", machine: str = "x86_64", root: bool = False,
             tools: tuple[str, ...] = (), docker: bool = False, libc: str | None = None) -> Host:
    return detect_host(DISTROS / tree, which=which_of(*tools), env={}, system=system, machine=machine,
                       euid=0 if root else 1000, stdin_tty=False, libc=libc, docker_engine=lambda: docker)


@pytest.fixture
def request_():
    return InstallRequest(manifest=load_manifest(), bin_root=BIN_ROOT, python="/venv/bin/python")
