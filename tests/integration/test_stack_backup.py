"""`backup` / `restore` of the whole stack: a real managed Postgres cluster and a real managed Valkey."""

from __future__ import annotations

import psycopg
import pytest
import redis

from cmem_ops.backup.create import backup_stack
from cmem_ops.backup.restore import restore_stack_archive
from cmem_ops.context import build_context
from cmem_ops.errors import ConfigError
from cmem_ops.lifecycle import store as store_service
from tests.pg_support import managed_postgres
from tests.support import real_binaries, user_env

pytestmark = [pytest.mark.integration, pytest.mark.slow]

VALKEY = next(b for b in real_binaries() if b.label == "valkey-9.1")


def seed(url, projects, events):
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS projects (id serial PRIMARY KEY, name text NOT NULL)")
        conn.execute("CREATE TABLE IF NOT EXISTS agent_events (id bigserial PRIMARY KEY, "
                     "project_id int REFERENCES projects(id), payload jsonb)")
        for i in range(projects):
            pid = conn.execute("INSERT INTO projects (name) VALUES (%s) RETURNING id", (f"p{i}",)).fetchone()[0]
            for j in range(events):
                conn.execute("INSERT INTO agent_events (project_id, payload) VALUES (%s, %s)",
                             (pid, psycopg.types.json.Jsonb({"n": j})))


def rows(url):
    with psycopg.connect(url) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("projects", "agent_events")}


@pytest.fixture
def stack(tmp_path):
    if VALKEY.path is None:
        pytest.skip(VALKEY.why_missing)
    env = user_env(tmp_path)
    with managed_postgres(env) as url:
        ctx = build_context(env)
        store_service.start(ctx, binary=str(VALKEY.path))
        try:
            yield env, url
        finally:
            store_service.stop(build_context(env))


def test_backup_restores_every_row_and_key(stack, tmp_path):
    env, url = stack
    ctx = build_context(env)
    seed(url, 3, 20)
    r = redis.Redis.from_url(ctx.settings.redis_url)
    for i in range(40):
        r.lpush("bull:q:wait", i)
        r.set(f"job{i}", "x")
    said = []
    result = backup_stack(ctx, tmp_path / "out", say=said.append)
    pg = result.manifest.postgres
    assert pg.tables == {"public.projects": 3, "public.agent_events": 60} and pg.mode == "managed"
    assert pg.server_version.split(".")[0] == pg.pg_dump_version.split(".")[0]
    assert result.manifest.store.keys == 41
    assert said[0].startswith("postgres: pg_dump") and any(s.startswith("queue store") for s in said)

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DELETE FROM agent_events WHERE id % 2 = 0")
        conn.execute("INSERT INTO projects (name) VALUES ('late')")
    r.flushall()
    restored = restore_stack_archive(ctx, result.archive, say=said.append)
    assert rows(url) == {"projects": 3, "agent_events": 60}
    assert restored.postgres_rows == pg.tables and restored.store_keys.keys == 41
    assert redis.Redis.from_url(ctx.reload().settings.redis_url).llen("bull:q:wait") == 40
    aside = restored.postgres_aside
    assert aside.startswith("claude_mem_before_restore_")
    with psycopg.connect(url.rsplit("/", 1)[0] + "/" + aside) as conn:  # the old database is kept, as it was
        assert conn.execute("SELECT count(*) FROM projects").fetchone()[0] == 4


def test_an_external_database_is_not_overwritten_unless_forced(stack, tmp_path):
    env, url = stack
    seed(url, 2, 5)
    archive = backup_stack(build_context(env), tmp_path / "out").archive
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO projects (name) VALUES ('late')")
    store_url = build_context(env).settings.redis_url
    redis.Redis.from_url(store_url).set("written-after-the-backup", 1)
    # the same servers, configured as someone else's: an external database and an external store
    external = dict(env, CMEM_OPS_POSTGRES_MODE="external", CLAUDE_MEM_SERVER_DATABASE_URL=url,
                    CLAUDE_MEM_REDIS_URL=store_url)
    ctx = build_context(external)
    with pytest.raises(ConfigError, match="external") as err:
        restore_stack_archive(ctx, archive)
    assert "--force-external" in err.value.hint
    assert rows(url)["projects"] == 3  # untouched
    restored = restore_stack_archive(ctx, archive, force_external=True)
    assert rows(url) == {"projects": 2, "agent_events": 10}
    assert restored.postgres_aside.endswith(".dump")  # its contents were saved before the overwrite
    assert restored.store_keys is None and any("queue store was left as it is" in n for n in restored.notes)
    assert redis.Redis.from_url(store_url).get("written-after-the-backup") == b"1"  # never touched


def test_a_fresh_data_dir_gets_every_row_and_key_back(stack, tmp_path):
    import os
    import shutil

    from cmem_ops.lifecycle import postgres as pg
    from tests.pg_support import reachable_pg_root

    env, url = stack
    seed(url, 2, 7)
    r = redis.Redis.from_url(build_context(env).settings.redis_url)
    r.set("kept", "yes")
    archive = backup_stack(build_context(env), tmp_path / "out").archive
    fresh = user_env(tmp_path / "fresh")
    root = reachable_pg_root() if os.geteuid() == 0 else None
    if root:
        fresh["CMEM_OPS_POSTGRES_ROOT"] = str(root)
    try:
        restored = restore_stack_archive(build_context(fresh), archive)
        new_url = pg.database_url(build_context(fresh))
        assert new_url != url and rows(new_url) == {"projects": 2, "agent_events": 14}
        assert redis.Redis.from_url(build_context(fresh).settings.redis_url).get("kept") == b"yes"
        assert restored.store_aside is None  # nothing was there to keep
    finally:
        store_service.stop(build_context(fresh))
        pg.stop(build_context(fresh))
        if root:
            shutil.rmtree(root, ignore_errors=True)
