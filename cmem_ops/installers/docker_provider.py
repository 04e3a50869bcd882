"""The docker provider: run `valkey/valkey:<tag>` (image configurable) as the queue store.

Never installs Docker itself. The default on Windows when a Docker engine is already running.
The steps show the equivalent docker CLI; container.py carries them out through containers/engine.py.
"""

from __future__ import annotations

from pathlib import Path

from ..containers.specs import CLI_NAME
from ..host.detect import Host
from ..settings import RedisMode
from .base import Availability, InstallPlan, InstallRequest, ProviderName, Step, StepKind, Which
from .container import VOLUME_NAME, ContainerSpec, format_docker_run

DEFAULT_REPOSITORY = "valkey/valkey"
DEFAULT_TAG = "9.1"
NOT_INSTALLED = "Docker is not installed (cmem-ops never installs Docker)"
NOT_RUNNING = "the Docker engine is not running (start Docker Desktop, or `sudo systemctl start docker`)"


def image_for(request: InstallRequest) -> str:
    """`--image` when given, else valkey/valkey:<version or 9.1> (pure)."""
    return request.image or f"{DEFAULT_REPOSITORY}:{request.version or DEFAULT_TAG}"


class DockerProvider:
    """A Valkey container with a named volume, published on 127.0.0.1 only."""

    name = ProviderName.DOCKER

    def check(self, host: Host, which: Which, request: InstallRequest) -> Availability:
        if not host.docker_installed:
            return Availability(False, NOT_INSTALLED)
        if not host.docker_running:
            return Availability(False, NOT_RUNNING)
        return Availability(True, f"the Docker engine is running; runs {image_for(request)} with a named volume")

    def plan(self, host: Host, which: Which, request: InstallRequest) -> InstallPlan:
        image = image_for(request)
        spec = ContainerSpec(image=image, port=request.port or 0, password="<password>",
                             config_dir=request.store_config_dir or Path("<data dir>/redis/container"))
        run = format_docker_run(spec)
        if not request.port:
            run = tuple(a.replace("127.0.0.1:0:", "127.0.0.1:<port>:") for a in run)
        steps = (
            Step((CLI_NAME, "volume", "create", VOLUME_NAME), False,
                 "create the data volume (kept by uninstall unless --purge-data)", StepKind.CONTAINER),
            Step(run, False, "run the store: AOF everysec, noeviction, password; published on 127.0.0.1 only",
                 StepKind.CONTAINER),
        )
        notes = ("runs through the Docker engine API; `docker` above is the equivalent CLI",
                 f"the password is in {spec.config_dir}/valkey.conf (mode 0600), mounted read-only: it is not on "
                 "the container's command line or in its environment")
        return InstallPlan(ProviderName.DOCKER, steps, notes, product=f"Valkey in a container ({image})",
                           flavour="valkey", version=image.rpartition(":")[2] or None, mode=RedisMode.DOCKER.value)
