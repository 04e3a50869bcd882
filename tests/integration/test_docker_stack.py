"""The docker stack against a real engine: compose/stack.yml itself (through pytest-docker), the CLI, the e2e.

Needs an engine with compose v2 (ci/docker-engine.sh start) and the images `cmem-ops images build`
makes (local/cmem-valkey:9.1, local/cmem-postgres:15, local/claude-mem:13.25.3); without them every
test here skips with the reason.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import jsonschema
import pytest

from cmem_ops.containers.compose import compose_available
from cmem_ops.containers.engine import Engine
from cmem_ops.context import build_context
from cmem_ops.e2e.docker import STEPS
from cmem_ops.errors import OpsError
from cmem_ops.http_client import HttpError, request
from cmem_ops.images.recipes import CLAUDE_MEM_TAG, POSTGRES_TAG, VALKEY_TAG
from cmem_ops.lifecycle.docker_stack_config import StackSecrets, choose_images, render_secret_files
from cmem_ops.lifecycle.docker_stack_project import compose_for, read_state
from cmem_ops.runner import SubprocessRunner
from cmem_ops.schemas import read_schema
from tests.support import REPO, free_port, run_cli, user_env

pytestmark = [pytest.mark.integration, pytest.mark.docker, pytest.mark.slow]

IMAGES = (VALKEY_TAG, POSTGRES_TAG, CLAUDE_MEM_TAG)
STACK = REPO / "compose" / "stack.yml"
DOCKER_CONFIG = os.environ.get("DOCKER_CONFIG", str(Path.home() / ".docker"))


def published_env(home: Path, **settings: str) -> dict[str, str]:
    """A new user's environment under `home` for a docker stack whose store and Postgres are published on
    127.0.0.1, with `settings`; none of the pytest-docker stack's CMEM_STACK_* variables. Skips without an
    engine or the images."""
    engine_or_skip().close()
    env = user_env(home, DOCKER_CONFIG=DOCKER_CONFIG, CMEM_STACK_PUBLISH_STORES="1", CLAUDE_MEM_STACK="docker",
                   **settings)
    return {k: v for k, v in env.items() if not k.startswith("CMEM_STACK_") or k == "CMEM_STACK_PUBLISH_STORES"}


@contextmanager
def running_stack(env: dict[str, str]) -> Iterator[dict[str, str]]:
    """`stack up --docker --workers 1` in `env` (published_env), then `stack down --purge-data`."""
    up = run_cli(env, "stack", "up", "--docker", "--workers", "1", "--json", timeout=300)
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        yield env
    finally:
        down = run_cli(env, "stack", "down", "--docker", "--purge-data", timeout=240)
        assert down.returncode == 0, down.stdout + down.stderr


def engine_or_skip() -> Engine:
    try:
        engine = Engine.connect(timeout=10)
    except OpsError as exc:
        pytest.skip(f"no Docker engine: {exc.message} (start one: ci/docker-engine.sh start)")
    ok, why = compose_available(SubprocessRunner())
    if not ok:
        pytest.skip(f"no docker compose v2: {why} (ci/docker-engine.sh start installs it)")
    missing = [i for i in IMAGES if i not in engine.images()]
    if missing:
        pytest.skip(f"images {', '.join(missing)} are absent (build them: cmem-ops images build)")
    return engine


# --- compose/stack.yml through pytest-docker ----------------------------------------------------

@pytest.fixture(scope="session")
def stack_secrets(tmp_path_factory):
    engine_or_skip().close()
    directory = tmp_path_factory.mktemp("stack-secrets")
    directory.chmod(0o700)
    values = StackSecrets(secrets.token_hex(16), secrets.token_hex(16))
    for name, text in render_secret_files(values, {}).items():
        (directory / name).write_text(text)
        (directory / name).chmod(0o600)
    port = free_port()
    saved = {k: os.environ.get(k) for k in ("CMEM_STACK_SECRETS_DIR", "CMEM_STACK_VALKEY_IMAGE",
                                            "CMEM_STACK_POSTGRES_IMAGE", "CMEM_STACK_SERVER_PORT", "DOCKER_CONFIG")}
    os.environ.update({"CMEM_STACK_SECRETS_DIR": str(directory), "CMEM_STACK_VALKEY_IMAGE": VALKEY_TAG,
                       "CMEM_STACK_POSTGRES_IMAGE": POSTGRES_TAG, "CMEM_STACK_SERVER_PORT": str(port),
                       "DOCKER_CONFIG": DOCKER_CONFIG})
    yield values, port
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def docker_compose_file(stack_secrets):
    return str(STACK)


@pytest.fixture(scope="session")
def docker_compose_project_name():
    return f"cmem-test-{secrets.token_hex(4)}"


@pytest.fixture(scope="session")
def docker_setup():
    return ["up -d --wait --wait-timeout 180 --scale claude-mem-worker=2"]


@pytest.fixture(scope="session")
def docker_cleanup():
    return ["down -v --timeout 20"]


def compose(project: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", "compose", "-f", str(STACK), "-p", project, *args], capture_output=True,
                          text=True, timeout=120, check=False)


def test_the_stack_file_validates_scales_and_hides_every_secret(stack_secrets, docker_services,
                                                                docker_compose_project_name):
    values, port = stack_secrets
    project = docker_compose_project_name
    config = compose(project, "config", "--format", "json")
    assert config.returncode == 0, config.stderr
    services = json.loads(config.stdout)["services"]
    assert set(services) == {"postgres", "valkey", "claude-mem-server", "claude-mem-worker"}
    server_env = services["claude-mem-server"]["environment"]
    assert server_env["CLAUDE_MEM_DOCKER"] == "1" and server_env["CLAUDE_MEM_GENERATION_DISABLED"] == "1"
    assert server_env["CLAUDE_MEM_QUEUE_ENGINE"] == "bullmq" and server_env["CLAUDE_MEM_AUTH_MODE"] == "api-key"
    assert services["claude-mem-worker"]["environment"]["CLAUDE_MEM_GENERATION_DISABLED"] == "0"
    published = [p for s in services.values() for p in s.get("ports") or []]
    assert published == [{"mode": "ingress", "host_ip": "127.0.0.1", "target": 37877, "published": str(port),
                          "protocol": "tcp"}]
    for name, service in services.items():
        assert service["restart"] == "unless-stopped", name

    def answers() -> bool:
        try:
            return request("GET", f"http://127.0.0.1:{port}/healthz", timeout=2).status == 200
        except HttpError:
            return False

    docker_services.wait_until_responsive(answers, timeout=30, pause=0.5)
    engine = Engine.connect()
    try:
        names = engine.containers_labelled(f"com.docker.compose.project={project}")
        assert sum("claude-mem-worker" in n for n in names) == 2
        for name in names:
            info = engine.container(name)
            assert info is not None and info.running, name
            doc = json.dumps(engine.inspect(name))
            for secret in (values.valkey_password, values.postgres_password):
                assert secret not in doc, f"a password is in `docker inspect {name}`"
    finally:
        engine.close()
    ps = subprocess.run(["ps", "-eww", "-o", "args="], capture_output=True, text=True, timeout=10, check=True).stdout
    assert values.valkey_password not in ps and values.postgres_password not in ps


# --- the CLI over a private data dir ------------------------------------------------------------------

@pytest.fixture
def env(tmp_path):
    engine_or_skip().close()
    env = user_env(tmp_path, DOCKER_CONFIG=DOCKER_CONFIG)
    return {k: v for k, v in env.items() if not k.startswith("CMEM_STACK_")}  # the pytest-docker stack's


def test_cli_up_status_logs_down_keeps_volumes_until_purged(env):
    try:
        up = run_cli(env, "stack", "up", "--docker", "--workers", "1", "--json", timeout=300)
        assert up.returncode == 0, up.stdout + up.stderr
        envelope = json.loads(up.stdout)
        assert envelope["command"] == "stack.up"
        jsonschema.validate(envelope["data"], json.loads(read_schema("stack.up")))
        data = envelope["data"]
        assert [s["service"] for s in data["services"]][:4] == ["postgres", "valkey", "claude-mem-server",
                                                               "claude-mem-worker"]
        assert all(s["running"] == s["containers"] == 1 for s in data["services"][:4])
        project = data["project"]
        secrets_dir = Path(env["CLAUDE_MEM_DATA_DIR"]) / "docker-stack" / "secrets"
        assert oct(secrets_dir.stat().st_mode & 0o777) == "0o700"
        assert all(oct(p.stat().st_mode & 0o777) == "0o600" for p in secrets_dir.iterdir())

        status = run_cli(env, "stack", "status", "--docker", "--json")
        assert status.returncode == 0, status.stdout + status.stderr
        body = json.loads(status.stdout)["data"]
        jsonschema.validate(body, json.loads(read_schema("stack.status")))
        assert body["healthy"] is True and body["project"] == project
        assert {c["name"]: c["status"] for c in body["checks"]}["healthz"] == "ok"
        with_setting = run_cli({**env, "CLAUDE_MEM_STACK": "docker"}, "stack", "status")
        assert with_setting.returncode == 0 and f"compose project {project}" in with_setting.stdout
        doctor = run_cli({**env, "CLAUDE_MEM_STACK": "docker"}, "doctor", "--no-smoke", "--json", timeout=60)
        report = json.loads(doctor.stdout)["data"]["results"]
        by_name = {r["name"]: r["status"] for r in report}
        assert doctor.returncode == 0, doctor.stdout
        assert by_name["ping"] == by_name["policy"] == by_name["pg_isready"] == by_name["healthz"] == "ok"
        assert by_name["lua"] == "ok" and by_name["stuck jobs"] == "ok"
        # The BullMQ smoke: claude-mem's Node client on the image's bun, in a one-off container on the network.
        smoke = run_cli({**env, "CLAUDE_MEM_STACK": "docker"}, "doctor", "--only", "store", "--json", timeout=300)
        store = {r["name"]: r for r in json.loads(smoke.stdout)["data"]["results"]}
        assert smoke.returncode == 0 and store["bullmq"]["status"] == "ok", smoke.stdout
        assert "node-bullmq 5.81.5 on the image's bun" in store["bullmq"]["summary"]
        # Lua refused (an ACL denying @scripting): FAIL naming the docker commands; the smoke is not tried.
        stack_compose = compose_for(build_context(env), read_state(build_context(env)), choose_images({}, frozenset()))
        cli = 'REDISCLI_AUTH="$(cat /run/secrets/valkey-password)" valkey-cli --no-auth-warning ACL SETUSER default '
        try:
            stack_compose.exec("valkey", ["sh", "-c", cli + "-@scripting"])
            refused = run_cli({**env, "CLAUDE_MEM_STACK": "docker"}, "doctor", "--only", "store", "--json",
                              timeout=120)
            store = {r["name"]: r for r in json.loads(refused.stdout)["data"]["results"]}
            assert refused.returncode != 0 and store["lua"]["status"] == "fail", refused.stdout
            assert "NOPERM" in store["lua"]["summary"]
            assert f"docker compose -f {REPO}/compose/stack.yml -p {project} restart" in store["lua"]["hint"]
            assert store["bullmq"]["status"] == "skip"
        finally:
            stack_compose.exec("valkey", ["sh", "-c", cli + "+@all"])

        # jobs stuck|recover reach Postgres and the store inside the compose network (nothing published).
        stuck = run_cli(env, "jobs", "stuck", "--docker", "--json", timeout=120)
        assert stuck.returncode == 0, stuck.stdout + stuck.stderr
        stuck_data = json.loads(stuck.stdout)["data"]
        jsonschema.validate(stuck_data, json.loads(read_schema("jobs.stuck")))
        assert stuck_data["stuck"] == 0 and stuck_data["jobs"] == []
        recover = run_cli({**env, "CLAUDE_MEM_STACK": "docker"}, "jobs", "recover", "--json", timeout=120)
        assert recover.returncode == 0, recover.stdout + recover.stderr
        jsonschema.validate(json.loads(recover.stdout)["data"], json.loads(read_schema("jobs.recover")))

        logs = run_cli(env, "stack", "logs", "--docker", "claude-mem-worker", "-n", "5")
        assert logs.returncode == 0 and "worker-running" in logs.stdout, logs.stdout + logs.stderr

        down = run_cli(env, "stack", "down", "--docker", timeout=180)
        assert down.returncode == 0, down.stderr
        assert f"kept: volume {project}_postgres-data" in down.stdout
        stopped = run_cli(env, "stack", "status", "--docker")
        assert stopped.returncode == 7 and "not running" in stopped.stdout
    finally:
        purge = run_cli(env, "stack", "down", "--docker", "--purge-data", timeout=180)
    assert purge.returncode == 0 and f"removed: volume {project}_postgres-data" in purge.stdout
    engine = Engine.connect()
    try:
        assert not engine.volume_exists(f"{project}_postgres-data")
        assert not engine.containers_labelled(f"com.docker.compose.project={project}")
    finally:
        engine.close()


def test_local_dev_is_refused_before_any_container_starts(env):
    out = run_cli({**env, "CLAUDE_MEM_AUTH_MODE": "local-dev"}, "stack", "up", "--docker", "--json")
    assert out.returncode == 3
    error = json.loads(out.stdout)["error"]
    assert error["message"].startswith("server startup configuration is invalid:")
    assert "CLAUDE_MEM_AUTH_MODE=local-dev is not allowed in Docker." in error["message"]
    assert not (Path(env["CLAUDE_MEM_DATA_DIR"]) / "docker-stack").exists()


def test_e2e_docker(env):
    out = run_cli(env, "e2e", "--docker", "--json", timeout=1200)  # a Postgres crash may leave a lock to expire (5 min)
    steps = json.loads(out.stdout)["data"]["steps"] if out.stdout.strip() else []
    assert out.returncode == 0, "\n".join(f"{s['status']} {s['name']}: {s['detail']}" for s in steps) + out.stderr
    assert [s["status"] for s in steps] == ["PASS"] * len(steps) and len(steps) == len(STEPS)
