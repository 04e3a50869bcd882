"""Operating the docker stack against a real engine: loopback publication, backup/restore, metrics,
the support bundle. One stack (1 worker, store and Postgres published) serves every test here.

Needs an engine with compose v2 (ci/docker-engine.sh start) and the images `cmem-ops images build`
makes; without them every test skips with the reason.
"""

from __future__ import annotations

import json
import secrets

import jsonschema
import pytest

from cmem_ops.lifecycle.docker_stack_config import parse_state
from cmem_ops.schemas import read_schema
from tests.integration.test_docker_stack import published_env, running_stack
from tests.support import run_cli

pytestmark = [pytest.mark.integration, pytest.mark.docker, pytest.mark.slow]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """A running docker stack in a private data dir, store and Postgres published on 127.0.0.1."""
    env = published_env(tmp_path_factory.mktemp("docker-ops"),
                        OPENROUTER_API_KEY="sk-or-v1-" + secrets.token_hex(24))  # into claude-mem.env only
    # Engineers on other branches share this engine's tags: make sure ours carries pg_dump/pg_restore.
    built = run_cli(env, "images", "build", "postgres", timeout=300)
    assert built.returncode == 0, built.stdout + built.stderr
    with running_stack(env):
        yield env


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


def store_conn(env):
    from cmem_ops.lifecycle.docker_stack_config import build_store_url
    from cmem_ops.redis_url import parse_redis_url
    from cmem_ops.store_client import open_store

    return open_store(parse_redis_url(build_store_url(state_of(env), secrets_of(env)["valkey-password"])), 5.0)


def pg_conn(env):
    import psycopg

    from cmem_ops.lifecycle.docker_stack_config import build_database_url

    return psycopg.connect(build_database_url(state_of(env), secrets_of(env)["postgres-password"]),
                           connect_timeout=5, autocommit=True)


def probe_counts(env) -> tuple[int, int]:
    with pg_conn(env) as pg:
        rows = pg.execute("SELECT count(*) FROM cmem_ops_probe").fetchone()[0]
    with store_conn(env) as conn:
        keys = len(conn.command("KEYS", "cmem-ops-probe:*"))
    return rows, keys


def in_container(env, service: str, *command: str) -> str:
    """`docker exec` in this stack's (first) container of `service`; its stdout."""
    import subprocess

    project = state_of(env).project
    ids = subprocess.run(["docker", "ps", "-q", "--filter", f"label=com.docker.compose.project={project}",
                          "--filter", f"label=com.docker.compose.service={service}"], capture_output=True, text=True,
                         timeout=30, check=True).stdout.split()
    return subprocess.run(["docker", "exec", ids[0], *command], capture_output=True, text=True, timeout=30,
                          check=True).stdout


def rewrite_manifest(archive, dest, change):
    """A copy of `archive` whose manifest.json went through `change` (the files are untouched)."""
    import io
    import tarfile

    with tarfile.open(archive, "r:gz") as src, tarfile.open(dest, "w:gz") as out:
        for member in src.getmembers():
            data = src.extractfile(member).read()
            if member.name == "manifest.json":
                manifest = json.loads(data)
                change(manifest)
                data = json.dumps(manifest).encode()
                member.size = len(data)
            out.addfile(member, io.BytesIO(data))


def test_backup_and_restore_of_the_docker_stack(stack, tmp_path):
    with pg_conn(stack) as pg:
        pg.execute("CREATE TABLE cmem_ops_probe (id int PRIMARY KEY)")
        pg.execute("INSERT INTO cmem_ops_probe SELECT generate_series(1, 250)")
    with store_conn(stack) as conn:
        for i in range(40):
            conn.command("SET", f"cmem-ops-probe:{i}", str(i))
    out = run_cli(stack, "backup", "--to", str(tmp_path), "--json", timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    data = json.loads(out.stdout)["data"]
    jsonschema.validate(data, json.loads(read_schema("backup")))
    manifest = data["manifest"]
    assert manifest["postgres"]["tables"]["public.cmem_ops_probe"] == 250
    assert manifest["postgres"]["mode"] == "docker" and manifest["postgres"]["pg_dump_version"].startswith("15")
    assert manifest["store"]["keys"] >= 40 and manifest["store"]["check"] == "RDB looks OK"
    archive = data["archive"]

    # Change both after the backup; the restore brings the backup's state back.
    with pg_conn(stack) as pg:
        pg.execute("DELETE FROM cmem_ops_probe WHERE id > 100")
    with store_conn(stack) as conn:
        conn.command("DEL", "cmem-ops-probe:0", "cmem-ops-probe:1")
        conn.command("SET", "cmem-ops-probe:extra", "x")
    assert probe_counts(stack) == (100, 39)

    # A manifest that no longer matches the dump: the restore fails after the swap and the old data is back.
    bad = tmp_path / "bad.tar.gz"
    rewrite_manifest(archive, bad, lambda m: m["postgres"]["tables"].update({"public.cmem_ops_probe": 251}))
    failed = run_cli(stack, "restore", str(bad), "--json", timeout=400)
    assert failed.returncode != 0, failed.stdout
    assert "differs from the manifest" in failed.stdout + failed.stderr
    assert probe_counts(stack) == (100, 39)
    assert ".cmem-ops-restore" not in in_container(stack, "valkey", "ls", "-a", "/data")  # no scratch left
    assert "6390" not in in_container(stack, "valkey", "ps")

    restored = run_cli(stack, "restore", archive, "--json", timeout=400)
    assert restored.returncode == 0, restored.stdout + restored.stderr
    result = json.loads(restored.stdout)["data"]
    jsonschema.validate(result, json.loads(read_schema("restore")))
    assert result["postgres_rows"]["public.cmem_ops_probe"] == 250
    assert probe_counts(stack) == (250, 40)
    status = json.loads(run_cli(stack, "stack", "status", "--docker", "--json").stdout)
    assert status["ok"] is True, status  # server and worker started again, healthy


def test_metrics_read_the_docker_stack_through_its_loopback_publication(stack):
    from prometheus_client.parser import text_string_to_metric_families

    out = run_cli(stack, "metrics", timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(out.stdout) for s in family.samples}
    prefix = state_of(stack).prefix
    with store_conn(stack) as conn:
        waiting = conn.command("LLEN", f"{prefix}:server_beta_generate_event:wait")
        completed = conn.command("ZCARD", f"{prefix}:server_beta_generate_event:completed")
    lane = (("queue", "server_beta_generate_event"),)
    assert samples[("bullmq_job_count", (*lane, ("state", "waiting")))] == waiting
    assert samples[("bullmq_job_count", (*lane, ("state", "completed")))] == completed
    one = {name: v for (name, labels), v in samples.items() if not labels}
    assert (one["cmem_ops_store_up"], one["cmem_ops_postgres_up"], one["cmem_ops_server_up"]) == (1.0, 1.0, 1.0)
    # An idle claude-mem worker holds no store connection (seen here: CLIENT LIST shows none), so 0 is right.
    assert ("cmem_ops_queue_workers", lane) in samples
    with pg_conn(stack) as pg:
        queued = pg.execute("SELECT count(*) FROM observation_generation_jobs WHERE status = 'queued'").fetchone()[0]
    assert samples[("cmem_ops_generation_jobs", (("status", "queued"),))] == queued

    # Not published (a stack started without CMEM_STACK_PUBLISH_STORES): store and Postgres are reported
    # down with the way to publish them, and /healthz is still read through the server's port.
    state_file = data_dir(stack) / "docker-stack" / "state.json"
    saved = state_file.read_text()
    data = json.loads(saved)
    state_file.write_text(json.dumps({**data, "store_port": 0, "postgres_port": 0}))
    try:
        snap = json.loads(run_cli(stack, "metrics", "--json").stdout)["data"]
    finally:
        state_file.write_text(saved)
    assert snap["store"]["up"] is False and "CMEM_STACK_PUBLISH_STORES=1" in snap["store"]["error"]
    assert snap["health"]["up"] is True


def test_support_bundle_holds_the_docker_stack_and_no_secret(stack, tmp_path):
    import tarfile

    from cmem_ops.lifecycle.support_bundle_docker import parse_env_values

    files = secrets_of(stack)
    known = {files["valkey-password"].strip(), files["postgres-password"].strip(),
             *parse_env_values(files["claude-mem.env"])}
    assert any(v.startswith("sk-or-v1-") for v in known)  # the provider key reached the secret file
    env = {k: v for k, v in stack.items() if k != "OPENROUTER_API_KEY"}  # known only from the secret files
    bundle = tmp_path / "bundle.tar.gz"
    out = run_cli(env, "support-bundle", "-o", str(bundle), "--lines", "50", "--json", timeout=180)
    assert out.returncode == 0, out.stdout + out.stderr
    with tarfile.open(bundle) as tar:
        blobs = {m.name.removeprefix("cmem-ops-support/"): tar.extractfile(m).read() for m in tar.getmembers()}
    for name in ("docker/compose-ps.json", "docker/state.json", "docker/stack.yml", "docker/stack.publish.yml",
                 "docker/logs/claude-mem-server.log", "docker/logs/postgres.log", "docker/logs/valkey.log"):
        assert name in blobs, sorted(blobs)
    services = {row["Service"] for line in blobs["docker/compose-ps.json"].decode().splitlines() if line.strip()
                for row in ([json.loads(line)] if line.startswith("{") else json.loads(line))}
    assert {"postgres", "valkey", "claude-mem-server", "claude-mem-worker"} <= services
    assert json.loads(blobs["docker/state.json"])["project"] == state_of(stack).project
    everything = b"".join(blobs.values())
    hits = {value[:6] + "...": everything.count(value.encode()) for value in known}
    assert all(count == 0 for count in hits.values()), hits


def test_store_backup_and_restore_of_the_docker_stack(stack, tmp_path):
    with store_conn(stack) as conn:
        conn.command("SET", "cmem-ops-store-only", "kept")
    out = run_cli(stack, "store", "backup", "--to", str(tmp_path), "--json", timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    data = json.loads(out.stdout)["data"]
    assert data["manifest"]["postgres"] is None and data["manifest"]["store"]["check"] == "RDB looks OK"
    with store_conn(stack) as conn:
        conn.command("DEL", "cmem-ops-store-only")
    restored = run_cli(stack, "store", "restore", data["archive"], "--json", timeout=300)
    assert restored.returncode == 0, restored.stdout + restored.stderr
    with store_conn(stack) as conn:
        assert conn.command("GET", "cmem-ops-store-only") in (b"kept", "kept")
