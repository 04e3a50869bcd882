"""The backup commands as a user runs them: the real CLI, JSON envelopes checked against the shipped schemas."""

from __future__ import annotations

import json
import tarfile

import jsonschema
import pytest

from cmem_ops.schemas import read_schema
from tests.support import real_binaries, run_cli, user_env

pytestmark = pytest.mark.integration

VALKEY9 = next(b for b in real_binaries() if b.label == "valkey-9.1")


def envelope(out, command):
    payload = json.loads(out.stdout)
    jsonschema.validate(payload, json.loads(read_schema("envelope")))
    assert payload["command"] == command
    if payload["ok"]:
        jsonschema.validate(payload["data"], json.loads(read_schema(command)))
    return payload


@pytest.fixture
def env(tmp_path):
    if VALKEY9.path is None:
        pytest.skip(VALKEY9.why_missing)
    env = user_env(tmp_path)
    assert run_cli(env, "store", "start", "--binary", str(VALKEY9.path)).returncode == 0
    yield env
    run_cli(env, "store", "stop")


def test_store_backup_restore_upgrade_and_bundle_through_the_cli(env, tmp_path):
    out = run_cli(env, "store", "backup", "--to", str(tmp_path / "b"), "--json")
    assert out.returncode == 0, out.stderr
    data = envelope(out, "store.backup")["data"]
    assert data["manifest"]["store"]["check"] == "RDB looks OK"
    assert "BGSAVE" in out.stderr  # progress goes to stderr, the envelope alone to stdout

    text = run_cli(env, "store", "restore", data["archive"])
    assert text.returncode == 0, text.stderr
    assert "Store: 0 keys, as the manifest says" in text.stdout and "data.before-restore-" in text.stdout
    out = run_cli(env, "store", "restore", data["archive"], "--json")
    assert out.returncode == 0 and envelope(out, "store.restore")["data"]["store_keys"]["keys"] == 0

    refused = run_cli(env, "store", "upgrade", "--binary", "/usr/bin/redis-server", "--json")
    if refused.returncode == 4:
        pytest.skip("no /usr/bin/redis-server here")
    payload = envelope(refused, "store.upgrade")
    assert refused.returncode == 3 and not payload["ok"] and "nothing was stopped" in payload["error"]["message"]

    bundle = tmp_path / "bundle.tar.gz"
    out = run_cli(env, "support-bundle", "-o", str(bundle), "--json", "--timeout", "10")
    assert out.returncode == 0, out.stderr
    names = {e["name"] for e in envelope(out, "support-bundle")["data"]["entries"]}
    with tarfile.open(bundle) as tar:
        assert {f"cmem-ops-support/{n}" for n in names} | {"cmem-ops-support/CONTENTS.tsv"} == set(tar.getnames())
    text = run_cli(env, "support-bundle", "-o", str(tmp_path / "b2.tar.gz"), "--timeout", "10")
    assert text.stdout.startswith(f"Support bundle: {tmp_path / 'b2.tar.gz'}") and "doctor.json" in text.stdout


def test_backup_without_a_database_says_how_to_get_one(env):
    out = run_cli(env, "backup")
    assert out.returncode == 7 and "hint: cmem-ops postgres start" in out.stderr


def test_restore_of_a_missing_file(env, tmp_path):
    out = run_cli(env, "restore", str(tmp_path / "nope.tar.gz"), "--json")
    assert out.returncode == 4 and json.loads(out.stdout)["error"]["type"] == "MissingError"
