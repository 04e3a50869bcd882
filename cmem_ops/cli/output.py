"""How commands print: data to stdout (text lines or the JSON envelope), diagnostics to stderr.

Plain `print` only: rich is imported by the few commands that draw (install's prompts and
progress bar, the matrix report), never on the status / help / version paths. Errors are
rendered by one function, `report_error`, called once from main().
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import OpsError, UsageError
from ..exit_codes import ExitCode
from ..redaction import redact_text
from ..result import build_envelope, format_envelope

if TYPE_CHECKING:
    import datetime as dt

    from ..probes.base import Status

T = TypeVar("T")
Line = str | tuple[str, "Status | None"]


def say(message: str) -> None:
    """A progress or diagnostic line, on stderr."""
    print(message, file=sys.stderr, flush=True)


def color_enabled() -> bool:
    """Colour stdout only on a terminal, and never with NO_COLOR."""
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def print_lines(lines: Sequence[Line]) -> None:
    """Print text lines; (line, status) pairs in their status colour when stdout is a terminal."""
    color: bool | None = None
    for line in lines:
        if isinstance(line, str):
            print(line)
            continue
        if color is None:
            color = color_enabled()
        from ..render.doctor import format_ansi

        print(format_ansi(line[0], line[1], color))


def print_envelope(command: str, ok: bool, data: Any) -> None:
    """Print the success envelope (secrets redacted by build_envelope)."""
    print(format_envelope(build_envelope(command, ok, data)), flush=True)


def format_error(exc: OpsError) -> list[str]:
    """The lines printed for an error: the message, then `hint: ...` (pure; secrets redacted)."""
    lines = [f"error: {redact_text(exc.message)}"]
    if exc.hint:
        lines.append(f"hint: {redact_text(exc.hint)}")
    return lines


def error_data(exc: OpsError, type_name: str | None = None) -> dict[str, Any]:
    """The envelope's `error` object for `exc` (pure)."""
    return {"type": type_name or type(exc).__name__, "message": exc.message, "hint": exc.hint,
            "exit_code": int(exc.exit_code)}


def report_error(command: str, as_json: bool, exc: OpsError, type_name: str | None = None) -> int:
    """THE error renderer: one envelope on stdout with --json, else message + hint on stderr; the exit code."""
    if as_json:
        print(format_envelope(build_envelope(command, False, None, error=error_data(exc, type_name))), flush=True)
    else:
        for line in format_error(exc):
            print(line, file=sys.stderr)
    return int(exc.exit_code)


def parse_date(text: str | None) -> dt.date | None:
    """Parse a --since value (YYYY-MM-DD); a bad one is a usage error with the expected form."""
    import datetime as dt

    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--since {text!r} is not a date", hint="use the form --since 2026-11-23") from None


def run(
    command: str,
    as_json: bool,
    action: Callable[[], T],
    render: Callable[[T], Sequence[Line]],
    exit_code: Callable[[T], ExitCode] = lambda _: ExitCode.OK,
    to_data: Callable[[T], Any] | None = None,
) -> int:
    """Run `action`, print its result as text lines or the JSON envelope; return its exit code.

    An OpsError propagates to main(), which renders it once (report_error).
    """
    result = action()
    code = exit_code(result)
    if as_json:
        print_envelope(command, code is ExitCode.OK, to_data(result) if to_data else result)
    else:
        print_lines(render(result))
    return int(code)
