"""The manifest's JSON round trip and the archive's names (pure)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from cmem_ops.backup.archive import default_archive_name
from cmem_ops.backup.manifest import (
    FORMAT,
    FileEntry,
    Manifest,
    PostgresPart,
    StorePart,
    format_manifest,
    parse_manifest,
)
from cmem_ops.errors import ConfigError

STORE = StorePart(FileEntry("store/dump.rdb", "ab" * 32, 123), "valkey", "9.1.2", "/x/valkey-server", "VALKEY080",
                  80, 306, 5, "RDB looks OK", "bgsave")
PG = PostgresPart(FileEntry("postgres/claude_mem.dump", "cd" * 32, 456), "15.18", "15.18", "claude_mem", "managed",
                  {"public.projects": 2, "public.agent_events": 40})


def test_round_trip():
    manifest = Manifest("stack", "2026-12-01T19:45:00Z", "0.1.0", PG, STORE)
    text = format_manifest(manifest)
    assert json.loads(text)["format"] == FORMAT
    assert parse_manifest(text, "x") == manifest
    assert manifest.files == [PG.file, STORE.file] and PG.rows == 42


def test_store_only():
    manifest = Manifest("store", "2026-12-01T19:45:00Z", "0.1.0", None, STORE)
    assert parse_manifest(format_manifest(manifest), "x").postgres is None


@pytest.mark.parametrize("text", ['{"format": "other/1"}', "[]", "{", '{"format": "cmem-ops-backup/1"}'])
def test_foreign_or_broken_manifests_are_refused(text):
    with pytest.raises(ConfigError, match="x"):
        parse_manifest(text, "x")


def test_archive_names():
    now = dt.datetime(2026, 12, 1, 19, 45, 0, tzinfo=dt.UTC)
    assert default_archive_name("stack", now) == "cmem-ops-backup-20261201T194500Z.tar.gz"
    assert default_archive_name("store", now) == "cmem-ops-store-20261201T194500Z.tar.gz"


def test_queue_prefix_plan():
    from cmem_ops.backup.restore import plan_queue_prefix

    assert plan_queue_prefix("claude_mem_37700", None)[0] == "claude_mem_37700"
    assert plan_queue_prefix("claude_mem_37700", "claude_mem_37700") == (None, None)
    pin, note = plan_queue_prefix("claude_mem_1", "claude_mem_2")
    assert pin is None and "stay under the old prefix" in note
    assert plan_queue_prefix(None, "x") == (None, None)


def test_old_manifests_without_a_prefix_still_parse():
    data = json.loads(format_manifest(Manifest("store", "t", "0.1.0", None, STORE)))
    del data["store"]["queue_prefix"]
    assert parse_manifest(json.dumps(data), "x").store.queue_prefix is None
