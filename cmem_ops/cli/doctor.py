"""`cmem-ops status` and `cmem-ops doctor`: plain print, no rich, services imported only here."""

from __future__ import annotations

from argparse import Namespace

from ..exit_codes import ExitCode
from . import output
from .store import status_code


def status(args: Namespace) -> int:
    """Print the stack summary; exit 0 when the queue store answers, 7 when it is not running, 1 when it runs
    with a problem (stopped by a signal, not answering as configured, the wrong role), 3 on bad settings.

    With --watch, redraw every --interval seconds with per-lane rates until Ctrl-C (exit 0).
    With --json a non-zero exit always comes with `ok: false` and the reason in `data.problem` or
    `data.store.problem`.
    """
    if args.watch:
        from .watch import status_watch

        return status_watch(args.as_json, args.timeout, args.interval)
    from ..context import build_context
    from ..lifecycle.summary import summarize
    from ..redaction import redact_text
    from ..render.summary import format_summary, summary_ok

    summary = summarize(build_context(), timeout=args.timeout)
    ok = summary_ok(summary)
    # The same codes as `store status`: a store that runs with a problem (stopped by SIGSTOP, loading,
    # a replica) is 1, not 7: "not running" would send the user to `store start`, which cannot help.
    code = (ExitCode.CONFIG if summary.problem else ExitCode.OK if ok or summary.store is None
            else status_code(summary.store))
    if args.as_json:
        output.print_envelope("status", code is ExitCode.OK, summary)
    else:
        output.print_lines([redact_text(line) for line in format_summary(summary)])
    return int(code)


def doctor(args: Namespace) -> int:
    """Run the doctor and print the report (text or JSON); returns the report's exit code."""
    from ..context import build_context
    from ..doctor.suite import run_doctor
    from ..render.doctor import format_report
    from .doctor_options import build_options

    options = build_options(args.only or (), args.timeout, not args.no_smoke, args.client)
    report = run_doctor(build_context(tolerate_bad_settings=True), options)
    return output.run("doctor", args.as_json, lambda: report, format_report, lambda r: r.exit_code,
                      lambda r: r.to_data())
