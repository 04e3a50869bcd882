"""The inputs and outputs of `cmem-ops install`: options, the prompter seam, the result."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from ..host.detect import Host
from ..installers.apply import OnStep
from ..installers.base import InstallPlan, ProviderName
from ..installers.download import Progress
from ..installers.select import Choice
from ..settings import QueueEngine


class InstallAction(StrEnum):
    USE_URL = "use-url"
    USE_LOCAL = "use-local"
    INSTALLED = "installed"
    ALREADY_PRESENT = "already-present"
    SQLITE = "sqlite"


@dataclass(frozen=True)
class InstallOptions:
    """The command line of `cmem-ops install`."""

    queue: QueueEngine = QueueEngine.BULLMQ
    redis_url: str | None = None
    install_redis: bool = False
    provider: ProviderName | None = None
    version: str | None = None
    dry_run: bool = False
    non_interactive: bool = False
    start: bool = True
    ignore_local: bool = False
    redis_compat: bool = False
    base_url: str | None = None
    manifest: Path | None = None
    image: str | None = None
    timeout: float = 15.0


class Prompter(Protocol):
    """How the service asks the user (the CLI implements it on the terminal; tests script it)."""

    def choose(self, question: str, options: Sequence[str], default: int) -> int: ...

    def ask(self, question: str) -> str: ...

    def confirm_plan(self, plan: InstallPlan) -> bool: ...


@dataclass(frozen=True)
class InstallUI:
    """Optional callbacks: prompts, download progress, and a notice before each command step."""

    prompter: Prompter | None = None
    on_progress: Progress | None = None
    on_step: OnStep | None = None


@dataclass(frozen=True)
class InstallResult:
    """What `cmem-ops install` decided and did (or, with dry_run, would do)."""

    action: InstallAction
    dry_run: bool
    interactive: bool
    queue_engine: str
    mode: str | None
    url: str | None
    binary: str | None
    provider: str | None
    plan: InstallPlan | None
    would_install: InstallPlan | None
    choices: tuple[Choice, ...]
    settings: dict[str, str | None]
    host: Host
    started: bool = False
    pid: int | None = None
    port: int | None = None
    messages: tuple[str, ...] = field(default=())
