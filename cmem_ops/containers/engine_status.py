"""Is Docker here, and does an engine answer? One-call answers that never raise.

    cli_installed()     the docker client is on PATH (pure over an injected `which`)
    read_engine()       EngineStatus: does an engine answer at DOCKER_HOST or the default socket, which version
    engine_answers(), docker_available()   the same answer as a bool / (bool, why)

They connect through engine.py (the only importer of the `docker` SDK) and turn every failure into a
status; the Engine itself, for acting on containers, volumes and images, is engine.py's.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import MissingError, NotRunningError
from .engine import Engine, EngineError
from .specs import CLI_NAME


@dataclass(frozen=True)
class EngineStatus:
    """Whether an engine answers, and what it said."""

    available: bool
    reason: str
    server_version: str | None = None
    api_version: str | None = None


def cli_installed(which: Callable[[str], str | None] = shutil.which) -> bool:
    """Whether the docker client is on PATH: the sign that Docker is installed at all (pure over `which`)."""
    return which(CLI_NAME) is not None


def read_engine(timeout: float = 15.0) -> EngineStatus:
    """Ask the engine (DOCKER_HOST or the default socket) for its version; a status, never an exception."""
    try:
        engine = Engine.connect(timeout)
    except (MissingError, NotRunningError) as exc:
        return EngineStatus(False, exc.message)
    try:
        version = engine.call("version", engine.client.version)
    except EngineError as exc:
        return EngineStatus(False, exc.message)
    finally:
        engine.close()
    server = str(version.get("Version") or "")
    return EngineStatus(True, f"Docker engine {server}", server, str(version.get("ApiVersion") or "") or None)


def engine_answers(timeout: float = 5.0) -> bool:
    """True when an engine answers a ping within `timeout` (never raises)."""
    return read_engine(timeout).available


def docker_available(timeout: float = 15.0) -> tuple[bool, str]:
    """(True, 'Docker engine 20.10.24') when an engine answers; else (False, why)."""
    status = read_engine(timeout)
    return status.available, status.reason
