"""Run a plan's command steps through the Runner, prefixing `sudo` only when needed and allowed.

Interactive runs may let sudo ask for a password on the terminal; non-interactive runs use
`sudo -n`, so they never prompt: they fail with the exact command to run instead.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import MissingError, ProcessError
from ..host.detect import Host
from ..runner import Runner
from .base import InstallPlan, Step, StepKind

STEP_TIMEOUT = 900.0
OnStep = Callable[[Step, tuple[str, ...]], None]


@dataclass(frozen=True)
class StepResult:
    """A command step as it ran."""

    argv: tuple[str, ...]
    returncode: int
    elapsed_ms: float


def prepare_argv(step: Step, host: Host, *, interactive: bool) -> tuple[str, ...]:
    """The argv to run for `step` on `host`: sudo (-n when non-interactive) only for root steps (pure)."""
    if not step.needs_root or host.is_root:
        return step.argv
    if not host.has_sudo:
        raise MissingError(f"`{shlex.join(step.argv)}` needs root, and this user is not root and has no sudo",
                           hint=f"run as root: {shlex.join(step.argv)}")
    return ("sudo", *step.argv) if interactive else ("sudo", "-n", *step.argv)


def manual_commands(plan: InstallPlan, host: Host) -> list[str]:
    """The plan's command steps as a user would type them (sudo where needed) (pure)."""
    return [shlex.join(("sudo", *s.argv) if s.needs_root and not host.is_root else s.argv)
            for s in plan.steps if s.kind is StepKind.COMMAND]


def apply_commands(plan: InstallPlan, host: Host, runner: Runner, *, interactive: bool,
                   timeout: float = STEP_TIMEOUT, on_step: OnStep | None = None) -> list[StepResult]:
    """Run the COMMAND steps of `plan` in order; stop at the first failure with the exact command to retry."""
    results = []
    for step in plan.steps:
        if step.kind is not StepKind.COMMAND:
            continue
        argv = prepare_argv(step, host, interactive=interactive)
        if on_step:
            on_step(step, argv)
        t0 = time.monotonic()
        out = runner.run(list(argv), timeout=timeout)
        results.append(StepResult(argv, out.returncode, (time.monotonic() - t0) * 1000))
        if out.ok:
            continue
        typed = shlex.join(("sudo", *step.argv) if step.needs_root and not host.is_root else step.argv)
        tail = "\n".join((out.stderr or out.stdout).strip().splitlines()[-10:])
        if argv[:2] == ("sudo", "-n") and "password" in (out.stderr or "").lower():
            raise ProcessError(f"`{typed}` needs a sudo password, and non-interactive runs never prompt",
                               hint=f"run it yourself: {typed}   then rerun: cmem-ops install --non-interactive")
        raise ProcessError(f"`{shlex.join(argv)}` failed with exit code {out.returncode}:\n{tail}",
                           hint=f"fix the cause above, then retry: {typed}")
    return results
