"""Is Docker usable here? The client present, the engine answering, the compose v2 plugin there.

`docker info --format '{{json .}}'` is read rather than trusted by its exit code: the 20.10 client
exits 0 when the engine is down and only says so in `ServerErrors`; the 28.x client exits 1 and
still prints a zero-filled object (no `ServerVersion`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from ..errors import OpsError
from ..runner import Runner

ENGINE_HINT = "start the engine (Docker Desktop, or `sudo systemctl start docker`)"
COMPOSE_HINT = "install the compose v2 plugin (`sudo apt-get install docker-compose-plugin`, or Docker Desktop)"


@dataclass(frozen=True)
class EngineStatus:
    """What `docker info` said."""

    available: bool
    reason: str
    server_version: str | None = None
    client_version: str | None = None


def parse_docker_info(stdout: str, stderr: str, returncode: int) -> EngineStatus:
    """Judge `docker info --format '{{json .}}'` output (pure)."""
    data: Any = None
    text = stdout.strip()
    if text:
        try:
            data = json.loads(text.splitlines()[-1] if not text.startswith("{") else text)
        except json.JSONDecodeError:
            data = None
    first_err = next((line.strip() for line in stderr.splitlines() if line.strip()), "")
    if not isinstance(data, dict):
        why = first_err or (f"`docker info` exited {returncode} with unreadable output" if returncode
                            else "`docker info` printed no JSON")
        return EngineStatus(False, why)
    client = data.get("ClientInfo") or {}
    client_version = str(client.get("Version") or "") or None
    errors = [str(e) for e in data.get("ServerErrors") or [] if str(e).strip()]
    if errors:
        return EngineStatus(False, errors[0], client_version=client_version)
    server = str(data.get("ServerVersion") or "")
    if returncode != 0 or not server:
        return EngineStatus(False, first_err or f"`docker info` exited {returncode} without a server version",
                            client_version=client_version)
    return EngineStatus(True, f"Docker engine {server}", server, client_version)


def docker_available(runner: Runner, timeout: float = 15.0) -> tuple[bool, str]:
    """(True, 'Docker engine 20.10.24') when the client runs and the engine answers; else (False, why)."""
    status = read_engine(runner, timeout)
    return status.available, status.reason


def read_engine(runner: Runner, timeout: float = 15.0) -> EngineStatus:
    """Run `docker info` and judge it; a missing client or a hang is a status, not an exception."""
    try:
        done = runner.run(["docker", "info", "--format", "{{json .}}"], timeout=timeout)
    except OpsError as exc:  # MissingError (no client) or OpsTimeoutError (engine hangs)
        return EngineStatus(False, exc.message)
    return parse_docker_info(done.stdout, done.stderr, done.returncode)


_COMPOSE_VERSION_RE = re.compile(r"v?(\d+\.\d+(?:\.\d+)?)")


def parse_compose_version(text: str) -> str | None:
    """'2.40.3' from `docker compose version` text or its `--format json` object (pure)."""
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError:
            return None
        stripped = str(data.get("version") or "") if isinstance(data, dict) else ""
    if "compose" not in stripped.lower() and not stripped.lstrip("v")[:1].isdigit():
        return None
    match = _COMPOSE_VERSION_RE.search(stripped)
    return match.group(1) if match else None


def compose_available(runner: Runner, timeout: float = 15.0) -> tuple[bool, str]:
    """(True, 'compose 2.40.3') when `docker compose version` answers; else (False, why)."""
    try:
        done = runner.run(["docker", "compose", "version"], timeout=timeout)
    except OpsError as exc:
        return False, exc.message
    version = parse_compose_version(done.stdout) if done.ok else None
    if version is None:
        first = next((line.strip() for line in (done.stderr or done.stdout).splitlines() if line.strip()), "")
        return False, first or f"`docker compose version` exited {done.returncode}"
    return True, f"compose {version}"


def parse_image_list(text: str) -> frozenset[str]:
    """Image references from `docker images --format '{{.Repository}}:{{.Tag}}'` (pure; <none> dropped)."""
    refs = set()
    for line in text.splitlines():
        ref = line.strip()
        if ref and "<none>" not in ref:
            refs.add(ref)
            if ref.startswith("docker.io/"):
                refs.add(ref.removeprefix("docker.io/").removeprefix("library/"))
    return frozenset(refs)


def list_images(runner: Runner, timeout: float = 30.0) -> frozenset[str]:
    """Every `repository:tag` the engine holds; empty when it cannot say."""
    try:
        done = runner.run(["docker", "images", "--format", "{{.Repository}}:{{.Tag}}"], timeout=timeout)
    except OpsError:
        return frozenset()
    return parse_image_list(done.stdout) if done.ok else frozenset()


def pull_image(runner: Runner, image: str, timeout: float = 600.0) -> tuple[bool, str]:
    """`docker pull IMAGE`: (True, '') or (False, the first error line)."""
    try:
        done = runner.run(["docker", "pull", "--quiet", image], timeout=timeout)
    except OpsError as exc:
        return False, exc.message
    if done.ok:
        return True, ""
    first = next((line.strip() for line in (done.stderr or done.stdout).splitlines() if line.strip()), "")
    return False, first or f"`docker pull {image}` exited {done.returncode}"
