"""`cmem-ops status` and `cmem-ops doctor`, fast: no typer, rich or pydantic imports.

main() routes these here before typer loads (typer + pydantic cost ~150 ms, more than the checks);
`--help` and anything this parser does not know go through typer, which owns the documentation.
The typer commands call the same `*_main` functions, so output never diverges.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

from ..context import build_context
from ..errors import OpsError
from ..exit_codes import ExitCode
from ..redaction import redact_text
from ..result import build_envelope, format_envelope


def parse_status_args(args: list[str]) -> tuple[bool, float] | None:
    """(as_json, timeout) when `args` are ones the fast path understands, else None (pure)."""
    as_json, timeout = False, 1.0
    it = iter(args)
    for arg in it:
        if arg == "--json":
            as_json = True
        elif arg == "--timeout" or arg.startswith("--timeout="):
            raw = arg.split("=", 1)[1] if "=" in arg else next(it, "")
            try:
                timeout = float(raw)
            except ValueError:
                return None
        else:
            return None
    return as_json, timeout


def status_main(as_json: bool, timeout: float) -> int:
    """Print the stack summary; exit 0 when the queue store answers, 7 when it does not, 3 on bad settings."""
    from ..lifecycle.summary import summarize
    from ..render.summary import format_summary, summary_ok

    try:
        ctx = build_context()
        summary = summarize(ctx, timeout=timeout)
    except OpsError as exc:
        return _print_error("status", as_json, exc)
    ok = summary_ok(summary)
    if as_json:
        print(format_envelope(build_envelope("status", ok, summary)))
    else:
        for line in format_summary(summary):
            print(redact_text(line))
    if summary.problem:
        return int(ExitCode.CONFIG)
    return int(ExitCode.OK if ok else ExitCode.NOT_RUNNING)


@dataclass(frozen=True)
class DoctorArgs:
    """The doctor's command line."""

    as_json: bool = False
    only: tuple[str, ...] = ()
    timeout: float = 15.0
    smoke: bool = True
    client: str = "auto"


def parse_doctor_args(args: list[str]) -> DoctorArgs | None:
    """DoctorArgs when every argument is one the fast path knows, else None (typer then decides) (pure)."""
    as_json, only, timeout, smoke, client = False, [], 15.0, True, "auto"
    it = iter(args)
    for arg in it:
        name, eq, inline = arg.partition("=")
        if arg == "--json":
            as_json = True
        elif arg == "--no-smoke":
            smoke = False
        elif name in ("--only", "--timeout", "--client"):
            value = inline if eq else next(it, None)
            if value is None:
                return None
            if name == "--only":
                only.append(value)
            elif name == "--client":
                client = value
            else:
                try:
                    timeout = float(value)
                except ValueError:
                    return None
                if timeout < 0.5:
                    return None
        else:
            return None
    return DoctorArgs(as_json, tuple(only), timeout, smoke, client)


def doctor_main(args: DoctorArgs) -> int:
    """Run the doctor and print the report (text or JSON); returns the exit code."""
    from ..cli.doctor_options import build_options  # pure parsing of --only / --client
    from ..doctor.suite import run_doctor
    from ..render.doctor import format_ansi, format_report

    try:
        options = build_options(args.only, args.timeout, args.smoke, args.client)
        report = run_doctor(build_context(tolerate_bad_settings=True), options)
    except OpsError as exc:
        return _print_error("doctor", args.as_json, exc)
    if args.as_json:
        print(format_envelope(build_envelope("doctor", report.exit_code is ExitCode.OK, report.to_data())))
    else:
        color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        for line, status in format_report(report):
            print(format_ansi(line, status, color))
    return int(report.exit_code)


def _print_error(command: str, as_json: bool, exc: OpsError) -> int:
    if as_json:
        print(format_envelope(build_envelope(command, False, None, error={
            "type": type(exc).__name__, "message": exc.message, "hint": exc.hint, "exit_code": int(exc.exit_code)})))
    else:
        print(redact_text(f"error: {exc.message}"), file=sys.stderr)
        if exc.hint:
            print(redact_text(f"hint: {exc.hint}"), file=sys.stderr)
    return int(exc.exit_code)
