"""Process exit codes of the `cmem-ops` CLI: one meaning each, listed in `--help`."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Closed set of exit codes; scripts may rely on these numbers."""

    OK = 0
    FAILED = 1  # an operation or a required check failed
    USAGE = 2  # bad command line (argparse's own code too)
    CONFIG = 3  # settings invalid or unreadable
    MISSING = 4  # a required program or package is not installed
    CONFLICT = 5  # something that is not ours holds the port / resource
    TIMEOUT = 6  # a wait ran past its deadline
    NOT_RUNNING = 7  # status asked about a component that is not running


def describe_exit_codes() -> str:
    """Render the exit-code table for `--help` epilogs."""
    meanings = {
        ExitCode.OK: "success",
        ExitCode.FAILED: "an operation or a required check failed",
        ExitCode.USAGE: "bad command line",
        ExitCode.CONFIG: "settings invalid or unreadable",
        ExitCode.MISSING: "a required program or package is missing",
        ExitCode.CONFLICT: "a port or resource is held by something that is not ours",
        ExitCode.TIMEOUT: "a wait ran past its deadline",
        ExitCode.NOT_RUNNING: "the component asked about is not running",
    }
    return "Exit codes: " + "; ".join(f"{int(c)} {m}" for c, m in meanings.items()) + "."
