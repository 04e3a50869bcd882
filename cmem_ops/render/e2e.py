"""Text of `cmem-ops e2e`: one PASS/FAIL/SKIP line per step, then the verdict (pure `format_*`)."""

from __future__ import annotations

from ..e2e.script import E2eReport, StepResult


def format_step(result: StepResult) -> str:
    """`PASS  name (1.2 s): detail` (pure)."""
    return f"{result.status}  {result.name} ({result.elapsed_s:.1f} s): {result.detail}"


def format_verdict(report: E2eReport) -> list[str]:
    """The closing lines (pure)."""
    passed = sum(1 for s in report.steps if s.status == "PASS")
    failed = sum(1 for s in report.steps if s.status == "FAIL")
    lines = [f"e2e: {passed} passed, {failed} failed, {len(report.steps) - passed - failed} skipped "
             f"in {report.elapsed_s:.1f} s"]
    if report.kept:
        lines.append(f"kept for a look: {report.base_dir}")
    return lines
