"""`cmem-ops status`, fast: no typer, rich or pydantic imports, so it can run in a shell prompt.

main() routes `cmem-ops status [--json] [--timeout S]` here before typer loads; `status --help`
still goes through typer.
"""

from __future__ import annotations

import sys

from ..context import build_context
from ..errors import OpsError
from ..exit_codes import ExitCode
from ..lifecycle.summary import summarize
from ..redaction import redact_text
from ..render.summary import format_summary, summary_ok
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
    try:
        ctx = build_context()
        summary = summarize(ctx, timeout=timeout)
    except OpsError as exc:
        if as_json:
            print(format_envelope(build_envelope("status", False, None, error={
                "type": type(exc).__name__, "message": exc.message, "hint": exc.hint,
                "exit_code": int(exc.exit_code)})))
        else:
            print(redact_text(f"error: {exc.message}"), file=sys.stderr)
            if exc.hint:
                print(redact_text(f"hint: {exc.hint}"), file=sys.stderr)
        return int(exc.exit_code)
    ok = summary_ok(summary)
    if as_json:
        print(format_envelope(build_envelope("status", ok, summary)))
    else:
        for line in format_summary(summary):
            print(redact_text(line))
    if summary.problem:
        return int(ExitCode.CONFIG)
    return int(ExitCode.OK if ok else ExitCode.NOT_RUNNING)
