"""What a container is, as plain data: RunSpec/Mount (what to run), ContainerInfo (what runs), pure builders.

    RunSpec, Mount         what one container runs; build_run_kwargs (the SDK call's keyword arguments)
                           and format_run_argv (the equivalent `docker run`, for plans and hints)
    ContainerInfo          what we read from a container; parse_container builds it from an inspect document
    normalize_image_refs   image tags as users write them (`docker.io/library/x:1` also as `x:1`)

No Docker SDK here (engine.py is its only importer): everything is pure and tested without an engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

CLI_NAME = "docker"


@dataclass(frozen=True)
class Mount:
    """A named volume or a host path mounted into a container."""

    source: str
    target: str
    read_only: bool = False


@dataclass(frozen=True)
class RunSpec:
    """One container: image, name, command, labels, loopback ports, mounts, restart policy."""

    image: str
    name: str
    command: tuple[str, ...] = ()
    entrypoint: tuple[str, ...] | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    ports: Mapping[int, tuple[str, int]] = field(default_factory=dict)  # container port -> (host ip, port)
    mounts: tuple[Mount, ...] = ()
    restart: str | None = "unless-stopped"
    user: str | None = None


@dataclass(frozen=True)
class ContainerInfo:
    """What we read from `inspect` of one container."""

    id: str
    name: str
    status: str
    image: str
    labels: Mapping[str, str]
    ports: Mapping[int, tuple[str, int]]
    mounts: Mapping[str, str]  # target -> volume name or host path
    pid: int = 0
    restart_count: int = 0
    cmd: tuple[str, ...] = ()
    entrypoint: tuple[str, ...] = ()
    env: tuple[str, ...] = ()

    @property
    def running(self) -> bool:
        return self.status == "running"


def build_run_kwargs(spec: RunSpec) -> dict[str, Any]:
    """Keyword arguments of `client.containers.create(image, **kwargs)` for `spec` (pure)."""
    kwargs: dict[str, Any] = {
        "name": spec.name, "labels": dict(spec.labels),
        "ports": {f"{port}/tcp": bind for port, bind in spec.ports.items()},
        "volumes": {m.source: {"bind": m.target, "mode": "ro" if m.read_only else "rw"} for m in spec.mounts},
    }
    if spec.command:
        kwargs["command"] = list(spec.command)
    if spec.entrypoint is not None:
        kwargs["entrypoint"] = list(spec.entrypoint)
    if spec.restart:
        kwargs["restart_policy"] = {"Name": spec.restart}
    if spec.user:
        kwargs["user"] = spec.user
    return kwargs


def format_run_argv(spec: RunSpec) -> tuple[str, ...]:
    """The `docker run -d ...` command equivalent to running `spec` through the SDK (pure)."""
    argv = [CLI_NAME, "run", "-d", "--name", spec.name]
    if spec.restart:
        argv += ["--restart", spec.restart]
    for key, value in spec.labels.items():
        argv += ["--label", f"{key}={value}"]
    for port, (ip, host_port) in spec.ports.items():
        argv += ["-p", f"{ip}:{host_port}:{port}"]
    for mount in spec.mounts:
        argv += ["-v", f"{mount.source}:{mount.target}" + (":ro" if mount.read_only else "")]
    if spec.user:
        argv += ["--user", spec.user]
    if spec.entrypoint is not None:
        argv += ["--entrypoint", spec.entrypoint[0] if spec.entrypoint else ""]
        return (*argv, spec.image, *spec.entrypoint[1:], *spec.command)
    return (*argv, spec.image, *spec.command)


def parse_container(attrs: Mapping[str, Any]) -> ContainerInfo:
    """The facts of an inspect document (`docker inspect C` / `container.attrs`) (pure)."""
    config = attrs.get("Config") or {}
    state = attrs.get("State") or {}
    ports: dict[int, tuple[str, int]] = {}
    for key, bindings in ((attrs.get("HostConfig") or {}).get("PortBindings") or {}).items():
        if bindings and bindings[0].get("HostPort"):
            ports[int(str(key).split("/")[0])] = (str(bindings[0].get("HostIp") or ""), int(bindings[0]["HostPort"]))
    mounts = {str(m.get("Destination")): str(m.get("Name") or m.get("Source") or "")
              for m in attrs.get("Mounts") or []}
    return ContainerInfo(
        id=str(attrs.get("Id") or ""), name=str(attrs.get("Name") or "").lstrip("/"),
        status=str(state.get("Status") or "unknown"), image=str(config.get("Image") or ""),
        labels=dict(config.get("Labels") or {}), ports=ports, mounts=mounts, pid=int(state.get("Pid") or 0),
        restart_count=int(attrs.get("RestartCount") or 0), cmd=tuple(config.get("Cmd") or ()),
        entrypoint=tuple(config.get("Entrypoint") or ()), env=tuple(config.get("Env") or ()),
    )


def normalize_image_refs(tags: list[str]) -> set[str]:
    """Image tags as users write them: `docker.io/library/x:1` also as `x:1` (pure)."""
    refs = set()
    for ref in tags:
        if ref and "<none>" not in ref:
            refs.add(ref)
            if ref.startswith("docker.io/"):
                refs.add(ref.removeprefix("docker.io/").removeprefix("library/"))
    return refs
