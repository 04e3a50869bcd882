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

    def to_data(self) -> dict[str, object]:
        """The `data` of the doctor's JSON envelope (keys pinned by a contract test)."""
        return {"results": list(self.results), "counts": self.counts, "elapsed_ms": self.elapsed_ms,
                "timeout_s": self.timeout_s, "exit_code": int(self.exit_code)}


def exit_code_for(results: Iterable[ProbeResult]) -> ExitCode:
    """FAILED when a required check failed; warnings and optional failures do not fail the run (pure)."""
    return ExitCode.FAILED if any(r.status is Status.FAIL and r.required for r in results) else ExitCode.OK
