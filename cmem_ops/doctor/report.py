"""The doctor's result and the one rule that turns results into an exit code."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from ..exit_codes import ExitCode
from ..probes.base import ProbeResult, Status


@dataclass(frozen=True)
class DoctorReport:
    """Every probe result, in display order, and how long the run took."""

    results: tuple[ProbeResult, ...]
    elapsed_ms: float
    timeout_s: float

    @property
    def counts(self) -> dict[str, int]:
        counter = Counter(r.status.value for r in self.results)
        return {s.value: counter.get(s.value, 0) for s in Status}

    @property
    def exit_code(self) -> ExitCode:
        return exit_code_for(self.results)


def exit_code_for(results: Iterable[ProbeResult]) -> ExitCode:
    """FAILED when a required check failed; warnings and optional failures do not fail the run (pure)."""
    return ExitCode.FAILED if any(r.status is Status.FAIL and r.required for r in results) else ExitCode.OK
