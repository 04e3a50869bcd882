"""The docker-mode queue store through the Docker SDK: run, status, stop, logs, remove.

One container (`cmem-ops-valkey`, labelled as ours) with one named volume at /data, published
on 127.0.0.1 only, running the managed config on the command line: AOF everysec, noeviction,
a password. A container of that name without our label is never touched. The SDK is an optional
dependency (`pip install 'cmem-ops[docker]'`), imported only here and only when used.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any

from ..errors import ConflictError, MissingError, NotRunningError, OpsTimeoutError, ProcessError
from ..redis_url import RedisTarget
from ..store_client import ping

CONTAINER_NAME = "cmem-ops-valkey"
VOLUME_NAME = "cmem-ops-valkey-data"
LABEL = "io.cmem-ops.managed"
LABEL_VALUE = "queue-store"
SPEC_LABEL = "io.cmem-ops.spec"
CONTAINER_PORT = 6379
HOST_IP = "127.0.0.1"
SDK_HINT = "pip install 'cmem-ops[docker]'   (the Docker SDK for Python)"


@dataclass(frozen=True)
class ContainerSpec:
    """What the store container runs and where it is published."""

    image: str
    port: int
    password: str
    name: str = CONTAINER_NAME
    volume: str = VOLUME_NAME

    @property
    def fingerprint(self) -> str:
        """A digest of everything that requires recreating the container when it changes."""
        text = "\0".join((self.image, str(self.port), self.volume, *build_server_args(self.password)))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class ContainerState:
    """What the engine says about the store container."""

    name: str
    exists: bool
    running: bool
    status: str
    ours: bool = False
    image: str | None = None
    container_id: str | None = None
    port: int | None = None
    volume: str | None = None


def build_server_args(password: str) -> tuple[str, ...]:
    """The server command line: the managed config, listening inside the container only (pure)."""
    return ("valkey-server", "--bind", "0.0.0.0", "--port", str(CONTAINER_PORT), "--protected-mode", "no",
            "--dir", "/data", "--appendonly", "yes", "--appendfsync", "everysec", "--save", "60", "1",
            "--maxmemory-policy", "noeviction", "--requirepass", password)


def format_docker_run(spec: ContainerSpec, *, redact: bool = True) -> tuple[str, ...]:
    """The `docker run` argv equivalent to run_container(spec) (pure; password redacted)."""
    args = list(build_server_args("<password>" if redact else spec.password))
    return ("docker", "run", "-d", "--name", spec.name, "--restart", "unless-stopped",
            "--label", f"{LABEL}={LABEL_VALUE}", "-p", f"{HOST_IP}:{spec.port}:{CONTAINER_PORT}",
            "-v", f"{spec.volume}:/data", spec.image, *args)


def docker_client(timeout: float = 30.0) -> Any:
    """A Docker SDK client that has answered a ping; MissingError / NotRunningError otherwise."""
    try:
        import docker  # type: ignore[import-untyped]  # optional dependency, untyped
    except ImportError as exc:
        raise MissingError("the Docker SDK for Python is not installed", hint=SDK_HINT) from exc
    try:
        client = docker.from_env(version="auto", timeout=int(timeout))
        client.ping()
    except docker.errors.DockerException as exc:
        raise NotRunningError(f"the Docker engine does not answer: {exc}",
                              hint="start Docker (Docker Desktop, or: sudo systemctl start docker), "
                                   "then rerun") from exc
    return client


def _errors() -> Any:
    import docker
    return docker.errors


def read_state(client: Any, name: str = CONTAINER_NAME) -> ContainerState:
    """The container's state; `exists=False` when there is none."""
    errors = _errors()
    try:
        container = client.containers.get(name)
    except errors.NotFound:
        return ContainerState(name, False, False, "absent")
    attrs = container.attrs
    labels = attrs.get("Config", {}).get("Labels") or {}
    bindings = (attrs.get("HostConfig", {}).get("PortBindings") or {}).get(f"{CONTAINER_PORT}/tcp") or []
    port = int(bindings[0]["HostPort"]) if bindings and bindings[0].get("HostPort") else None
    mounts = [m.get("Name") for m in attrs.get("Mounts", []) if m.get("Destination") == "/data"]
    status = attrs.get("State", {}).get("Status", "unknown")
    return ContainerState(name, True, status == "running", status, labels.get(LABEL) == LABEL_VALUE,
                          attrs.get("Config", {}).get("Image"), container.id, port, mounts[0] if mounts else None)


def _ensure_image(client: Any, image: str) -> None:
    errors = _errors()
    try:
        client.images.get(image)
        return
    except errors.ImageNotFound:
        pass
    repo, _, tag = image.rpartition(":") if ":" in image.split("/")[-1] else (image, "", "latest")
    try:
        client.images.pull(repo, tag=tag)
    except errors.DockerException as exc:
        raise MissingError(f"image {image} is not present and could not be pulled: {exc}",
                           hint=f"docker pull {image}   (or load/build one and pass --image NAME)") from exc


def _ping(port: int, password: str) -> bool:
    return ping(RedisTarget(HOST_IP, port, password=password), timeout=0.5)


def run_container(spec: ContainerSpec, *, client: Any = None, start: bool = True,
                  timeout: float = 30.0) -> ContainerState:
    """Create (and start) the store container; reuse ours when it already runs this spec."""
    client = client or docker_client()
    errors = _errors()
    state = read_state(client, spec.name)
    if state.exists and not state.ours:
        raise ConflictError(f"a container named {spec.name} exists and was not created by cmem-ops",
                            hint=f"remove or rename it yourself (docker rm -f {spec.name}), then rerun")
    if state.exists:
        container = client.containers.get(spec.name)
        same = (container.attrs.get("Config", {}).get("Labels") or {}).get(SPEC_LABEL) == spec.fingerprint
        if same and (state.running or not start):
            return state
        if same:
            container.start()
        else:
            container.remove(force=True)  # the volume keeps the data
            state = ContainerState(spec.name, False, False, "absent")
    if not state.exists:
        _ensure_image(client, spec.image)
        try:
            client.volumes.get(spec.volume)
        except errors.NotFound:
            client.volumes.create(spec.volume, labels={LABEL: LABEL_VALUE})
        kwargs: dict[str, Any] = dict(
            command=list(build_server_args(spec.password)), name=spec.name, detach=True,
            labels={LABEL: LABEL_VALUE, SPEC_LABEL: spec.fingerprint},
            ports={f"{CONTAINER_PORT}/tcp": (HOST_IP, spec.port)},
            volumes={spec.volume: {"bind": "/data", "mode": "rw"}},
            restart_policy={"Name": "unless-stopped"},
        )
        try:
            if start:
                client.containers.run(spec.image, **kwargs)
            else:
                kwargs.pop("detach")
                client.containers.create(spec.image, **kwargs)
                return read_state(client, spec.name)
        except errors.APIError as exc:
            raise ProcessError(f"docker could not start {spec.name} from {spec.image}: {exc.explanation or exc}",
                               hint=f"docker logs {spec.name}; is port {spec.port} free on {HOST_IP}?") from exc
    return _wait_ready(client, spec, timeout)


def _wait_ready(client: Any, spec: ContainerSpec, timeout: float) -> ContainerState:
    deadline = time.monotonic() + timeout
    while True:
        state = read_state(client, spec.name)
        if state.exists and not state.running and state.status in ("exited", "dead"):
            tail = container_logs(spec.name, tail=15, client=client)
            raise ProcessError(f"container {spec.name} exited while starting:\n{tail}",
                               hint=f"docker logs {spec.name}")
        if state.running and _ping(spec.port, spec.password):
            return state
        if time.monotonic() >= deadline:
            raise OpsTimeoutError(f"container {spec.name} did not answer PING on {HOST_IP}:{spec.port} "
                                  f"within {timeout:g}s", hint=f"docker logs {spec.name}")
        time.sleep(0.1)


def stop_container(name: str = CONTAINER_NAME, *, timeout: float = 15.0, client: Any = None) -> ContainerState:
    """Stop our container (SIGTERM, then SIGKILL after `timeout`); data stays in the volume."""
    client = client or docker_client()
    state = read_state(client, name)
    if not state.exists or not state.running:
        return state
    if not state.ours:
        raise ConflictError(f"container {name} was not created by cmem-ops", hint=f"docker stop {name}")
    client.containers.get(name).stop(timeout=int(timeout))
    return read_state(client, name)


def remove_container(name: str = CONTAINER_NAME, *, volume: str = VOLUME_NAME, purge_volume: bool = False,
                     timeout: float = 15.0, client: Any = None) -> tuple[bool, bool]:
    """Stop and remove our container; remove its volume only with `purge_volume`. Returns what was removed."""
    client = client or docker_client()
    errors = _errors()
    state = read_state(client, name)
    removed = False
    if state.exists:
        if not state.ours:
            raise ConflictError(f"container {name} was not created by cmem-ops", hint=f"docker rm -f {name}")
        container = client.containers.get(name)
        if state.running:
            container.stop(timeout=int(timeout))  # graceful: the server flushes its AOF
        container.remove()
        removed = True
    volume_removed = False
    if purge_volume:
        try:
            client.volumes.get(volume).remove()
            volume_removed = True
        except errors.NotFound:
            pass
    return removed, volume_removed


def container_logs(name: str = CONTAINER_NAME, *, tail: int = 100, client: Any = None) -> str:
    """The last `tail` lines the container wrote."""
    client = client or docker_client()
    errors = _errors()
    try:
        raw: bytes = client.containers.get(name).logs(tail=tail)
    except errors.NotFound:
        return ""
    return raw.decode("utf-8", errors="replace")
