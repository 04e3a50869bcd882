"""Operating the docker stack against a real engine: loopback publication, backup/restore, metrics,
the support bundle. One stack (1 worker, store and Postgres published) serves every test here.

Needs an engine with compose v2 (ci/docker-engine.sh start) and the images `cmem-ops images build`
makes; without them every test skips with the reason.
"""

from __future__ import annotations

import json

import pytest

from cmem_ops.lifecycle.docker_stack_config import parse_state
from tests.integration.test_docker_stack import DOCKER_CONFIG, engine_or_skip
from tests.support import run_cli, user_env

pytestmark = [pytest.mark.integration, pytest.mark.docker, pytest.mark.slow]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """A running docker stack in a private data dir, store and Postgres published on 127.0.0.1."""
    engine_or_skip().close()
    env = user_env(tmp_path_factory.mktemp("docker-ops"), DOCKER_CONFIG=DOCKER_CONFIG,
                   CMEM_STACK_PUBLISH_STORES="1", CLAUDE_MEM_STACK="docker")
    env = {k: v for k, v in env.items() if not k.startswith("CMEM_STACK_") or k == "CMEM_STACK_PUBLISH_STORES"}
    up = run_cli(env, "stack", "up", "--docker", "--workers", "1", "--json", timeout=300)
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        yield env
    finally:
        down = run_cli(env, "stack", "down", "--docker", "--purge-data", timeout=240)
        assert down.returncode == 0, down.stdout + down.stderr


def data_dir(env):
    from pathlib import Path

    return Path(env["CLAUDE_MEM_DATA_DIR"])


def secrets_of(env) -> dict[str, str]:
    directory = data_dir(env) / "docker-stack" / "secrets"
    return {p.name: p.read_text() for p in directory.iterdir()}


def state_of(env):
    state = parse_state((data_dir(env) / "docker-stack" / "state.json").read_text())
    assert state is not None
    return state


def test_store_and_postgres_are_published_on_loopback_with_their_passwords(stack):
    import psycopg

    from cmem_ops.lifecycle.docker_stack_config import build_database_url, build_store_url
    from cmem_ops.redis_url import parse_redis_url
    from cmem_ops.store_client import open_store

    state = state_of(stack)
    assert state.published and state.store_port != state.postgres_port
    secrets = secrets_of(stack)
    url = build_store_url(state, secrets["valkey-password"])
    with open_store(parse_redis_url(url), 5.0) as conn:
        assert conn.command("PING") in (b"PONG", "PONG")
    with psycopg.connect(build_database_url(state, secrets["postgres-password"]), connect_timeout=5) as pg:
        assert pg.execute("SELECT 1").fetchone() == (1,)
    ps = json.loads(run_cli(stack, "stack", "status", "--docker", "--json").stdout)
    assert ps["ok"] is True, ps
