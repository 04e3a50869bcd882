"""Text views of the claude-mem runtime install."""

from __future__ import annotations

from ..runtime.install import RuntimeInstall, RuntimeOutcome


def format_install(result: RuntimeInstall) -> list[str]:
    """The lines of `cmem-ops server install` (pure)."""
    rt = result.runtime
    head = (f"claude-mem {rt.version} is already installed" if result.outcome is RuntimeOutcome.ALREADY_INSTALLED
            else f"Installed claude-mem {rt.version} in {result.elapsed_s:.1f} s")
    lines = [head + f" ({rt.root}).",
             f"Bundle: {rt.bundle}",
             f"Runs with: {rt.interpreter} ({rt.bun or rt.node})",
             f"Command: {' '.join(rt.argv('start'))}"]
    lines += [f"Note: {note}" for note in result.notes]
    return lines
