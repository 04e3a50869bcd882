"""`cmem-ops jobs stuck|recover`: generation jobs left `processing` by a killed worker."""

from __future__ import annotations

from argparse import Namespace
from typing import TYPE_CHECKING

from ..exit_codes import ExitCode
from . import output

if TYPE_CHECKING:
    from ..jobs.recover import RecoveryReport


def stuck(args: Namespace) -> int:
    """List processing jobs and which are stuck; exit 1 when any is."""
    from ..context import build_context
    from ..jobs import recover as jobs_service
    from ..render.jobs import format_stuck

    return output.run("jobs.stuck", args.as_json,
                      lambda: jobs_service.detect(build_context(), min_age_s=args.min_age,
                                                           docker=args.docker), format_stuck,
                      lambda r: ExitCode.FAILED if r.stuck else ExitCode.OK,
                      lambda r: {"jobs": list(r.jobs), "stuck": len(r.stuck),
                                 "commands": jobs_service.format_commands(r)})


def recover(args: Namespace) -> int:
    """Recover stuck jobs; exit 1 when any could not be recovered."""
    from ..context import build_context
    from ..jobs import recover as jobs_service
    from ..render.jobs import format_recovery

    def code(report: RecoveryReport) -> ExitCode:
        return ExitCode.FAILED if any(not o.ok for o in report.outcomes) else ExitCode.OK

    return output.run("jobs.recover", args.as_json,
                      lambda: jobs_service.recover(build_context(), dry_run=args.dry_run, wait_s=args.wait,
                                                   min_age_s=args.min_age, docker=args.docker),
                      format_recovery, code)
