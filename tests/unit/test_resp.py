from pathlib import Path

import pytest

from cmem_ops.resp import encode_command, parse_config_pairs, parse_info
from cmem_ops.store.flavour import Flavour, detect_flavour

FIXTURES = Path(__file__).parents[1] / "fixtures" / "servers"


def test_encode_command():
    assert encode_command("SET", "k", 1) == b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\n1\r\n"


@pytest.mark.parametrize(("name", "flavour", "version"), [
    ("valkey-9.1.2", Flavour.VALKEY, "9.1.2"),   # reports redis_version:7.2.4
    ("valkey-8.1.8", Flavour.VALKEY, "8.1.8"),
    ("redis-8.2.3", Flavour.REDIS, "8.2.3"),
    ("redis-7.0.15", Flavour.REDIS, "7.0.15"),
    ("redis-6.2.5", Flavour.REDIS, "6.2.5"),
])
def test_flavour_from_captured_info(name, flavour, version):
    info = parse_info((FIXTURES / f"info-{name}.txt").read_text())
    assert detect_flavour(info) == (flavour, version)
    assert info["tcp_port"].isdigit()


def test_dragonfly_info():
    info = {"redis_version": "7.4.0", "dragonfly_version": "df-v1.21.2"}
    assert detect_flavour(info) == (Flavour.DRAGONFLY, "1.21.2")


def test_config_pairs():
    assert parse_config_pairs([b"appendonly", b"yes", b"maxmemory-policy", b"noeviction"]) == {
        "appendonly": "yes", "maxmemory-policy": "noeviction"}
    assert parse_config_pairs(None) == {}
