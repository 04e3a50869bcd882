"""The doctor's text view: a heading per group, one line per check (✓ ! ✗ -), the fix under each problem."""

from __future__ import annotations

from ..doctor.report import DoctorReport
from ..probes.base import Group, ProbeResult, Status
from ..redaction import redact_text

MARKS = {Status.OK: "✓", Status.WARN: "!", Status.FAIL: "✗", Status.SKIP: "-"}
STYLES = {Status.OK: "green", Status.WARN: "yellow", Status.FAIL: "red", Status.SKIP: "dim"}
TITLES = {Group.STORE: "Queue store", Group.POSTGRES: "Postgres", Group.SERVER: "claude-mem server",
          Group.FILES: "Files", Group.QUEUE: "Queue health"}


def format_result(result: ProbeResult) -> list[str]:
    """Lines for one check: the mark, name, summary; then detail and `→ fix` indented (pure)."""
    optional = " (optional)" if result.status is Status.FAIL and not result.required else ""
    lines = [f"  {MARKS[result.status]} {result.name}: {result.summary}{optional}"]
    if result.detail and result.status is not Status.OK:
        lines.append(f"      {result.detail}")
    if result.hint and result.status in (Status.FAIL, Status.WARN):
        lines.append(f"      → {result.hint}")
    return [redact_text(line) for line in lines]


def format_report(report: DoctorReport) -> list[tuple[str, Status | None]]:
    """All lines of the report, each with the status that colours it (None: heading/plain) (pure)."""
    lines: list[tuple[str, Status | None]] = []
    current: tuple[Group, str] | None = None
    for result in report.results:
        heading = (result.group, result.target)
        if current is None or heading[0] != current[0]:
            target = redact_text(result.target)
            lines.append((f"{TITLES[result.group]} {target if target.startswith('(') else f'({target})'}", None))
            current = heading
        for line in format_result(result):
            lines.append((line, result.status))
    counts = report.counts
    problems = []
    if counts["fail"]:
        problems.append(f"{counts['fail']} failed")
    if counts["warn"]:
        problems.append(f"{counts['warn']} warning{'s' if counts['warn'] != 1 else ''}")
    verdict = ", ".join(problems) if problems else "no problems"
    seconds = report.elapsed_ms / 1000
    lines.append((f"Doctor: {verdict}; {counts['ok']} ok, {counts['skip']} skipped in {seconds:.2f} s.",
                  None))
    return lines


ANSI = {Status.OK: "\033[32m", Status.WARN: "\033[33m", Status.FAIL: "\033[31m", Status.SKIP: "\033[2m"}


def format_ansi(line: str, status: Status | None, color: bool) -> str:
    """`line` in its status colour (headings bold) when `color`, else unchanged (pure)."""
    if not color:
        return line
    return f"{ANSI[status] if status is not None else chr(27) + '[1m'}{line}\033[0m"
