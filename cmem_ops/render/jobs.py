"""Text views of stuck generation jobs and their recovery (pure `format_*`)."""

from __future__ import annotations

from ..jobs.recover import JobOutcome, RecoveryReport, StuckReport, format_commands
from ..jobs.stuck import JobState


def format_job_state(state: JobState) -> str:
    """`  stuck    <job id> (attempt 1/3): <reason>` (pure)."""
    job = state.job
    return f"  {state.verdict.value:<8} {job.id} (attempt {job.attempts}/{job.max_attempts}): {state.reason}"


def format_stuck(report: StuckReport) -> list[str]:
    """Every processing job with its verdict, then the commands that recover the stuck ones (pure)."""
    if not report.jobs:
        return ["No generation job is processing."]
    lines = [f"{len(report.jobs)} job(s) processing, {len(report.stuck)} stuck:"]
    lines += [format_job_state(s) for s in report.jobs]
    if report.stuck:
        lines += ["Recover them: cmem-ops jobs recover", "Or by hand:"]
        lines += [f"  {c}" for c in format_commands(report)]
    return lines


def format_outcome(outcome: JobOutcome) -> str:
    """One recovered (or not) job (pure)."""
    lock = "lock deleted, " if outcome.lock_deleted else ""
    if outcome.ok:
        return f"  {outcome.job_id}: {lock}cancelled, retried -> {outcome.final_status or 'queued'}"
    return f"  {outcome.job_id}: not recovered: {outcome.note}"


def format_recovery(report: RecoveryReport) -> list[str]:
    """What `cmem-ops jobs recover` found and did (pure)."""
    if not report.found.stuck:
        return ["No stuck generation job: nothing to recover."]
    if report.dry_run:
        return [f"{len(report.found.stuck)} stuck job(s); would run:", *(f"  {c}" for c in report.commands)]
    lines = [f"Recovered {sum(1 for o in report.outcomes if o.ok)} of {len(report.found.stuck)} stuck job(s) "
             f"in {report.elapsed_ms / 1000:.2f} s:"]
    lines += [format_outcome(o) for o in report.outcomes]
    return lines
