"""The one exception tree of cmem-ops, caught once at the CLI edge.

    OpsError(message, hint)          base; carries the next command to run
    ├── ConfigError                  settings.json / environment invalid        -> exit 3
    ├── MissingError                 a program or package is not installed      -> exit 4
    ├── ConflictError                a port or pid is held by someone else      -> exit 5
    ├── OpsTimeoutError              a wait ran past its deadline               -> exit 6
    ├── NotRunningError              the component is not running               -> exit 7
    ├── UsageError                   a flag's value is invalid                  -> exit 2
    └── ProcessError                 a child failed to start / stop, a command failed -> exit 1
"""

from __future__ import annotations

from .exit_codes import ExitCode


class OpsError(Exception):
    """An expected failure with a message that names the thing and a hint with the next step."""

    exit_code: ExitCode = ExitCode.FAILED

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class ConfigError(OpsError):
    """Settings (environment or settings.json) are invalid."""

    exit_code = ExitCode.CONFIG


class MissingError(OpsError):
    """A program, package or binary we need is not installed."""

    exit_code = ExitCode.MISSING


class ConflictError(OpsError):
    """A resource (port, pid, container) is held by something that is not ours."""

    exit_code = ExitCode.CONFLICT


class OpsTimeoutError(OpsError):
    """A wait ran past its deadline."""

    exit_code = ExitCode.TIMEOUT


class NotRunningError(OpsError):
    """The component asked about is not running."""

    exit_code = ExitCode.NOT_RUNNING


class ProcessError(OpsError):
    """A child process failed to start or stop, or a command we ran failed."""

    exit_code = ExitCode.FAILED


class UsageError(OpsError):
    """A command-line value is invalid (beyond what the parser checks)."""

    exit_code = ExitCode.USAGE
