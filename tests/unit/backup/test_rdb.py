"""The pure parts of backups: RDB headers and checker output (captured from the real servers), key counts."""

from __future__ import annotations

from pathlib import Path

import pytest

from cmem_ops.backup.keyspace import KeyCount, parse_keyspace, plan_key_check
from cmem_ops.backup.rdb import RdbHeader, max_rdb_version, parse_check_output, parse_rdb_header, plan_readable
from cmem_ops.store.flavour import Flavour

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "rdb"
VALKEY, REDIS = Flavour.VALKEY, Flavour.REDIS


def captured(name: str) -> tuple[str, int]:
    text = (FIXTURES / name).read_text()
    body, _, rc = text.rpartition("rc=")
    return body, int(rc)


@pytest.mark.parametrize(("writer", "header"), [("v9", RdbHeader("VALKEY", 80)), ("v8", RdbHeader("REDIS", 11)),
                                                ("r70", RdbHeader("REDIS", 10)), ("r62", RdbHeader("REDIS", 9)),
                                                ("r82", RdbHeader("REDIS", 12))])
def test_headers_written_by_each_server(writer, header):
    parsed = parse_rdb_header((FIXTURES / f"header-{writer}.bin").read_bytes())
    assert parsed == header
    assert parsed.text == (FIXTURES / f"header-{writer}.bin").read_text()


def test_not_an_rdb():
    assert parse_rdb_header(b"*2\r\n$3\r\nSET") is None
    assert parse_rdb_header(b"REDIS00") is None


def test_the_table_and_its_edges():
    assert max_rdb_version(REDIS, (7, 0, 15)) == 10
    assert max_rdb_version(VALKEY, (9, 1, 2)) == 80
    assert max_rdb_version(VALKEY, (10, 0)) == 80  # newer than the table: its family's newest
    assert max_rdb_version(REDIS, (5, 0)) is None
    assert max_rdb_version(None, None) is None


def test_plan_readable_refuses_downgrades():
    valkey9 = RdbHeader("VALKEY", 80)
    assert "cannot read a Valkey-format RDB (VALKEY080" in plan_readable(valkey9, REDIS, (7, 0, 15))
    assert "up to 9" in plan_readable(RdbHeader("REDIS", 11), REDIS, (6, 2, 5))
    assert plan_readable(RdbHeader("REDIS", 10), VALKEY, (9, 1, 2)) is None
    assert plan_readable(RdbHeader("REDIS", 11), VALKEY, (8, 1, 8)) is None


@pytest.mark.parametrize(("name", "ok", "keys"), [
    ("check-v9-reads-v9.txt", True, 1), ("check-v9-reads-v8.txt", True, 1), ("check-v8-reads-r70.txt", True, 1),
    ("check-r62-reads-v8.txt", False, 0), ("check-r70-reads-v9.txt", False, 0), ("check-v8-reads-v9.txt", False, 0),
    ("check-v9-reads-r82.txt", False, 1),
])
def test_checker_verdicts(name, ok, keys):
    check = parse_check_output(*captured(name))
    assert check.ok is ok and check.keys == keys and check.expires == 0


def test_checker_reasons_are_the_servers_words():
    assert parse_check_output(*captured("check-r62-reads-v8.txt")).summary == "Can't handle RDB format version 11"
    assert "Wrong signature" in parse_check_output(*captured("check-r70-reads-v9.txt")).summary
    relaxed = parse_check_output(*captured("check-v9-reads-r82.txt"))
    assert relaxed.needs_relaxed and "relaxed" in relaxed.summary
    assert parse_check_output("", 1).summary == "the check exited 1 without a verdict"


def test_keyspace_sums_every_db():
    info = {"db0": "keys=10,expires=2,avg_ttl=0", "db3": "keys=5,expires=0,avg_ttl=0", "dbx": "keys=9,expires=9"}
    assert parse_keyspace(info) == KeyCount(15, 2)
    assert parse_keyspace({}) == KeyCount(0, 0)


def test_key_check_lets_only_expiring_keys_go():
    assert plan_key_check(KeyCount(10, 3), KeyCount(8, 1)) is None
    assert "6 keys without a TTL, expected 7" in plan_key_check(KeyCount(10, 3), KeyCount(9, 3))
    assert "more than the 3 expected" in plan_key_check(KeyCount(10, 3), KeyCount(11, 4))
