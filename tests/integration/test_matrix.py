"""`cmem-ops matrix` for real: every native server here, the local Docker images, a service URL, Dragonfly.

Each run goes through the CLI as a user would (`--json`), with a private HOME. The Node smoke's
`npm ci` runs once for the module in that HOME's cache. A target whose binary or image is missing
here is skipped with the reason, never faked green.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest
import redis

from cmem_ops.containers.compose import compose_available
from cmem_ops.containers.engine import list_images
from cmem_ops.containers.engine_status import docker_available
from cmem_ops.matrix.targets import load_targets
from cmem_ops.paths import Paths
from cmem_ops.probes.bullmq_node import find_node, find_npm, prepare_node_smoke
from cmem_ops.runner import SubprocessRunner
from tests.envelope import check_envelope
from tests.support import real_binaries, real_server, run_cli, user_env

pytestmark = pytest.mark.integration

TARGETS = {t.name: t for t in load_targets()}
NATIVE = {b.label: b for b in real_binaries()}  # labels are the matrix target names
RUN_TIMEOUT = 240


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A new user's environment whose cache already holds the Node smoke's node_modules."""
    env = user_env(tmp_path_factory.mktemp("matrix-user"))
    if find_node() and find_npm():
        prepare_node_smoke(Paths.from_env(env).cache_dir, timeout_s=300)
    return env


def run_matrix(env: dict[str, str], *args: str) -> tuple[int, dict[str, Any], str]:
    done = run_cli(env, "matrix", "--json", *args, timeout=RUN_TIMEOUT)
    envelope = check_envelope(done, "matrix")  # one envelope (else fails with stdout and stderr), schema-valid
    assert envelope["schema"] == "cmem-ops/v1" and envelope["command"] == "matrix"
    return done.returncode, envelope["data"], done.stderr


def port_of(result: dict[str, Any]) -> int:
    label = next(p["target"] for p in result["probes"] if p["name"] == "tcp")  # "external redis://:***@127.0.0.1:N/0"
    return int(label.rsplit(":", 1)[1].split("/")[0])


def answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.3):
            return True
    except OSError:
        return False


def assert_passed(result: dict[str, Any], label_prefix: str) -> None:
    assert result["verdict"] == "pass", json.dumps(result, indent=2)[:3000]
    assert result["server"].startswith(label_prefix)
    names = [p["name"] for p in result["probes"]]
    for name in ("tcp", "ping", "server", "eviction policy", "persistence", "exposure", "lua", "bullmq"):
        assert name in names
    assert not [p for p in result["probes"] if p["status"] == "fail"]
    by_name = {p["name"]: p for p in result["probes"]}
    assert by_name["persistence"]["status"] == "ok" and by_name["eviction policy"]["summary"] == "noeviction"
    assert by_name["bullmq"]["status"] == "ok"
    legs = {leg["name"]: leg for leg in result["interop"]}
    assert set(legs) == {"node->python", "python->node"}
    for leg in legs.values():
        if leg["status"] == "skip":  # a client missing here; the reason is in the leg
            assert leg["summary"].startswith("skipped: ")
        else:
            assert leg["status"] == "ok", leg
    assert result["timings"]["total_ms"] > 0


# --- native -----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def native_run(env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> tuple[int, dict[str, Any], str, Path]:
    present = [name for name, b in NATIVE.items() if b.path is not None]
    if not present:
        pytest.skip("no native server binary here: " + "; ".join(b.why_missing for b in NATIVE.values()))
    report = tmp_path_factory.mktemp("matrix-report") / "native.md"
    code, data, stderr = run_matrix(env, "--native-only", "--targets", ",".join(present), "--report", str(report))
    return code, data, stderr, report


@pytest.mark.parametrize("name", list(NATIVE))
def test_native_target_passes(name: str, native_run: tuple[int, dict[str, Any], str, Path]) -> None:
    binary = NATIVE[name]
    if binary.path is None:
        pytest.skip(binary.why_missing)
    _, data, stderr, _ = native_run
    result = next(r for r in data["results"] if r["target"] == name)
    assert result["kind"] == "native" and result["location"] == str(binary.path)
    assert_passed(result, TARGETS[name].label)
    assert result["stopped"] == "terminated"  # stopped by identity, SIGTERM to its own process group
    assert not answers(port_of(result))
    assert f"matrix: {name}: PASS in " in stderr


def test_native_run_exits_0_and_writes_the_report(native_run: tuple[int, dict[str, Any], str, Path]) -> None:
    code, data, stderr, report = native_run
    assert code == 0, stderr
    assert data["counts"]["fail"] == 0 and data["exit_code"] == 0
    text = report.read_text()
    assert text.startswith("| Target | Source | Server | Verdict |")
    assert all(f"| `{r['target']}` |" in text for r in data["results"])


# --- Dragonfly: nothing provides it here ----------------------------------------------------------------

def test_dragonfly_skips_with_the_reason_or_passes_when_present(env: dict[str, str]) -> None:
    code, data, stderr = run_matrix(env, "--native-only", "--targets", "dragonfly")
    [result] = data["results"]
    if shutil.which("dragonfly"):
        assert code == 0 and result["verdict"] == "pass", result
        return
    assert code == 0
    assert result["verdict"] == "skip" and result["kind"] is None
    assert result["reason"] == "no native Dragonfly binary (`dragonfly`; found none of that flavour)"
    assert result["hint"] == "install dragonfly and put it on PATH"
    assert "matrix: dragonfly: SKIP: no native Dragonfly binary" in stderr
    strict = run_cli(env, "matrix", "--native-only", "--targets", "dragonfly", "--strict", timeout=RUN_TIMEOUT)
    assert strict.returncode == 4, strict.stderr
    assert "| `dragonfly` | — | — | SKIP |" in strict.stdout


# --- a service URL (how the CI workflow runs) -------------------------------------------------------------

def test_a_bare_service_is_configured_for_the_run_and_restored(env: dict[str, str], tmp_path: Path) -> None:
    binary = NATIVE["valkey-9.1"]
    if binary.path is None:
        pytest.skip(binary.why_missing)
    with real_server(binary.path, tmp_path / "svc") as server:  # no password, no AOF: like a CI service
        client = redis.Redis(port=server.port, socket_timeout=5)
        client.set("bull:claude-mem:keep-me", "1")
        policy = client.config_get("maxmemory-policy")["maxmemory-policy"]
        code, data, _ = run_matrix({**env, "CMEM_MATRIX_VALKEY_91_URL": server.url}, "--targets", "valkey-9.1")
        [result] = data["results"]
        assert code == 0 and result["kind"] == "service"
        assert_passed(result, "Valkey 9.1")
        assert result["stopped"].startswith("restored ") and "requirepass" in result["stopped"]
        assert client.config_get("appendonly")["appendonly"] == "no"
        assert client.config_get("requirepass")["requirepass"] == ""
        assert client.config_get("maxmemory-policy")["maxmemory-policy"] == policy
        assert client.dbsize() == 1 and client.get("bull:claude-mem:keep-me") == b"1"


# --- Docker: the local images ci/build-images.sh builds ---------------------------------------------------

@pytest.mark.docker
def test_docker_only_runs_every_local_image(env: dict[str, str]) -> None:
    runner = SubprocessRunner()
    ok, why = docker_available()
    if not ok:
        pytest.skip(f"no Docker engine: {why} (start one: ci/docker-engine.sh start)")
    ok, why = compose_available(runner)
    if not ok:
        pytest.skip(f"no docker compose v2: {why} (ci/docker-engine.sh start installs it)")
    images = list_images()
    present = [t.name for t in TARGETS.values() if (t.local_image and t.local_image in images) or t.image in images]
    if not present:
        pytest.skip("none of the matrix images is on this engine (build them: ci/build-images.sh)")
    # The private HOME has no ~/.docker: keep the real one so the CLI finds the compose plugin.
    docker_env = {**env, "DOCKER_CONFIG": os.environ.get("DOCKER_CONFIG", str(Path.home() / ".docker"))}
    code, data, stderr = run_matrix(docker_env, "--docker-only", "--targets", ",".join(present))
    assert code == 0, stderr
    for result in data["results"]:
        target = TARGETS[result["target"]]
        assert result["kind"] == "docker" and result["location"] in (target.image, target.local_image)
        assert_passed(result, target.label)
        assert result["stopped"].startswith("removed project cmem-matrix-")
        assert not answers(port_of(result))
    leftovers = subprocess.run(["docker", "ps", "-a", "--format", "{{.Names}}"], capture_output=True, text=True,
                               timeout=30, check=True).stdout.split()
    assert not [n for n in leftovers if n.startswith("cmem-matrix-")]
    networks = subprocess.run(["docker", "network", "ls", "--format", "{{.Name}}"], capture_output=True, text=True,
                              timeout=30, check=True).stdout.split()
    assert not [n for n in networks if n.startswith("cmem-matrix-")]


@pytest.mark.docker
def test_docker_failures_are_fails_with_a_hint_and_leave_nothing(env: dict[str, str]) -> None:
    runner = SubprocessRunner()
    if not (docker_available()[0] and compose_available(runner)[0]):
        pytest.skip("no Docker engine with compose v2 (start one: ci/docker-engine.sh start)")
    images = list_images()
    if not {"local/redis:6.2", "local/valkey:8.1"} <= images:
        pytest.skip("local/redis:6.2 and local/valkey:8.1 are needed (build them: ci/build-images.sh)")
    docker_env = {**env, "DOCKER_CONFIG": os.environ.get("DOCKER_CONFIG", str(Path.home() / ".docker"))}
    # An image without valkey-server: the container cannot start.
    code, data, _ = run_matrix({**docker_env, "CMEM_MATRIX_VALKEY_91_IMAGE": "local/redis:6.2"},
                               "--docker-only", "--targets", "valkey-9.1", "--no-interop")
    [result] = data["results"]
    assert code == 1 and result["verdict"] == "fail"
    assert result["reason"].startswith("the server did not start:") and '"valkey-server": executable file not found' \
        in result["reason"]
    assert result["hint"].startswith("CMEM_MATRIX_VALKEY_91_IMAGE=local/redis:6.2 docker compose -f ")
    # A drifted tag: the server starts and works, but it is not the target's version.
    code, data, _ = run_matrix({**docker_env, "CMEM_MATRIX_VALKEY_91_IMAGE": "local/valkey:8.1"},
                               "--docker-only", "--targets", "valkey-9.1", "--no-interop")
    [result] = data["results"]
    assert code == 1 and result["verdict"] == "fail" and result["server"].startswith("Valkey 8.1.")
    assert result["reason"].startswith("target: the server is Valkey 8.1.") and "not Valkey 9.1" in result["reason"]
    names = subprocess.run(["docker", "ps", "-a", "--format", "{{.Names}}"], capture_output=True, text=True,
                           timeout=30, check=True).stdout.split()
    assert not [n for n in names if n.startswith("cmem-matrix-")]
