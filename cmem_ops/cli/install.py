"""`cmem-ops install` and `cmem-ops uninstall`: wiring over lifecycle/install.py and uninstall.py."""

from __future__ import annotations

from argparse import Namespace
from pathlib import Path
from typing import TYPE_CHECKING

from . import output

if TYPE_CHECKING:
    from ..installers.base import Step
    from ..lifecycle.install_options import InstallResult


def install(args: Namespace) -> int:
    """Decide (and, unless --dry-run, install and start) the queue store; see `cmem-ops install --help`."""
    from rich.console import Console

    from ..context import build_context
    from ..lifecycle import install as install_service
    from ..lifecycle.install_options import InstallOptions, InstallUI
    from ..render.install import format_install
    from .prompt import TerminalPrompter, progress_bar

    ctx = build_context()
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    on_progress, close_progress = progress_bar(err)

    def on_step(step: Step, argv: tuple[str, ...]) -> None:
        output.say(f"running: {' '.join(argv)}   ({step.description})")

    opts = InstallOptions(
        queue=args.queue, redis_url=args.redis_url, install_redis=args.install_redis, provider=args.provider,
        version=args.version, dry_run=args.dry_run, non_interactive=args.non_interactive, start=not args.no_start,
        ignore_local=args.ignore_local, redis_compat=args.redis_compat, base_url=args.base_url,
        manifest=Path(args.manifest) if args.manifest else None, image=args.image, timeout=args.timeout,
    )
    ui = InstallUI(prompter=TerminalPrompter(err), on_progress=on_progress, on_step=on_step)

    def action() -> InstallResult:
        try:
            return install_service.install(ctx, opts, ui)
        finally:
            close_progress()

    return output.run("install", args.as_json, action, lambda result: format_install(result, explain=args.explain))


def uninstall(args: Namespace) -> int:
    """Stop the managed store (only if ours) and remove what cmem-ops installed; keep queue data."""
    from ..context import build_context
    from ..lifecycle import uninstall as uninstall_service
    from ..render.install import format_uninstall

    ctx = build_context()
    return output.run("uninstall", args.as_json,
                      lambda: uninstall_service.uninstall(ctx, purge_data=args.purge_data, dry_run=args.dry_run,
                                                          timeout=args.timeout),
                      format_uninstall)
