from pathlib import Path

from cmem_ops.store.config import StoreConfig, render_config


def cfg(**kw):
    base = dict(port=24001, password="pw", data_dir=Path("/d/redis/data"),
                log_file=Path("/d/logs/redis-2026-11-23.log"), token="abc123")
    base.update(kw)
    return StoreConfig(**base)


def test_config_is_what_the_queue_store_plan_asks_for():
    lines = render_config(cfg()).splitlines()
    for expected in ["bind 127.0.0.1 ::1", "protected-mode yes", "port 24001", 'dir "/d/redis/data"', "daemonize no",
                     "appendonly yes", "appendfsync everysec", "save 60 1", "maxmemory-policy noeviction",
                     'requirepass "pw"']:
        assert expected in lines
    assert any("cmem-ops-store:abc123" in line for line in lines)


def test_ipv4_only_when_ipv6_is_absent():
    assert "bind 127.0.0.1" in render_config(cfg(ipv6=False)).splitlines()


def test_values_are_quoted_for_the_config_parser():
    text = render_config(cfg(data_dir=Path('/with space/"q"')))
    assert 'dir "/with space/\\"q\\""' in text
