"""Text views of the compatibility matrix: the report table and the provisioning plan."""

from __future__ import annotations

from ..matrix.provision import Provision
from ..matrix.report import format_markdown
from ..matrix.result import MatrixReport


def format_plan(plans: list[Provision]) -> list[str]:
    """One line per target: where its server would come from, or why it would be skipped (pure)."""
    width = max((len(p.target.name) for p in plans), default=0)
    lines = []
    for p in plans:
        if p.kind is None:
            lines.append(f"{p.target.name:<{width}}  SKIP    {p.reason}" + (f" (fix: {p.hint})" if p.hint else ""))
        else:
            where = f"  {p.location}" if p.location and p.location not in p.reason else ""
            also = f"  ({'; '.join(p.passed_over)})" if p.passed_over else ""
            lines.append(f"{p.target.name:<{width}}  {p.kind.value:<7} {p.reason}{where}{also}")
    return lines


def format_report(report: MatrixReport) -> list[str]:
    """The markdown table and notes: readable in a terminal, pasteable into docs and CI summaries (pure)."""
    return format_markdown(report).rstrip("\n").splitlines()
