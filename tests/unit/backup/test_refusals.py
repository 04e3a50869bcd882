"""What backups refuse before touching anything: stores that are not ours (no server needed)."""

from __future__ import annotations

import pytest

from cmem_ops.backup.create import backup_store
from cmem_ops.context import build_context
from cmem_ops.errors import ConfigError
from tests.support import user_env


def test_an_external_store_is_not_backed_up(tmp_path):
    ctx = build_context(user_env(tmp_path, CLAUDE_MEM_REDIS_URL="redis://:pw@127.0.0.1:1/0"))
    with pytest.raises(ConfigError) as err:
        backup_store(ctx, tmp_path / "out")
    assert "external" in err.value.message and "env CLAUDE_MEM_REDIS_URL" in err.value.message
    assert not (tmp_path / "out").exists()  # refused before anything was written


def test_a_docker_store_says_how_to_snapshot_it(tmp_path):
    ctx = build_context(user_env(tmp_path, CLAUDE_MEM_REDIS_MODE="docker"))
    with pytest.raises(ConfigError, match="runs in Docker") as err:
        backup_store(ctx, tmp_path / "out")
    assert "docker cp" in err.value.hint


def test_counting_keys_of_a_server_that_is_gone_is_an_ops_error():
    from cmem_ops.backup.keyspace import read_keyspace
    from cmem_ops.errors import ProcessError
    from cmem_ops.redis_url import RedisTarget
    from tests.support import free_port

    with pytest.raises(ProcessError, match=r"cannot count the keys of 127\.0\.0\.1:"):
        read_keyspace(RedisTarget("127.0.0.1", free_port()), timeout=1.0)
