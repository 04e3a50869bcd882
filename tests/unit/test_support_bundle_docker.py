"""The docker stack's secret values as the support bundle learns them (pure parts)."""

from __future__ import annotations

from cmem_ops.lifecycle.docker_stack_config import StackSecrets, render_secret_files
from cmem_ops.lifecycle.support_bundle_docker import parse_env_values


def test_every_value_of_claude_mem_env_is_known_even_with_quotes():
    files = render_secret_files(StackSecrets("v'pw", "ppw"), {"OPENROUTER_API_KEY": "sk-or-1"})
    values = parse_env_values(files["claude-mem.env"])
    assert "sk-or-1" in values
    assert "redis://:v'pw@valkey:6379/0" in values
    assert "postgres://claude_mem:ppw@postgres:5432/claude_mem" in values
    assert parse_env_values("# comment\n=x\nBROKEN='unterminated\n") == set()
