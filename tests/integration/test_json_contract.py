"""The JSON envelope contract: every reporting command's top-level keys and `data` keys, pinned.

Scripts parse these; a change here is a breaking change and needs a new SCHEMA (cmem_ops/result.py).
Run against an empty private HOME, so nothing has to be running.
"""

from __future__ import annotations

import json

import pytest

from cmem_ops.result import SCHEMA
from tests.support import run_cli, user_env

pytestmark = pytest.mark.integration

ENVELOPE = ["schema", "command", "ok", "data"]

# command line -> (envelope "command", keys of data, or of data's first item when data is a list)
CONTRACT = {
    ("store", "status"): ("store.status", ["mode", "running", "url", "host", "port", "flavour", "version", "pid",
                                           "uptime_s", "appendonly", "appendfsync", "maxmemory_policy", "data_dir",
                                           "binary", "problem", "hint"]),
    ("store", "binaries"): ("store.binaries", ["path", "source", "flavour", "version", "supported", "reason"]),
    ("store", "acl"): ("store.acl", ["user", "prefix", "key_patterns", "commands", "setuser", "url"]),
    ("postgres", "status"): ("postgres.status", ["mode", "running", "url", "port", "pid", "version", "data_dir",
                                                 "problem", "hint"]),
    ("server", "status"): ("server.status", ["running", "pid", "url", "healthy", "ready", "info", "prefix", "version",
                                             "uptime_s", "claude_mem_pidfile", "problem", "hint"]),
    ("worker", "status"): ("worker.status", ["workers", "elapsed_ms", "checks"]),
    ("stack", "status"): ("stack.status", ["store", "postgres", "server", "workers", "runtime", "problems"]),
    ("install", "--dry-run", "--non-interactive"): ("install", [
        "action", "dry_run", "interactive", "queue_engine", "mode", "url", "binary", "provider", "plan",
        "would_install", "choices", "settings", "host", "started", "pid", "port", "messages"]),
    ("uninstall", "--dry-run"): ("uninstall", ["dry_run", "mode", "stopped", "removed", "kept", "cleared_keys",
                                               "messages"]),
    ("matrix", "plan"): ("matrix.plan", ["target", "kind", "source", "location", "reason", "hint", "pull"]),
    ("status",): ("status", ["server", "workers", "queue_engine", "queue_prefix", "store", "problem"]),
    ("doctor", "--only", "files"): ("doctor", ["results", "counts", "elapsed_ms", "timeout_s", "exit_code"]),
}


@pytest.mark.parametrize("argv", list(CONTRACT), ids=lambda a: " ".join(a))
def test_envelope_and_data_keys_are_pinned(tmp_path, argv):
    command, data_keys = CONTRACT[argv]
    out = run_cli(user_env(tmp_path), *argv, "--json", timeout=120)
    payload = json.loads(out.stdout)
    assert list(payload) == ENVELOPE, out.stdout
    assert payload["schema"] == SCHEMA and payload["command"] == command
    data = payload["data"]
    if isinstance(data, list) and not data:
        pytest.skip(f"{' '.join(argv)} returned no items here to pin")
    keys = list(data[0]) if isinstance(data, list) else list(data)
    assert keys == data_keys


def test_errors_carry_the_same_envelope_plus_error(tmp_path):
    out = run_cli(user_env(tmp_path, CLAUDE_MEM_REDIS_MODE="bogus"), "store", "start", "--json")
    payload = json.loads(out.stdout)
    assert list(payload) == [*ENVELOPE, "error"]
    assert list(payload["error"]) == ["type", "message", "hint", "exit_code"]
    assert payload["error"]["exit_code"] == out.returncode == 3
