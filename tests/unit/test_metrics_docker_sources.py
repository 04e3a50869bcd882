"""Where `metrics --docker` reads: the loopback publication in state.json, or why it cannot (no Docker needed)."""

from __future__ import annotations

from cmem_ops.context import build_context
from cmem_ops.lifecycle.docker_stack_config import StackState, format_state
from cmem_ops.metrics.snapshot import collect, docker_sources


def _ctx(tmp_path):
    return build_context({"HOME": str(tmp_path), "CLAUDE_MEM_DATA_DIR": str(tmp_path / "data")})


def _write(tmp_path, state, passwords=True):
    stack = tmp_path / "data" / "docker-stack"
    (stack / "secrets").mkdir(parents=True)
    (stack / "state.json").write_text(format_state(state))
    if passwords:
        (stack / "secrets" / "valkey-password").write_text("vpw\n")
        (stack / "secrets" / "postgres-password").write_text("ppw\n")


def test_no_stack_here(tmp_path):
    sources = docker_sources(_ctx(tmp_path))
    assert sources.target is None and sources.server_url is None
    assert "stack up --docker" in (sources.unreachable or "")


def test_unpublished_stack_reads_only_the_server(tmp_path):
    _write(tmp_path, StackState("cmem-1", 41000, "pfx"))
    sources = docker_sources(_ctx(tmp_path))
    assert (sources.server_url, sources.prefix) == ("http://127.0.0.1:41000", "pfx")
    assert "CMEM_STACK_PUBLISH_STORES=1" in (sources.unreachable or "")
    snap = collect(_ctx(tmp_path), timeout=0.2, docker=True)
    assert snap.store.up is False and snap.generation is not None and snap.generation.error == sources.unreachable


def test_published_stack_reads_its_loopback_ports_with_the_secret_files(tmp_path):
    _write(tmp_path, StackState("cmem-1", 41000, "pfx", store_port=41001, postgres_port=41002))
    sources = docker_sources(_ctx(tmp_path))
    assert sources.unreachable is None and sources.target is not None
    assert (sources.target.host, sources.target.port, sources.target.password) == ("127.0.0.1", 41001, "vpw")
    assert sources.database_url == "postgres://claude_mem:ppw@127.0.0.1:41002/claude_mem"
