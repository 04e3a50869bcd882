"""An unexpected exception becomes an "internal error" OpsError; its traceback goes to a log file.

The traceback is appended to <data dir>/logs/cmem-ops-internal-YYYY-MM-DD.log (0600, in a 0700
dir), or printed to stderr instead when CMEM_OPS_DEBUG=1. The user sees one message and a hint.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import traceback

from ..errors import OpsError
from ..paths import FILE_MODE, Paths, ensure_private_dir

DEBUG_ENV = "CMEM_OPS_DEBUG"


def write_traceback(text: str) -> str | None:
    """Append `text` to today's internal-error log; its path, or None when it cannot be written."""
    try:
        paths = Paths.from_env()
        ensure_private_dir(paths.logs_dir)
        path = paths.log_file("cmem-ops-internal")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
        with os.fdopen(fd, "a", encoding="utf-8") as fh:
            fh.write(f"--- {dt.datetime.now().isoformat(timespec='seconds')} cmem-ops {' '.join(sys.argv[1:])}\n")
            fh.write(text)
        return str(path)
    except OSError:
        return None


def internal_error(exc: BaseException) -> OpsError:
    """The OpsError shown for an unexpected exception, after saving its traceback."""
    text = "".join(traceback.format_exception(exc))
    where: str | None = None
    if os.environ.get(DEBUG_ENV) == "1":
        print(text, file=sys.stderr, end="")
        hint = "the traceback is above; please report it with the command you ran"
    else:
        where = write_traceback(text)
        hint = (f"the traceback is in {where}; run again with {DEBUG_ENV}=1 to see it here, and please report it"
                if where else f"run again with {DEBUG_ENV}=1 to see the traceback, and please report it")
    return OpsError(f"internal error: {type(exc).__name__}: {exc}", hint=hint)
