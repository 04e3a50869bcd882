"""Text views of install plans, provider choices, and install/uninstall results (pure format_* functions)."""

from __future__ import annotations

import shlex

from ..host.detect import Host
from ..installers.base import InstallPlan, Step, StepKind
from ..installers.select import Choice
from ..lifecycle.install_options import InstallAction, InstallResult
from ..lifecycle.uninstall import UninstallResult


def format_host(host: Host) -> str:
    """One line describing the host as the installers see it (pure)."""
    facts = [host.label]
    if host.libc:
        facts.append(host.libc)
    facts.append("root" if host.is_root else ("sudo available" if host.has_sudo else "no root, no sudo"))
    if host.docker_running:
        facts.append("Docker engine running")
    elif host.docker_installed:
        facts.append("Docker installed, engine not running")
    else:
        facts.append("no Docker")
    facts.append("interactive terminal" if host.stdin_tty else "stdin is not a TTY")
    return "Host: " + ", ".join(facts)


def format_step(index: int, step: Step, *, as_root: bool) -> str:
    """'  1. [root] $ apt-get update   (refresh the package lists)' (pure)."""
    if step.kind is StepKind.COMMAND:
        argv = ("sudo", *step.argv) if step.needs_root and not as_root else step.argv
        action = f"$ {shlex.join(argv)}"
    elif step.kind is StepKind.CONTAINER:
        action = f"[docker SDK] {shlex.join(step.argv)}"
    else:
        action = f"[{step.kind.value}] {' '.join(step.argv[1:])}"
    root = "[root] " if step.needs_root else ""
    return f"  {index}. {root}{action}   ({step.description})"


def format_plan(plan: InstallPlan, *, as_root: bool = False, title: str = "Plan") -> list[str]:
    """The plan: provider and product, numbered steps, notes (pure)."""
    lines = [f"{title}: {plan.provider.value}: {plan.product}"]
    lines += [format_step(i, step, as_root=as_root) for i, step in enumerate(plan.steps, 1)]
    if plan.binary:
        lines.append(f"  server binary: {plan.binary}")
    lines += [f"  note: {note}" for note in plan.notes]
    return lines


def format_choices(choices: tuple[Choice, ...]) -> list[str]:
    """Why each provider was or was not chosen: '*' chosen, '+' available, '-' not available (pure)."""
    lines = ["Providers considered (* chosen, + available, - not available):"]
    width = max((len(c.provider.value) for c in choices), default=6)
    for choice in choices:
        mark = "*" if choice.chosen else ("+" if choice.available else "-")
        lines.append(f"  {mark} {choice.provider.value:<{width}}  {choice.reason}")
    return lines


_DECISIONS = {
    InstallAction.USE_URL: "use the configured Redis URL",
    InstallAction.USE_LOCAL: "manage a server binary already on this machine; nothing to install",
    InstallAction.INSTALLED: "install a server and manage it",
    InstallAction.ALREADY_PRESENT: "the server was already installed; manage it",
    InstallAction.SQLITE: "keep claude-mem's SQLite queue",
}


def format_install(result: InstallResult, *, explain: bool = False) -> list[str]:
    """The lines of `cmem-ops install` (pure; secrets are already redacted in the result)."""
    lines = [format_host(result.host)]
    prefix = "Dry run (nothing changed): would " if result.dry_run else "Decision: "
    lines.append(prefix + _DECISIONS[result.action] + ".")
    if result.binary:
        lines.append(f"Server: {result.binary}")
    if result.mode:
        lines.append(f"Mode: {result.mode}" + (f", {result.url}" if result.url else ""))
    lines += [f"  {m}" for m in result.messages]
    if result.plan is not None:
        lines += format_plan(result.plan, as_root=result.host.is_root,
                             title="Plan to run" if result.dry_run else "Ran")
    elif result.would_install is not None and (result.dry_run or explain):
        lines += format_plan(result.would_install, as_root=result.host.is_root,
                             title="Install plan, if one were needed (--install-redis)")
    if result.settings:
        verb = "would write" if result.dry_run else "written"
        lines.append(f"Settings ({verb}): " + ", ".join(f"{k}={'(removed)' if v is None else v}"
                                                        for k, v in result.settings.items()))
    if result.started and result.port:
        lines.append(f"Store: running on 127.0.0.1:{result.port}" + (f" (pid {result.pid})" if result.pid else ""))
    if explain:
        lines += format_choices(result.choices)
    return lines


def format_uninstall(result: UninstallResult) -> list[str]:
    """The lines of `cmem-ops uninstall` (pure)."""
    verb = "would remove" if result.dry_run else "removed"
    lines = [("Dry run (nothing changed). " if result.dry_run else "") + f"Queue store mode was {result.mode}."]
    if result.stopped:
        lines.append(result.stopped[0].upper() + result.stopped[1:] + ("" if result.stopped.endswith(".") else "."))
    lines += [f"  {verb}: {item}" for item in result.removed]
    lines += [f"  kept: {item}" for item in result.kept]
    if result.cleared_keys:
        lines.append(("Would clear" if result.dry_run else "Cleared") + " settings: " + ", ".join(result.cleared_keys))
    lines += result.messages
    if not (result.stopped or result.removed or result.cleared_keys):
        lines.append("Nothing of cmem-ops' store was installed here.")
    return lines
