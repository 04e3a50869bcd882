"""How commands print: data to stdout (text or the JSON envelope), diagnostics to stderr."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from ..errors import OpsError, UsageError
from ..exit_codes import ExitCode
from ..redaction import redact_text
from ..result import build_envelope, format_envelope

T = TypeVar("T")


def stdout_console() -> Console:
    return Console(highlight=False, soft_wrap=True)


def stderr_console() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def format_error(exc: OpsError) -> list[str]:
    """The lines printed for an error: the message, then `hint: ...` (pure; secrets redacted)."""
    lines = [f"error: {redact_text(exc.message)}"]
    if exc.hint:
        lines.append(f"hint: {redact_text(exc.hint)}")
    return lines


@contextmanager
def guard(json_command: str | None = None) -> Iterator[None]:
    """Turn an OpsError into its message + hint on stderr (or an error envelope) and its exit code."""
    try:
        yield
    except OpsError as exc:
        if json_command:
            envelope = build_envelope(json_command, False, None, error={
                "type": type(exc).__name__, "message": redact_text(exc.message),
                "hint": redact_text(exc.hint) if exc.hint else None, "exit_code": int(exc.exit_code)})
            stdout_console().print(format_envelope(envelope), markup=False)
        else:
            err = stderr_console()
            for line in format_error(exc):
                err.print(escape(line))
        raise typer.Exit(int(exc.exit_code)) from None


def parse_date(text: str | None) -> dt.date | None:
    """Parse a --since value (YYYY-MM-DD); a bad one is a usage error with the expected form."""
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
    render: Callable[[T, Console], None],
    exit_code: Callable[[T], ExitCode] = lambda _: ExitCode.OK,
    to_data: Callable[[T], Any] | None = None,
) -> None:
    """Run `action`, print its result as text or the JSON envelope, exit with its code.

    OpsError is caught here, once: its message and hint go to stderr (or into the envelope).
    """
    with guard(command if as_json else None):
        result = action()
        code = exit_code(result)
    if as_json:
        data = to_data(result) if to_data else result
        stdout_console().print(format_envelope(build_envelope(command, code is ExitCode.OK, data)), markup=False)
    else:
        render(result, stdout_console())
    raise typer.Exit(int(code))
