"""The support bundle holds what support needs and no secret: grepped for every secret the test knows."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import tarfile

import pytest

from cmem_ops.context import build_context
from cmem_ops.lifecycle import store as store_service
from cmem_ops.lifecycle.support_bundle import build_bundle
from cmem_ops.pgcluster import cluster
from cmem_ops.settings import write_settings_keys
from tests.pg_support import managed_postgres
from tests.support import real_binaries, user_env

pytestmark = [pytest.mark.integration, pytest.mark.slow]

VALKEY = next(b for b in real_binaries() if b.path is not None)


def test_the_bundle_has_every_part_and_no_secret(tmp_path):
    env = user_env(tmp_path)
    with managed_postgres(env):
        ctx = build_context(env)
        store_service.start(ctx, binary=str(VALKEY.path))
        try:
            ctx = ctx.reload()
            api_key = "cmem_" + secrets.token_hex(24)
            provider_key = "sk-or-v1-" + secrets.token_hex(16)
            write_settings_keys(ctx.paths, {"CLAUDE_MEM_SERVER_API_KEY": api_key, "OPENROUTER_API_KEY": provider_key,
                                            "CLAUDE_MEM_SERVER_PROVIDER": "openrouter"})
            ctx = ctx.reload()
            store_password = ctx.settings.redis_target().password
            db_password = cluster.load_state(ctx.paths).password
            known = {"store password": store_password, "db password": db_password, "api key": api_key,
                     "provider key": provider_key}
            # a log that leaks everything, as a careless component might
            log = ctx.paths.log_file("claude-mem")
            log.write_text(f"{dt.datetime.now()} connecting to {ctx.settings.redis_url} and "
                           f"{ctx.settings.get('CLAUDE_MEM_SERVER_DATABASE_URL')}\n"
                           f"auth header Authorization: Bearer {api_key}; provider key {provider_key}\n"
                           f"password={db_password} requirepass {store_password}\n")
            said = []
            bundle = build_bundle(build_context(env), tmp_path / "out" / "bundle.tar.gz", timeout=20,
                                  say=said.append)
        finally:
            store_service.stop(build_context(env))
    names = {e.name for e in bundle.entries}
    assert {"doctor.json", "status.json", "stack.json", "versions.json", "host.json", "settings.json",
            "config/redis.conf", "config/postgres-cluster.json", "logs/claude-mem.log", "logs/redis.log",
            "logs/postgres.log"} <= names
    out = tmp_path / "extracted"
    with tarfile.open(bundle.path) as tar:
        tar.extractall(out, filter="data")
    files = [p for p in out.rglob("*") if p.is_file()]
    assert len(files) == len(bundle.entries) + 1  # + CONTENTS.tsv
    for path in files:
        text = path.read_text()
        for what, value in known.items():
            assert value not in text, f"{what} found in {path.relative_to(out)}"
    root = out / "cmem-ops-support"
    doctor = json.loads((root / "doctor.json").read_text())
    assert doctor["schema"] == "cmem-ops/v1" and doctor["command"] == "doctor" and doctor["data"]["results"]
    assert json.loads((root / "status.json").read_text())["data"]["store"]["running"] is True
    assert "requirepass ***" in (root / "config/redis.conf").read_text()
    settings = json.loads((root / "settings.json").read_text())["settings.json"]
    assert settings["OPENROUTER_API_KEY"] == "***" and settings["CLAUDE_MEM_SERVER_PROVIDER"] == "openrouter"
    assert "connecting to redis://default:***@" in (root / "logs/claude-mem.log").read_text()
    assert bundle.secrets_scrubbed >= 4 and said
