"""Print (line, status) pairs to a rich Console, coloured by status when the console has colour."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from ..probes.base import Status
from .doctor import STYLES


def print_status_lines(console: Console, lines: list[tuple[str, Status | None]]) -> None:
    """Each line in its status colour; headings bold."""
    for text, status in lines:
        style = STYLES[status] if status is not None else "bold"
        console.print(f"[{style}]{escape(text)}[/{style}]", highlight=False, soft_wrap=True)


def render_lines(console: Console, lines: list[str]) -> None:
    """Print plain lines (no markup interpretation)."""
    for line in lines:
        console.print(escape(line), highlight=False, soft_wrap=True)
