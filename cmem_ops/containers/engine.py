"""The one way cmem-ops acts on the Docker engine: the `docker` SDK, imported only when used.

    Engine.connect()       a client that answered a ping; MissingError / NotRunningError otherwise
    Engine                 containers (inspect, run, create, start, stop, kill, remove, logs), volumes,
                           images (list, labels, pull, import a root filesystem, build a context)
    list_images, pull_image: one-call conveniences that connect, ask, close and never raise

Whether Docker is installed and an engine answers (read_engine, engine_answers, docker_available,
cli_installed) is engine_status.py's, over Engine.connect. What a container is (RunSpec, Mount,
ContainerInfo) and the pure builders and parsers over it live in specs.py. `docker compose` has no SDK:
its argv is built in compose_argv.py and run in compose.py, the only place the docker CLI binary is
invoked. The SDK costs ~0.2 s to import, so nothing imports it at module level, and this is the only
module that imports it. Every engine failure becomes an EngineError (a ProcessError) naming the call and
the object.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

from ..errors import MissingError, NotRunningError, ProcessError
from .specs import ContainerInfo, RunSpec, build_run_kwargs, normalize_image_refs, parse_container

ENGINE_HINT = "start the Docker engine (Docker Desktop, or: sudo systemctl start docker), then rerun"
REFUSED_HINT = "the engine refused the call (message above); `docker info` and the engine's log say more"
T = TypeVar("T")


class EngineError(ProcessError):
    """The engine refused or failed a call (conflict, missing image, bad mount, ...)."""


def list_images(timeout: float = 30.0) -> frozenset[str]:
    """Every `repository:tag` the engine holds; empty when it cannot say."""
    try:
        engine = Engine.connect(timeout)
    except (MissingError, NotRunningError):
        return frozenset()
    try:
        return engine.images()
    except EngineError:
        return frozenset()
    finally:
        engine.close()


def pull_image(image: str, timeout: float = 600.0) -> tuple[bool, str]:
    """Pull `image`: (True, '') or (False, why)."""
    try:
        engine = Engine.connect(timeout)
    except (MissingError, NotRunningError) as exc:
        return False, exc.message
    try:
        engine.pull(image)
    except EngineError as exc:
        return False, exc.message
    finally:
        engine.close()
    return True, ""


class Engine:
    """A Docker SDK client that answered a ping; every call maps SDK errors to EngineError."""

    def __init__(self, client: Any) -> None:
        self.client = client

    @classmethod
    def connect(cls, timeout: float = 30.0) -> Engine:
        """A client for DOCKER_HOST (or the platform's default socket) that answered a ping."""
        import docker  # type: ignore[import-untyped]  # untyped; ~0.2 s, so only here

        try:
            client = docker.from_env(version="auto", timeout=max(1, int(timeout)))
            client.ping()
        except docker.errors.DockerException as exc:
            where = os.environ.get("DOCKER_HOST") or "the default socket"
            raise NotRunningError(f"the Docker engine does not answer at {where}: {_short(exc)}",
                                  hint=ENGINE_HINT) from exc
        except Exception as exc:  # requests' connection errors escape the SDK on some paths
            raise NotRunningError(f"the Docker engine does not answer: {_short(exc)}", hint=ENGINE_HINT) from exc
        return cls(client)

    def close(self) -> None:
        """Release the client's connection pool."""
        self.client.close()

    def call(self, what: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run one SDK call; its failure becomes EngineError naming `what`."""
        import docker
        import requests

        try:
            return fn(*args, **kwargs)
        except docker.errors.APIError as exc:
            raise EngineError(f"docker {what}: {exc.explanation or exc}", hint=REFUSED_HINT) from exc
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            raise EngineError(f"docker {what}: {_short(exc)}", hint=ENGINE_HINT) from exc

    # --- containers -----------------------------------------------------------------------------

    def container(self, name: str) -> ContainerInfo | None:
        """The container `name` (or id), or None when there is none."""
        import docker

        try:
            attrs = self.client.api.inspect_container(name)
        except docker.errors.NotFound:
            return None
        except docker.errors.APIError as exc:
            raise EngineError(f"docker inspect {name}: {exc.explanation or exc}", hint=ENGINE_HINT) from exc
        return parse_container(attrs)

    def inspect(self, name: str) -> dict[str, Any]:
        """The raw inspect document of a container (for tests and audits)."""
        result: dict[str, Any] = self.call(f"inspect {name}", self.client.api.inspect_container, name)
        return result

    def create(self, spec: RunSpec) -> ContainerInfo:
        """Create (not start) the container of `spec`."""
        self.call(f"create {spec.name} from {spec.image}", self.client.containers.create, spec.image,
                  **build_run_kwargs(spec))
        return self._must(spec.name)

    def run(self, spec: RunSpec) -> ContainerInfo:
        """Create and start the container of `spec`; a failed start removes what was created."""
        info = self.create(spec)
        try:
            self.start(spec.name)
        except EngineError:
            self.remove(spec.name, force=True)
            raise
        return self._must(info.id)

    def start(self, name: str) -> None:
        """Start a created or stopped container."""
        self.call(f"start {name}", self.client.api.start, name)

    def stop(self, name: str, timeout: float = 15.0) -> None:
        """SIGTERM (the image's stop signal), then SIGKILL after `timeout` seconds."""
        self.call(f"stop {name}", self.client.api.stop, name, timeout=max(0, int(timeout)))

    def kill(self, name: str, signal: str = "KILL") -> None:
        """Send `signal` through the engine (a manual stop: restart policies leave it stopped)."""
        self.call(f"kill {name}", self.client.api.kill, name, signal=signal)

    def remove(self, name: str, *, force: bool = False) -> None:
        """Remove the container (its named volumes stay)."""
        self.call(f"rm {name}", self.client.api.remove_container, name, force=force)

    def containers_labelled(self, label: str) -> list[str]:
        """Names of every container (running or not) carrying `label` (`key` or `key=value`)."""
        listed = self.call(f"ps --filter label={label}", self.client.api.containers, all=True,
                           filters={"label": label})
        return [str((c.get("Names") or [""])[0]).lstrip("/") for c in listed]

    def top(self, name: str) -> list[str]:
        """The command line of every process in the container (`docker top`)."""
        result = self.call(f"top {name}", self.client.api.top, name)
        titles = result.get("Titles") or []
        column = titles.index("CMD") if "CMD" in titles else len(titles) - 1
        return [str(row[column]) for row in result.get("Processes") or []]

    def logs(self, name: str, tail: int = 100) -> str:
        """The last `tail` lines the container wrote (stdout and stderr); '' when it is gone."""
        if self.container(name) is None:
            return ""
        raw: bytes = self.call(f"logs {name}", self.client.api.logs, name, tail=tail)
        return raw.decode("utf-8", errors="replace")

    def _must(self, name: str) -> ContainerInfo:
        info = self.container(name)
        if info is None:
            raise EngineError(f"container {name} vanished right after it was created", hint=ENGINE_HINT)
        return info

    # --- volumes --------------------------------------------------------------------------------

    def volume_exists(self, name: str) -> bool:
        """Whether the named volume exists."""
        import docker

        try:
            self.client.api.inspect_volume(name)
        except docker.errors.NotFound:
            return False
        return True

    def create_volume(self, name: str, labels: Mapping[str, str] | None = None) -> None:
        """Create the named volume (a no-op when it exists)."""
        if not self.volume_exists(name):
            self.call(f"volume create {name}", self.client.api.create_volume, name, labels=dict(labels or {}))

    def remove_volume(self, name: str) -> bool:
        """Remove the named volume; False when there was none."""
        if not self.volume_exists(name):
            return False
        self.call(f"volume rm {name}", self.client.api.remove_volume, name)
        return True

    # --- images ---------------------------------------------------------------------------------

    def images(self) -> frozenset[str]:
        """Every `repository:tag` the engine holds (docker.io/library/ prefixes also without)."""
        listed = self.call("images", self.client.api.images)
        return frozenset(normalize_image_refs([t for image in listed for t in image.get("RepoTags") or []]))

    def image_labels(self, ref: str) -> dict[str, str] | None:
        """The labels of image `ref`, or None when the engine has no such image."""
        import docker

        try:
            attrs = self.client.api.inspect_image(ref)
        except docker.errors.ImageNotFound:
            return None
        except docker.errors.APIError as exc:
            raise EngineError(f"docker image inspect {ref}: {exc.explanation or exc}", hint=ENGINE_HINT) from exc
        return dict((attrs.get("Config") or {}).get("Labels") or {})

    def image_id(self, ref: str) -> str | None:
        """The id of image `ref`, or None when the engine has no such image."""
        import docker

        try:
            return str(self.client.api.inspect_image(ref).get("Id") or "") or None
        except docker.errors.ImageNotFound:
            return None

    def pull(self, ref: str) -> None:
        """Pull `ref` (repository:tag; `latest` when untagged)."""
        repo, _, tag = ref.rpartition(":") if ":" in ref.split("/")[-1] else (ref, "", "latest")
        self.call(f"pull {ref}", self.client.api.pull, repo, tag=tag)

    def import_rootfs(self, tar_stream: io.BufferedIOBase | bytes, ref: str, changes: list[str]) -> None:
        """`docker import` a root filesystem tarball as `ref`, with Dockerfile `changes` (CMD, ENV, LABEL...)."""
        repo, _, tag = ref.rpartition(":")
        self.call(f"import {ref}", self.client.api.import_image_from_data, tar_stream, repository=repo, tag=tag,
                  changes=changes)

    def build(self, context_dir: str, ref: str, labels: Mapping[str, str], *,
              network_mode: str = "host", on_line: Callable[[str], None] | None = None) -> None:
        """Build `context_dir`'s Dockerfile as `ref` (host network, so package installs reach the registries)."""
        stream: Iterator[dict[str, Any]] = self.call(
            f"build {ref}", self.client.api.build, path=context_dir, tag=ref, labels=dict(labels), rm=True,
            forcerm=True, network_mode=network_mode, decode=True)
        last = ""
        for chunk in self._each(f"build {ref}", stream):
            if "error" in chunk:
                raise EngineError(f"docker build {ref}: {str(chunk['error']).strip()}\n{last}",
                                  hint=f"rebuild by hand to see every line: docker build {context_dir}")
            text = str(chunk.get("stream") or "").rstrip()
            if text:
                last = text
                if on_line is not None:
                    on_line(text)

    def _each(self, what: str, stream: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        import docker
        import requests

        try:
            yield from stream
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            raise EngineError(f"docker {what}: {_short(exc)}", hint=ENGINE_HINT) from exc

    def remove_image(self, ref: str) -> None:
        """Remove image `ref` (refused by the engine while a container uses it)."""
        self.call(f"rmi {ref}", self.client.api.remove_image, ref)


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]
