"""`cmem-ops up`: ensure the queue store, then run the doctor."""

from __future__ import annotations

from argparse import Namespace

from . import output


def up(args: Namespace) -> int:
    """Start (or check) the store, then print its status and the doctor's report."""
    from ..context import build_context
    from ..doctor.suite import DoctorOptions
    from ..lifecycle import up as up_service
    from ..lifecycle.up import UpResult
    from ..render.doctor import format_report
    from ..render.store import format_store_status

    def action() -> UpResult:
        return up_service.up(build_context(), DoctorOptions(timeout=args.timeout, smoke=not args.no_smoke),
                             output.say, timeout=args.timeout)

    def render(result: UpResult) -> list[output.Line]:
        return [*format_store_status(result.store), "", *format_report(result.doctor)]

    def data(result: UpResult) -> dict[str, object]:
        return {"store": result.store, "doctor": result.doctor.to_data()}

    return output.run("up", args.as_json, action, render, lambda r: r.doctor.exit_code, data)
