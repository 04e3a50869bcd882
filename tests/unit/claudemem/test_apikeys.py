from pathlib import Path

import pytest

from cmem_ops.claudemem.apikeys import (
    build_create_args,
    normalize_scopes,
    parse_api_key,
    parse_json_output,
    parse_revoked,
    revoke_api_key,
)
from cmem_ops.errors import UsageError
from cmem_ops.runner import Completed

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "claude-mem"


def test_parse_the_real_create_and_revoke_outputs():
    key = parse_api_key((FIXTURES / "api-key-create.json").read_text())
    assert key.key.startswith("cmem_") and len(key.key) == 5 + 48
    assert key.scopes == ("memories:read", "memories:write") and key.name == "fixture"
    assert key.team_id and key.project_id and key.id
    assert parse_revoked((FIXTURES / "api-key-revoke.json").read_text()) == key.id


def test_json_is_found_after_noise_and_missing_fields_are_errors():
    assert parse_json_output('warning: x\n{"a": 1}\ntrailing') == {"a": 1}
    with pytest.raises(ValueError):
        parse_json_output("nothing here")
    with pytest.raises(ValueError):
        parse_api_key('{"id": "x"}')


def test_create_args():
    assert build_create_args(["memories:read, memories:write", "memories:read"]) == \
        ["server", "api-key", "create", "--scope", "memories:read,memories:write"]
    assert build_create_args([]) == ["server", "api-key", "create", "--scope", "memories:read"]
    assert build_create_args(["memories:read"], "T", "P", "n")[-6:] == ["--team", "T", "--project", "P", "--name", "n"]
    with pytest.raises(UsageError):
        build_create_args(["memories:read"], team="T")
    assert normalize_scopes([" a ,b", "", "a"]) == ("a", "b")


class Recorder:
    """Stands in for the bundle CLI only to check how its captured failure is reported."""

    def __init__(self, done):
        self.done = done
        self.calls = []

    def run(self, argv, *, timeout, env=None, cwd=None, input_text=None):
        self.calls.append((list(argv), dict(env or {})))
        return self.done


class FakeRuntime:
    def argv(self, *args):
        return ["bun", "--no-install", "server-service.cjs", *args]

    def env(self):
        return {"BUN_RUNTIME_TRANSPILER_CACHE_PATH": "/rt/.bun-cache"}


def test_revoking_twice_is_a_usage_error_naming_the_id():
    stderr = (FIXTURES / "api-key-revoke-again.stderr").read_text()
    key_id = stderr.rsplit(":", 1)[1].strip()
    runner = Recorder(Completed(("bun",), 1, "", stderr))
    with pytest.raises(UsageError, match=key_id):
        revoke_api_key(runner, FakeRuntime(), {"CLAUDE_MEM_POSTGRES_IDLE_TIMEOUT_MS": "300"}, key_id)
    argv, env = runner.calls[0]
    assert argv[-3:] == ["api-key", "revoke", key_id]
    assert env["BUN_RUNTIME_TRANSPILER_CACHE_PATH"] == "/rt/.bun-cache"
    assert env["CLAUDE_MEM_POSTGRES_IDLE_TIMEOUT_MS"] == "300"
