"""What a BullMQ smoke run reports, shared by the Node (bullmq_node) and Python (bullmq_python) clients.

Kept free of asyncio and bullmq imports so the doctor can load it cheaply.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

MODES = ("roundtrip", "enqueue", "process")
PREFIX_STEM = "cmemops_smoke_"
# The smoke deletes every key under `<prefix>:`, so only throwaway prefixes are accepted
# (claude-mem itself uses BullMQ's default prefix `bull`). Same rules as smoke.mjs.
PREFIX_RE = re.compile(r"^cmemops_smoke_[A-Za-z0-9_-]{1,64}$")
NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
MIN_TIMEOUT_S = 0.1
MAX_TIMEOUT_S = 600.0


@dataclass(frozen=True)
class SmokeStep:
    """One timed step of a smoke run (connect, add, find, process, remove, cleanup)."""

    name: str
    ok: bool
    ms: float


@dataclass(frozen=True)
class SmokeOutcome:
    """What a smoke run reports; the same fields as the JSON line of smoke.mjs."""

    client: str
    client_version: str
    mode: str
    ok: bool
    job_id: str | None
    steps: tuple[SmokeStep, ...]
    elapsed_ms: float
    error: str | None

    def to_json_dict(self) -> dict[str, Any]:
        """Return the JSON-ready dict, keys in the order smoke.mjs prints them."""
        return {
            "client": self.client,
            "client_version": self.client_version,
            "mode": self.mode,
            "ok": self.ok,
            "job_id": self.job_id,
            "steps": [{"name": s.name, "ok": s.ok, "ms": s.ms} for s in self.steps],
            "elapsed_ms": self.elapsed_ms,
            "error": self.error,
        }


def new_smoke_prefix() -> str:
    """Return a fresh throwaway key prefix, e.g. `cmemops_smoke_3f9a0c1b2d4e`."""
    return PREFIX_STEM + secrets.token_hex(6)


def validate_smoke_args(
    prefix: str, mode: str, queue: str, timeout_s: float, job_id: str | None
) -> None:
    """Raise ValueError when the arguments are not ones smoke.mjs would accept either."""
    if mode not in MODES:
        raise ValueError(f"smoke mode must be one of {', '.join(MODES)}, not {mode!r}")
    if not PREFIX_RE.match(prefix):
        raise ValueError(f"smoke prefix must match {PREFIX_RE.pattern}, not {prefix!r}")
    if not NAME_RE.match(queue):
        raise ValueError(f"smoke queue name must match {NAME_RE.pattern}, not {queue!r}")
    if job_id is not None and not NAME_RE.match(job_id):
        raise ValueError(f"smoke job id must match {NAME_RE.pattern}, not {job_id!r}")
    if mode == "process" and job_id is None:
        raise ValueError("smoke mode 'process' needs a job id")
    if not MIN_TIMEOUT_S <= timeout_s <= MAX_TIMEOUT_S:
        raise ValueError(f"smoke timeout must be {MIN_TIMEOUT_S}..{MAX_TIMEOUT_S} s, not {timeout_s}")
