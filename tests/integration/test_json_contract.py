"""The JSON envelope contract: every reporting command's top-level keys and `data` keys, pinned.

Scripts parse these; a change here is a breaking change and needs a new SCHEMA (cmem_ops/result.py).
Every real output is also validated against the shipped JSON Schemas (tests/envelope.py). Runs
against an empty private HOME (and a managed store it starts); `jobs stuck|recover` and `server
api-key` against a running stack are in test_stack.py.
"""

from __future__ import annotations

import json

import pytest

from cmem_ops.cli.commands import COMMANDS
from cmem_ops.cli.parser import split_words
from cmem_ops.result import SCHEMA
from tests.envelope import check_envelope
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
                                               "messages", "kept_keys"]),
    ("matrix", "plan"): ("matrix.plan", ["target", "kind", "source", "location", "reason", "hint", "pull"]),
    ("status",): ("status", ["server", "workers", "queue_engine", "queue_prefix", "store", "problem", "lanes"]),
    ("metrics",): ("metrics", ["prefix", "store", "lanes", "generation", "health", "durations"]),
    ("doctor", "--only", "files"): ("doctor", ["results", "counts", "elapsed_ms", "timeout_s", "exit_code"]),
}


@pytest.mark.parametrize("argv", list(CONTRACT), ids=lambda a: " ".join(a))
def test_envelope_and_data_keys_are_pinned(tmp_path, argv):
    command, data_keys = CONTRACT[argv]
    out = run_cli(user_env(tmp_path), *argv, "--json", timeout=120)
    payload = check_envelope(out, command)
    assert list(payload) == ENVELOPE, out.stdout
    assert payload["schema"] == SCHEMA and payload["command"] == command
    data = payload["data"]
    if isinstance(data, list) and not data:
        pytest.skip(f"{' '.join(argv)} returned no items here to pin")
    keys = list(data[0]) if isinstance(data, list) else list(data)
    assert keys == data_keys


def test_errors_carry_the_same_envelope_plus_error(tmp_path):
    out = run_cli(user_env(tmp_path, CLAUDE_MEM_REDIS_MODE="bogus"), "store", "start", "--json")
    payload = check_envelope(out, "store.start")
    assert list(payload) == [*ENVELOPE, "error"]
    assert list(payload["error"]) == ["type", "message", "hint", "exit_code"]
    assert payload["error"]["exit_code"] == out.returncode == 3


JSON_COMMANDS = [c for c in COMMANDS if any(o.flags == ("--json",) for o in c.options)]


@pytest.mark.parametrize("command", JSON_COMMANDS, ids=lambda c: c.name)
def test_every_json_command_refuses_an_unknown_option_with_one_envelope(tmp_path, command):
    required = ["x" for o in command.options if not o.flags[0].startswith("-") and not o.optional_positional]
    out = run_cli(user_env(tmp_path), *command.words, *required, "--json", "--bogus")
    payload = check_envelope(out, command.name)
    assert out.returncode == 2 and payload["error"]["type"] == "UsageError"
    assert "--bogus" in payload["error"]["message"] and payload["error"]["hint"]
    assert out.stderr == ""


# bad values and bad command lines -> (envelope command, words in the message)
BAD = {
    ("status", "--json", "--timeout", "-1"): ("status", "--timeout -1 is below the minimum 0.1"),
    ("store", "status", "--json", "--timeout", "x"): ("store.status", "--timeout 'x' is not a number"),
    ("doctor", "--json", "--timeout", "0.1"): ("doctor", "below the minimum 0.5"),
    ("doctor", "--json", "--only", "redis"): ("doctor", "--only 'redis' is not one of"),
    ("doctor", "--json", "--client", "ruby"): ("doctor", "--client 'ruby' is not one of"),
    ("logs", "nginx", "--json"): ("logs", "choose one of"),
    ("logs", "--json", "--since", "yesterday"): ("logs", "is not a date"),
    ("logs", "--json", "--follow"): ("logs", "--follow never ends"),
    ("install", "--json", "--provider", "nope"): ("install", "--provider 'nope' is not one of"),
    ("worker", "status", "--json", "--count", "0"): ("worker.status", "--count 0 is below the minimum 1"),
    ("server", "api-key", "revoke", "--json"): ("server.api-key.revoke", "key_id"),
    ("matrix", "plan", "--json", "--native-only", "--docker-only"): ("matrix.plan", "exclude each other"),
    ("store", "--json"): ("store", "needs a command"),
    ("store", "bogus", "--json"): ("store", "no command 'store bogus'"),
    ("bogus", "--json"): ("cmem-ops", "no command 'bogus'"),
    ("schema", "nothing", "--json"): ("schema", "unrecognized arguments: --json"),
}


@pytest.mark.parametrize("argv", list(BAD), ids=lambda a: " ".join(a))
def test_bad_values_are_usage_errors_in_one_envelope(tmp_path, argv):
    command, words = BAD[argv]
    out = run_cli(user_env(tmp_path), *argv)
    payload = check_envelope(out, command)
    assert out.returncode == 2 and payload["error"]["type"] == "UsageError", out.stdout
    assert words in payload["error"]["message"]


def test_bad_values_without_json_are_one_message_and_a_hint_on_stderr(tmp_path):
    out = run_cli(user_env(tmp_path), "status", "--timeout", "-1")
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.splitlines() == ["error: --timeout -1 is below the minimum 0.1", "hint: cmem-ops status --help"]


# commands that need nothing running: their real output (often an error envelope) matches the schemas
NOTHING_RUNNING = [
    ("server", "stop"), ("server", "check"), ("server", "start"), ("server", "restart"), ("worker", "stop"),
    ("worker", "start"), ("postgres", "stop"), ("stack", "down"), ("stack", "up"), ("jobs", "stuck"),
    ("jobs", "recover", "--dry-run"), ("store", "stop"), ("store", "logs"), ("logs", "server"),
    ("server", "api-key", "create"), ("server", "api-key", "revoke", "k1"),
]


@pytest.mark.parametrize("argv", NOTHING_RUNNING, ids=lambda a: " ".join(a))
def test_commands_with_nothing_running_print_one_valid_envelope(tmp_path, argv):
    words, _ = split_words(argv)
    check_envelope(run_cli(user_env(tmp_path), *argv, "--json", timeout=120), ".".join(words))


def test_a_managed_store_through_every_store_command(tmp_path):
    env = user_env(tmp_path)
    try:
        started = check_envelope(run_cli(env, "store", "start", "--json"), "store.start")
        assert started["ok"] and started["data"]["outcome"] == "started"
        assert check_envelope(run_cli(env, "store", "start", "--json"), "store.start")["data"]["outcome"] == \
            "already-running"
        assert check_envelope(run_cli(env, "store", "status", "--json"), "store.status")["data"]["running"]
        check_envelope(run_cli(env, "store", "restart", "--json"), "store.restart")
        logs = check_envelope(run_cli(env, "store", "logs", "--json", "-n", "3"), "store.logs")["data"]
        assert logs["component"] == "store" and logs["source"] == "files" and 0 < len(logs["lines"]) <= 3
        assert check_envelope(run_cli(env, "logs", "--json"), "logs")["data"]["lines"]
        assert check_envelope(run_cli(env, "status", "--json"), "status")["ok"]
        up = check_envelope(run_cli(env, "up", "--json", "--no-smoke", "--only-store-is-up-here"), "up")
        assert up["error"]["type"] == "UsageError"
        check_envelope(run_cli(env, "up", "--json", "--no-smoke", "--timeout", "10", timeout=120), "up")
        assert check_envelope(run_cli(env, "store", "stop", "--json"), "store.stop")["ok"]
        down = check_envelope(run_cli(env, "status", "--json"), "status")
        assert not down["ok"] and down["data"]["store"]["problem"]
    finally:
        run_cli(env, "store", "stop")


def test_schema_prints_the_envelope_and_each_command_schema(tmp_path):
    env = user_env(tmp_path)
    envelope = json.loads(run_cli(env, "schema").stdout)
    assert envelope["$id"] == f"{SCHEMA}/envelope"
    for words in (("store", "status"), ("store.status",), ("server", "api-key", "create")):
        out = run_cli(env, "schema", *words)
        assert out.returncode == 0 and json.loads(out.stdout)["$id"].startswith(f"{SCHEMA}/"), out.stderr
    bad = run_cli(env, "schema", "nothing")
    assert bad.returncode == 2 and "cmem-ops schema store.status" in bad.stderr
