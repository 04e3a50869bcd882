"""Console-script entry point: parse, import the one handler needed, run it, render any error once.

Start-up and the garbage collector: importing the parser and one command's modules allocates tens
of thousands of objects that live as long as the process. Left alone, the collector walks them
several times while they are created and once more at exit (about 15 ms of a 100 ms `store start`).
So when this process is the CLI (`argv` is None), collection is off until the handler is loaded,
and what exists by then is frozen (`gc.freeze`: never scanned again); the command itself runs with
the collector on. Callers passing `argv` (tests) keep their collector untouched.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Run `cmem-ops ARGV`; returns the exit code. No traceback reaches the user (see internal.py)."""
    as_process = argv is None
    if as_process:
        gc.disable()
    try:
        return _main(list(sys.argv[1:] if argv is None else argv), as_process)
    finally:
        if as_process:
            gc.enable()


def _main(args: list[str], as_process: bool) -> int:
    from .parser import HelpShown, load_handler, parse, split_words  # imported with the collector off

    as_json = "--json" in args
    words, _ = split_words(args)
    name = ".".join(words) or "cmem-ops"
    try:
        command, namespace = parse(args)
        handler = load_handler(command)
        if as_process:
            gc.freeze()  # what start-up made lives as long as the process: never scan it again
            gc.enable()
        return int(handler(namespace))
    except HelpShown as shown:
        return shown.code
    except BaseException as exc:  # everything else is rendered by the one error renderer
        return _fail(name, as_json, exc)


def _fail(name: str, as_json: bool, exc: BaseException) -> int:
    """Render `exc` once (output.report_error) and return the exit code; SystemExit passes through."""
    if isinstance(exc, SystemExit):
        raise exc
    if isinstance(exc, BrokenPipeError):  # `cmem-ops logs | head`: the reader left; nothing more to say
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the interpreter's final flush does not complain
        return 0
    from ..errors import OpsError
    from .output import report_error

    if isinstance(exc, OpsError):
        return report_error(name, as_json, exc)
    if isinstance(exc, KeyboardInterrupt):
        return report_error(name, as_json, OpsError("interrupted (Ctrl-C)"), "Interrupted")
    from .internal import internal_error  # the one place an unexpected exception is turned into a message

    return report_error(name, as_json, internal_error(exc), "InternalError")
