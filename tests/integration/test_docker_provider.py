"""The docker provider against a real Docker engine and a locally built image (no registry here).

ci/docker-engine.sh starts the engine and ci/build-images.sh builds `local/valkey:9.1` (server at
/usr/local/bin/valkey-server). Without an engine or the image these tests skip with the reason.
"""

from __future__ import annotations

import json
import secrets
import stat
import subprocess
from pathlib import Path

import pytest
import redis

from cmem_ops.containers.engine import Engine
from cmem_ops.containers.specs import RunSpec
from cmem_ops.errors import OpsError
from cmem_ops.installers.container import (
    CONTAINER_NAME,
    VOLUME_NAME,
    ContainerSpec,
    container_logs,
    read_state,
    remove_container,
    run_container,
    stop_container,
)
from cmem_ops.wait import Deadline, poll
from tests.envelope import check_envelope
from tests.support import free_port, run_cli, user_env

pytestmark = [pytest.mark.integration, pytest.mark.docker]

IMAGE = "local/valkey:9.1"


@pytest.fixture(scope="module")
def client():  # the one Engine of this module (named for what the tests talk to)
    try:
        engine = Engine.connect(timeout=10)
    except OpsError as exc:
        pytest.skip(f"no Docker engine: {exc.message} (start one: ci/docker-engine.sh start)")
    if engine.image_labels(IMAGE) is None:
        pytest.skip(f"image {IMAGE} is absent (build it: ci/build-images.sh {IMAGE})")
    yield engine
    engine.close()


@pytest.fixture
def spec(client, tmp_path):
    suffix = secrets.token_hex(4)
    spec = ContainerSpec(image=IMAGE, port=free_port(), password=secrets.token_hex(12),
                         config_dir=tmp_path / "redis" / "container",
                         name=f"cmem-ops-test-{suffix}", volume=f"cmem-ops-test-{suffix}")
    yield spec
    remove_container(spec.name, volume=spec.volume, purge_volume=True, engine=client)


def connect(spec: ContainerSpec) -> redis.Redis:
    return redis.Redis(host="127.0.0.1", port=spec.port, password=spec.password, socket_timeout=5)


def test_run_status_stop_logs_and_data_survive_rm(client, spec):
    state = run_container(spec, engine=client)
    assert state.running and state.ours and state.port == spec.port and state.volume == spec.volume
    r = connect(spec)
    cfg = r.config_get("*")
    assert cfg["appendonly"] == "yes" and cfg["appendfsync"] == "everysec"
    assert cfg["maxmemory-policy"] == "noeviction"
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(host="127.0.0.1", port=spec.port, socket_timeout=5).ping()
    bindings = client.inspect(spec.name)["HostConfig"]["PortBindings"]
    assert bindings == {"6379/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(spec.port)}]}
    for i in range(100):
        r.set(f"job:{i}", i)

    # the same spec again is a no-op
    assert run_container(spec, engine=client).container_id == state.container_id

    stopped = stop_container(spec.name, engine=client)
    assert stopped.exists and not stopped.running
    assert "Ready to accept connections" in container_logs(spec.name, engine=client)

    removed, volume_removed = remove_container(spec.name, volume=spec.volume, purge_volume=False, engine=client)
    assert removed and not volume_removed
    assert not read_state(client, spec.name).exists
    assert client.volume_exists(spec.volume)  # still there

    again = run_container(spec, engine=client)
    assert again.running and again.container_id != state.container_id
    assert connect(spec).dbsize() == 100 and connect(spec).get("job:99") == b"99"


def test_the_password_is_in_a_0600_mounted_file_never_in_inspect_or_ps(client, spec):
    state = run_container(spec, engine=client)
    assert state.running
    assert connect(spec).ping()
    conf = spec.config_dir / "valkey.conf"
    assert stat.S_IMODE(conf.stat().st_mode) == 0o600 and stat.S_IMODE(spec.config_dir.stat().st_mode) == 0o700
    assert f'requirepass "{spec.password}"' in conf.read_text()
    doc = client.inspect(spec.name)
    assert doc["Config"]["Cmd"] == ["/etc/cmem-ops/valkey.conf"] and doc["Config"]["Entrypoint"] == ["valkey-server"]
    mount = next(m for m in doc["Mounts"] if m["Destination"] == "/etc/cmem-ops")
    assert mount["Source"] == str(spec.config_dir) and mount["RW"] is False
    exposed = {"Cmd": doc["Config"]["Cmd"], "Entrypoint": doc["Config"]["Entrypoint"], "Args": doc["Args"],
               "Path": doc["Path"], "Env": doc["Config"]["Env"], "Labels": doc["Config"]["Labels"]}
    assert spec.password not in json.dumps(exposed) and spec.password not in json.dumps(doc)
    ps = subprocess.run(["ps", "-eww", "-o", "pid=,args="], capture_output=True, text=True, timeout=10, check=True)
    pid = doc["State"]["Pid"]
    assert any(line.split(None, 1)[0] == str(pid) for line in ps.stdout.splitlines())  # the host sees the server
    assert spec.password not in ps.stdout
    assert spec.password.encode() not in Path(f"/proc/{pid}/cmdline").read_bytes()


def test_a_foreign_container_with_our_name_is_never_touched(client, spec):
    client.create(RunSpec(IMAGE, spec.name, restart=None))
    try:
        with pytest.raises(OpsError, match="was not created by cmem-ops"):
            run_container(spec, engine=client)
        with pytest.raises(OpsError):
            remove_container(spec.name, volume=spec.volume, engine=client)
        assert read_state(client, spec.name).exists
    finally:
        client.remove(spec.name, force=True)


def test_cli_install_docker_then_uninstall_keeps_the_volume_until_purged(client, tmp_path):
    if read_state(client, CONTAINER_NAME).exists:
        pytest.skip(f"a container named {CONTAINER_NAME} already exists on this engine")
    env = user_env(tmp_path)
    settings_file = Path(env["CLAUDE_MEM_DATA_DIR"]) / "settings.json"
    try:
        out = run_cli(env, "install", "--non-interactive", "--provider", "docker", "--image", IMAGE, "--json",
                      timeout=120)
        assert out.returncode == 0, out.stdout + out.stderr
        check_envelope(out, "install")
        data = json.loads(out.stdout)["data"]
        assert data["mode"] == "docker" and data["action"] == "installed" and data["started"] is True
        settings = json.loads(settings_file.read_text())
        assert settings["CLAUDE_MEM_REDIS_MODE"] == "docker"
        r = redis.Redis.from_url(settings["CLAUDE_MEM_REDIS_URL"], socket_timeout=5)
        r.set("kept", "yes")
        status = run_cli(env, "store", "status")
        assert status.returncode == 0 and "Valkey 9.1" in status.stdout, status.stdout + status.stderr
        logs = run_cli(env, "logs", "store", "-n", "20")  # docker mode: the container's output
        assert logs.returncode == 0 and "Ready to accept connections" in logs.stdout, logs.stdout + logs.stderr
        stop = run_cli(env, "store", "stop")
        assert stop.returncode == 0 and f"docker stop {CONTAINER_NAME}" in stop.stdout
        assert read_state(client, CONTAINER_NAME).running

        # a plain install later keeps the docker store: it restarts the stopped container, same data
        stop_container(CONTAINER_NAME, engine=client)
        out = run_cli(env, "install", "--non-interactive", timeout=120)  # no --image: the container's own
        assert out.returncode == 0, out.stdout + out.stderr
        assert "restarting its container" in out.stdout and "Mode: docker" in out.stdout
        assert json.loads(settings_file.read_text()) == settings
        assert redis.Redis.from_url(settings["CLAUDE_MEM_REDIS_URL"], socket_timeout=5).get("kept") == b"yes"
        again = run_cli(env, "install", "--non-interactive")
        assert again.returncode == 0 and "the docker-mode store answers" in again.stdout

        out = run_cli(env, "uninstall")
        assert out.returncode == 0, out.stderr
        assert f"removed: container {CONTAINER_NAME}" in out.stdout and f"kept: volume {VOLUME_NAME}" in out.stdout
        assert not read_state(client, CONTAINER_NAME).exists
        assert json.loads(settings_file.read_text()) == {}

        out = run_cli(env, "install", "--non-interactive", "--provider", "docker", "--image", IMAGE, timeout=120)
        assert out.returncode == 0, out.stderr
        url = json.loads(settings_file.read_text())["CLAUDE_MEM_REDIS_URL"]

        def read_kept() -> tuple[bytes | None]:  # a 1-tuple: a missing key must end the wait too, as None
            with redis.Redis.from_url(url, socket_timeout=5) as r:
                return (r.get("kept"),)

        # The AOF is loaded before PING answers, but be patient on slow storage drivers.
        (value,) = poll(read_kept, Deadline.after(10), what="the new container to finish loading its AOF",
                        transient=(redis.BusyLoadingError,), interval=0.1)
        # a fresh password was made (settings were cleared), yet the data is the volume's
        assert value == b"yes"

        out = run_cli(env, "uninstall", "--purge-data")
        assert out.returncode == 0 and f"removed: volume {VOLUME_NAME}" in out.stdout
    finally:
        remove_container(CONTAINER_NAME, volume=VOLUME_NAME, purge_volume=True, engine=client)
