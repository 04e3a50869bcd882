"""containers/: compose argv (compared by equality), `compose ps` in both JSON shapes, the engine's pure parts.

The inputs are real outputs captured here (tests/fixtures/docker/README.md says how).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from cmem_ops.containers.compose import Compose, ComposeError, compose_available
from cmem_ops.containers.compose_argv import (
    ComposeProject,
    build_config_argv,
    build_down_argv,
    build_exec_argv,
    build_logs_argv,
    build_ps_argv,
    build_run_argv,
    build_up_argv,
    format_by_hand,
)
from cmem_ops.containers.compose_output import Publisher, format_compose_error, parse_compose_ps, parse_compose_version
from cmem_ops.containers.engine_status import docker_available, read_engine
from cmem_ops.containers.specs import (
    Mount,
    RunSpec,
    build_run_kwargs,
    format_run_argv,
    normalize_image_refs,
    parse_container,
)
from cmem_ops.errors import MissingError, OpsTimeoutError
from cmem_ops.runner import Completed

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "docker"
PROJECT = ComposeProject((Path("compose/matrix.yml"),), "cmem-matrix-ab12")
BASE = ["docker", "compose", "-f", "compose/matrix.yml", "-p", "cmem-matrix-ab12"]


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


# --- argv -----------------------------------------------------------------------------------------

def test_up_argv_waits_with_a_timeout_for_the_named_services() -> None:
    assert build_up_argv(PROJECT, ["valkey-9.1"], wait_timeout=60) == [
        *BASE, "up", "-d", "--wait", "--wait-timeout", "60", "valkey-9.1"]


def test_up_argv_without_wait() -> None:
    assert build_up_argv(PROJECT, wait=False) == [*BASE, "up", "-d"]


def test_profiles_and_several_files_come_before_the_subcommand() -> None:
    project = ComposeProject((Path("a.yml"), Path("b.yml")), "p", ("dragonfly", "extra"), docker="/usr/bin/docker")
    assert build_up_argv(project, ["dragonfly"]) == [
        "/usr/bin/docker", "compose", "-f", "a.yml", "-f", "b.yml", "-p", "p", "--profile", "dragonfly",
        "--profile", "extra", "up", "-d", "--wait", "dragonfly"]


def test_ps_argv_asks_for_json() -> None:
    assert build_ps_argv(PROJECT) == [*BASE, "ps", "--format", "json"]
    assert build_ps_argv(PROJECT, all_=True) == [*BASE, "ps", "--all", "--format", "json"]


def test_down_argv_removes_volumes_only_when_asked() -> None:
    assert build_down_argv(PROJECT) == [*BASE, "down", "--remove-orphans"]
    assert build_down_argv(PROJECT, volumes=True, timeout=10) == [
        *BASE, "down", "-v", "--timeout", "10", "--remove-orphans"]


def test_logs_and_config_argv() -> None:
    assert build_logs_argv(PROJECT, ["redis-6.2"], tail=30) == [*BASE, "logs", "--no-color", "--tail", "30",
                                                                 "redis-6.2"]
    assert build_logs_argv(PROJECT) == [*BASE, "logs", "--no-color"]
    assert build_config_argv(PROJECT) == [*BASE, "config", "--quiet"]


# --- compose ps -----------------------------------------------------------------------------------

QUEUE = Publisher("127.0.0.1", 6379, 39271, "tcp")
CACHE = Publisher("127.0.0.1", 6379, 44405, "tcp")


@pytest.mark.parametrize("name", ["compose-ps-ndjson-2.40.3.txt", "compose-ps-array-2.20.3.txt"])
def test_both_shapes_parse_to_the_same_services(name: str) -> None:
    services = {s.service: s for s in parse_compose_ps(fixture(name))}
    assert set(services) == {"queue", "cache"}
    queue, cache = services["queue"], services["cache"]
    assert (queue.name, queue.project) == ("cmemops-fixture-queue-1", "cmemops-fixture")
    assert queue.image == "local/valkey:9.1"
    assert queue.running and queue.health == "healthy" and queue.exit_code == 0
    assert queue.publishers == (QUEUE,)
    assert queue.published_port(6379) == 39271
    assert cache.published_port(6379) == 44405 and cache.health == ""
    assert cache.published_port(6380) is None and cache.published_port(6379, "udp") is None


def test_ndjson_with_one_stopped_lists_only_the_running_one() -> None:
    [only] = parse_compose_ps(fixture("compose-ps-one-exited-ndjson-2.40.3.txt"))
    assert only.service == "queue" and only.running


@pytest.mark.parametrize("name", ["compose-ps-all-one-exited-ndjson-2.40.3.txt",
                                  "compose-ps-all-one-exited-array-2.20.3.txt"])
def test_all_shows_the_exited_container_with_no_publishers(name: str) -> None:
    services = {s.service: s for s in parse_compose_ps(fixture(name))}
    assert services["cache"].state == "exited" and not services["cache"].running
    assert services["cache"].publishers == ()  # [] in NDJSON, null in the array shape
    assert services["cache"].published_port(6379) is None
    assert services["queue"].running


@pytest.mark.parametrize("name", ["compose-ps-empty-ndjson-2.40.3.txt", "compose-ps-empty-array-2.20.3.txt"])
def test_empty_outputs_mean_no_services(name: str) -> None:
    assert parse_compose_ps(fixture(name)) == []


@pytest.mark.parametrize("text", ["", "\n", "  \n\n", "[]", "[]\n"])
def test_blank_and_empty_array(text: str) -> None:
    assert parse_compose_ps(text) == []


def test_the_human_table_is_not_json() -> None:
    with pytest.raises(ValueError, match="line 1 is not JSON"):
        parse_compose_ps(fixture("compose-ps-table-2.40.3.txt"))


# --- Compose runs through the Runner --------------------------------------------------------------

class RecordingRunner:
    """Records argv and env; answers with canned results (the plan is what is under test)."""

    def __init__(self, *answers: Completed | Exception) -> None:
        self.answers = list(answers)
        self.calls: list[tuple[list[str], float, Mapping[str, str] | None]] = []

    def run(self, argv: Sequence[str], *, timeout: float, env: Mapping[str, str] | None = None,
            cwd: Path | None = None, input_text: str | None = None) -> Completed:
        self.calls.append((list(argv), timeout, env))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def spawn_detached(self, *args: object, **kwargs: object) -> object:
        raise AssertionError("compose never spawns")


def done(stdout: str = "", stderr: str = "", code: int = 0) -> Completed:
    return Completed(("docker",), code, stdout, stderr)


def test_compose_passes_variables_in_env_never_in_argv() -> None:
    runner = RecordingRunner(done(), done(fixture("compose-ps-ndjson-2.40.3.txt")), done())
    compose = Compose(PROJECT, runner, {"CMEM_MATRIX_PASSWORD": "s3cret"})
    compose.up(["valkey-9.1"], timeout=30)
    assert [s.service for s in compose.ps()] == ["cache", "queue"]
    compose.down()
    argvs = [call[0] for call in runner.calls]
    assert argvs == [build_up_argv(PROJECT, ["valkey-9.1"], wait_timeout=30), build_ps_argv(PROJECT),
                     build_down_argv(PROJECT, volumes=True, timeout=30)]
    assert all(call[2] == {"CMEM_MATRIX_PASSWORD": "s3cret"} for call in runner.calls)
    assert not any("s3cret" in " ".join(argv) for argv in argvs)
    assert runner.calls[0][1] == 40  # the wait timeout plus slack for compose itself


def test_a_failed_command_raises_compose_error_with_the_stderr_and_a_logs_hint() -> None:
    runner = RecordingRunner(done(stderr="Error response from daemon: pull access denied for nope", code=1))
    with pytest.raises(ComposeError) as info:
        Compose(PROJECT, runner).up(["valkey-9.1"], timeout=5)
    assert "pull access denied" in info.value.message and "exit 1" in info.value.message
    assert info.value.hint and "logs --no-color --tail 50 valkey-9.1" in info.value.hint


def test_a_timeout_keeps_its_family_and_gets_a_compose_hint() -> None:
    runner = RecordingRunner(OpsTimeoutError("`docker compose ...` did not finish within 5s", hint="generic"))
    with pytest.raises(OpsTimeoutError) as info:
        Compose(PROJECT, runner).down(timeout=5)
    assert info.value.hint and info.value.hint.startswith("look at the containers: docker compose")


def test_unreadable_ps_output_is_a_compose_error() -> None:
    with pytest.raises(ComposeError, match="cannot read"):
        Compose(PROJECT, RecordingRunner(done("NAME IMAGE\nx y\n"))).ps()


# --- the engine -----------------------------------------------------------------------------------

def test_no_engine_at_docker_host_is_a_status_with_the_socket_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///tmp/cmemops-no-such.sock")
    status = read_engine(timeout=2)
    assert not status.available and status.server_version is None
    assert "unix:///tmp/cmemops-no-such.sock" in status.reason
    ok, why = docker_available(timeout=2)
    assert not ok and why == status.reason


def test_inspect_documents_are_read_for_ports_mounts_and_labels() -> None:
    [attrs] = json.loads(fixture("docker-inspect-valkey-9.1-running.json"))
    info = parse_container(attrs)
    assert info.name == "cmemops-fixture-queue-1" and info.running and info.pid == 14037
    assert info.ports == {6379: ("127.0.0.1", 39271)}
    assert info.mounts == {"/data": "cmemops-fixture_queue-data"}
    assert info.labels["com.docker.compose.service"] == "queue" and info.restart_count == 0
    assert info.cmd[0] == "valkey-server"
    [attrs] = json.loads(fixture("docker-inspect-valkey-9.1-exited.json"))
    exited = parse_container(attrs)
    assert exited.status == "exited" and not exited.running and exited.pid == 0


SPEC = RunSpec(image="local/valkey:9.1", name="c1", command=("/etc/x/valkey.conf",), entrypoint=("valkey-server",),
               labels={"io.cmem-ops.managed": "queue-store"}, ports={6379: ("127.0.0.1", 26001)},
               mounts=(Mount("vol", "/data"), Mount("/home/u/conf", "/etc/x", read_only=True)))


def test_a_run_spec_becomes_sdk_arguments() -> None:
    assert build_run_kwargs(SPEC) == {
        "name": "c1", "labels": {"io.cmem-ops.managed": "queue-store"}, "ports": {"6379/tcp": ("127.0.0.1", 26001)},
        "volumes": {"vol": {"bind": "/data", "mode": "rw"}, "/home/u/conf": {"bind": "/etc/x", "mode": "ro"}},
        "command": ["/etc/x/valkey.conf"], "entrypoint": ["valkey-server"],
        "restart_policy": {"Name": "unless-stopped"}}


def test_a_run_spec_has_its_cli_equivalent() -> None:
    assert format_run_argv(SPEC) == (
        "docker", "run", "-d", "--name", "c1", "--restart", "unless-stopped",
        "--label", "io.cmem-ops.managed=queue-store", "-p", "127.0.0.1:26001:6379", "-v", "vol:/data",
        "-v", "/home/u/conf:/etc/x:ro", "--entrypoint", "valkey-server", "local/valkey:9.1", "/etc/x/valkey.conf")


def test_compose_available_when_the_client_is_missing() -> None:
    runner = RecordingRunner(MissingError("`docker` is not installed or not on PATH"))
    assert compose_available(runner) == (False, "`docker` is not installed or not on PATH")  # type: ignore[arg-type]


def test_compose_available_names_the_version() -> None:
    runner = RecordingRunner(done(fixture("compose-version-2.40.3.txt")))
    assert compose_available(runner) == (True, "compose 2.40.3")  # type: ignore[arg-type]
    assert runner.calls[0][0] == ["docker", "compose", "version"]


@pytest.mark.parametrize(("name", "version"), [("compose-version-2.40.3.txt", "2.40.3"),
                                               ("compose-version-2.20.3.txt", "2.20.3"),
                                               ("compose-version-json-2.40.3.txt", "2.40.3")])
def test_compose_version(name: str, version: str) -> None:
    assert parse_compose_version(fixture(name)) == version


def test_compose_plugin_missing_has_no_version() -> None:
    assert parse_compose_version(fixture("compose-version-plugin-missing-stderr-client-28.2.2.txt")) is None
    assert parse_compose_version("") is None


def test_image_list_drops_dangling_images() -> None:
    tags = ["local/valkey:9.1", "redis:7.0", "<none>:<none>", "docker.io/library/redis:6.2"]
    assert normalize_image_refs(tags) == set({"local/valkey:9.1", "redis:7.0", "docker.io/library/redis:6.2",
                                                "redis:6.2"})


def test_compose_errors_drop_progress_lines() -> None:
    stderr = (" Network p_default  Creating\n Network p_default  Created\n Container p-valkey-9.1-1  Starting\n"
              "Error response from daemon: failed to create shim task: exec: \"valkey-server\": not found\n")
    assert format_compose_error(stderr) == ('Error response from daemon: failed to create shim task: exec: '
                                            '"valkey-server": not found')
    assert format_compose_error(" Container x  Healthy\n") == ""


def test_up_argv_scales_and_skips_dependencies() -> None:
    assert build_up_argv(PROJECT, ["claude-mem-worker"], wait=False, scale={"claude-mem-worker": 3},
                         no_deps=True) == [*BASE, "up", "-d", "--no-deps", "--scale", "claude-mem-worker=3",
                                           "claude-mem-worker"]


def test_exec_run_and_follow_argv() -> None:
    assert build_exec_argv(PROJECT, "claude-mem-server", ["x", "--y"], index=2, env={"A": "1"}) == [
        *BASE, "exec", "-T", "--index", "2", "-e", "A=1", "claude-mem-server", "x", "--y"]
    assert build_run_argv(PROJECT, "claude-mem-server", env={"CLAUDE_MEM_AUTH_MODE": "local-dev"}) == [
        *BASE, "run", "--rm", "--no-deps", "-T", "-e", "CLAUDE_MEM_AUTH_MODE=local-dev", "claude-mem-server"]
    assert build_run_argv(PROJECT, "claude-mem-server", ["-c", "true"], entrypoint="/bin/sh",
                          volumes=["/c/smoke:/s:ro"]) == [
        *BASE, "run", "--rm", "--no-deps", "-T", "--entrypoint", "/bin/sh", "-v", "/c/smoke:/s:ro",
        "claude-mem-server", "-c", "true"]
    assert build_logs_argv(PROJECT, ["valkey"], tail=5, follow=True) == [
        *BASE, "logs", "--no-color", "--tail", "5", "--follow", "valkey"]


def test_cp_argv_names_the_project():
    from cmem_ops.containers.compose_argv import ComposeProject, build_cp_argv

    project = ComposeProject((Path("/s/stack.yml"), Path("/s/stack.publish.yml")), "cmem-1")
    assert build_cp_argv(project, "valkey:/data/dump.rdb", "/tmp/x") == [
        "docker", "compose", "-f", "/s/stack.yml", "-f", "/s/stack.publish.yml", "-p", "cmem-1", "cp",
        "valkey:/data/dump.rdb", "/tmp/x"]


def test_a_by_hand_command_carries_the_variables_the_compose_files_require():
    # compose refuses every verb while a `${VAR:?}` of its files is unset: a printed command sets them first
    required = ("CMEM_STACK_SECRETS_DIR", "CMEM_STACK_VALKEY_PORT", "CMEM_STACK_POSTGRES_PORT")
    project = ComposeProject((Path("/srv/stack.yml"),), "cmem-abc", required_env=required)
    env = {"CMEM_STACK_SECRETS_DIR": "/home/u/.claude-mem/docker stack/secrets", "CMEM_STACK_VALKEY_PORT": "41001",
           "CMEM_STACK_SERVER_PORT": "41000"}  # not required: left out; the unset POSTGRES_PORT too
    argv = build_exec_argv(project, "valkey", ["sh", "-c", "x y"])
    assert format_by_hand(project, env, argv) == (
        "CMEM_STACK_SECRETS_DIR='/home/u/.claude-mem/docker stack/secrets' CMEM_STACK_VALKEY_PORT=41001 "
        "docker compose -f /srv/stack.yml -p cmem-abc exec -T valkey sh -c 'x y'")
    assert Compose(project, runner=None, env=env).by_hand(argv) == format_by_hand(project, env, argv)  # type: ignore[arg-type]
    assert format_by_hand(ComposeProject((Path("/m.yml"),), "m"), env, ["docker", "ps"]) == "docker ps"
