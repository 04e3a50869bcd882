"""The one exception tree of cmem-ops, caught once at the CLI edge.

    OpsError(message, hint)          base; carries the next command to run
    ├── ConfigError                  settings.json / environment invalid        -> exit 3
    ├── MissingError                 a program or package is not installed      -> exit 4
    ├── ConflictError                a port or pid is held by someone else      -> exit 5
    ├── OpsTimeoutError              a wait ran past its deadline               -> exit 6
    ├── NotRunningError              the component is not running               -> exit 7
    ├── UsageError                   a flag's value is invalid                  -> exit 2
    ├── ProcessError                 a child failed to start / stop, a command failed -> exit 1
    └── FileError                    the OS refused a file operation (EACCES, EPERM, EISDIR, ENOSPC) -> exit 1
"""

from __future__ import annotations

import errno as _errno
import os

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

    def described(self) -> str:
        """The message, then the hint in brackets when there is one (one line, for step reports)."""
        return f"{self.message} (hint: {self.hint})" if self.hint else self.message


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


class FileError(OpsError):
    """The OS refused to read or write a file we need (permissions, immutable flag, a directory, a full disk)."""

    exit_code = ExitCode.FAILED


_FILE_HINTS = {
    _errno.EACCES: "check its owner and mode: ls -ld {path}",
    _errno.EPERM: "it may be immutable: lsattr -d {path}   (chattr -i {path} clears it)",
    _errno.EISDIR: "a directory sits where a file belongs: move it away (mv {path} {path}.bak)",
    _errno.ENOTDIR: "a file sits where a directory belongs: move it away (mv {path} {path}.bak)",
    _errno.ENOSPC: "free disk space on the filesystem of {path}: df -h {parent}",
    _errno.EDQUOT: "free space within your disk quota: df -h {parent}",
    _errno.EROFS: "the filesystem of {path} is mounted read-only: remount it read-write or set CLAUDE_MEM_DATA_DIR",
}


def file_error(exc: OSError, doing: str, path: object = None) -> FileError:
    """A FileError naming the path, the errno and the fix for an OSError raised while `doing` (pure)."""
    where = str(path if path is not None else exc.filename or "?")
    code = _errno.errorcode.get(exc.errno or 0, "E?")
    parent = os.path.dirname(where) or "."
    hint = _FILE_HINTS.get(exc.errno or 0, "check the path: ls -ld {path}").format(path=where, parent=parent)
    return FileError(f"cannot {doing} {where}: {exc.strerror or exc} ({code})", hint=hint)
