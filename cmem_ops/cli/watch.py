"""`cmem-ops status --watch`: wiring only (lifecycle/watch.py redraws, render/summary.py formats)."""

from __future__ import annotations

from ..errors import UsageError


def status_watch(as_json: bool, timeout: float, interval: float) -> int:
    """Redraw the status screen every `interval` s until Ctrl-C; exit 0 then."""
    from rich.console import Console
    from rich.text import Text

    from ..context import build_context
    from ..lifecycle.summary import StackSummary
    from ..lifecycle.watch import LaneRate, watch
    from ..redaction import redact_text
    from ..render.summary import format_watch

    if as_json:
        raise UsageError("--watch redraws a screen; it cannot be combined with --json", hint="cmem-ops status --json")

    def render(summary: StackSummary, rates: dict[str, LaneRate], at: float) -> Text:
        return Text("\n".join(redact_text(line) for line in format_watch(summary, rates, at)))

    return watch(build_context(), Console(highlight=False), render, interval=interval, timeout=timeout)
