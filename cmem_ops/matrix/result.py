"""What a matrix run reports: a verdict per target with its probes, interop legs and timings.

The verdict and the exit code are pure functions of these values (`judge`, `exit_code_for`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ..exit_codes import ExitCode
from ..probes.base import ProbeResult, Status


class Verdict(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    SKIP = "skip"


@dataclass(frozen=True)
class InteropLeg:
    """One cross-client check: a job enqueued by one BullMQ client and processed by the other."""

    name: str  # "node->python" or "python->node"
    status: Status  # OK, FAIL, or SKIP when a client is missing
    summary: str
    elapsed_ms: float = 0.0
    enqueued_by: str | None = None
    processed_by: str | None = None
    job_id: str | None = None
    hint: str | None = None


@dataclass(frozen=True)
class Timings:
    """Milliseconds spent in each phase of one target."""

    provision_ms: float = 0.0
    start_ms: float = 0.0
    probes_ms: float = 0.0
    interop_ms: float = 0.0
    stop_ms: float = 0.0
    total_ms: float = 0.0


@dataclass(frozen=True)
class TargetResult:
    """One target's outcome: PASS, FAIL (with the failures) or SKIP (with the exact reason)."""

    target: str
    flavour: str
    version: str | None
    verdict: Verdict
    reason: str
    hint: str | None = None
    kind: str | None = None  # native | docker | service
    source: str = "none"
    location: str | None = None  # the binary's path, the image, or the redacted service URL
    server: str | None = None  # what the server said it is, e.g. "Valkey 9.1.2"
    probes: tuple[ProbeResult, ...] = ()
    interop: tuple[InteropLeg, ...] = ()
    timings: Timings = field(default_factory=Timings)
    stopped: str | None = None

    def probe(self, name: str) -> ProbeResult | None:
        return next((p for p in self.probes if p.name == name), None)

    @property
    def counts(self) -> dict[str, int]:
        return {s.value: sum(1 for p in self.probes if p.status is s) for s in Status}


@dataclass(frozen=True)
class MatrixReport:
    """Every target's result, in matrix order."""

    results: tuple[TargetResult, ...]
    mode: str
    strict: bool
    elapsed_ms: float
    generated_at: str
    environment: dict[str, str] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        return {v.value: sum(1 for r in self.results if r.verdict is v) for v in Verdict}

    @property
    def exit_code(self) -> ExitCode:
        return exit_code_for(self.results, self.strict)

    def to_data(self) -> dict[str, Any]:
        """The `data` of the `matrix` JSON envelope."""
        return {"mode": self.mode, "strict": self.strict, "generated_at": self.generated_at,
                "environment": self.environment, "counts": self.counts, "elapsed_ms": self.elapsed_ms,
                "exit_code": int(self.exit_code), "results": list(self.results)}


def judge(probes: Iterable[ProbeResult], interop: Iterable[InteropLeg]) -> tuple[Verdict, str, str | None]:
    """PASS unless a required probe or an interop leg failed; then FAIL naming them, with the first hint (pure)."""
    failed = [(p.name, p.summary, p.hint) for p in probes if p.status is Status.FAIL and p.required]
    failed += [(leg.name, leg.summary, leg.hint) for leg in interop if leg.status is Status.FAIL]
    if not failed:
        return Verdict.PASS, "", None
    return Verdict.FAIL, "; ".join(f"{name}: {summary}" for name, summary, _ in failed), \
        next((hint for _, _, hint in failed if hint), None)


def exit_code_for(results: Iterable[TargetResult], strict: bool = False) -> ExitCode:
    """FAILED when a target failed; with `strict`, MISSING when one was skipped; else OK (pure)."""
    verdicts = [r.verdict for r in results]
    if Verdict.FAIL in verdicts:
        return ExitCode.FAILED
    if strict and Verdict.SKIP in verdicts:
        return ExitCode.MISSING
    return ExitCode.OK
