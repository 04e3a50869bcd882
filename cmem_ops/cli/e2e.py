"""`cmem-ops e2e`: bring up the real stack in a private data dir and run the restart and revoke-key checks."""

from __future__ import annotations

from argparse import Namespace
from pathlib import Path
from typing import TYPE_CHECKING

from ..exit_codes import ExitCode
from . import output

if TYPE_CHECKING:  # the e2e machinery (http.server, psycopg, the steps) loads only when `e2e` runs
    from ..e2e.script import StepResult


def e2e(args: Namespace) -> int:
    """Run the end-to-end script; PASS/FAIL per step as it goes, the verdict at the end; exit 1 on any FAIL."""
    from ..e2e.script import run_e2e
    from ..render.e2e import format_step, format_verdict

    def report_step(result: StepResult) -> None:
        if not args.as_json:
            print(format_step(result), flush=True)

    if getattr(args, "docker", False):
        from ..e2e.docker import run_docker_e2e

        return output.run("e2e", args.as_json, lambda: run_docker_e2e(keep=args.keep, say=output.say,
                                                                      report_step=report_step),
                          format_verdict, lambda r: ExitCode.OK if r.ok else ExitCode.FAILED)
    runtime_from = Path(args.runtime_from) if args.runtime_from else None
    return output.run("e2e", args.as_json,
                      lambda: run_e2e(runtime_from=runtime_from, keep=args.keep, say=output.say,
                                      report_step=report_step),
                      format_verdict, lambda r: ExitCode.OK if r.ok else ExitCode.FAILED)
