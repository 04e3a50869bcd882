"""Console-script entry point: parse, import the one handler needed, run it, render any error once."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from ..errors import OpsError
from .parser import HelpShown, load_handler, parse, split_words


def main(argv: Sequence[str] | None = None) -> int:
    """Run `cmem-ops ARGV`; returns the exit code. No traceback reaches the user (see internal.py)."""
    args = list(sys.argv[1:] if argv is None else argv)
    as_json = "--json" in args
    words, _ = split_words(args)
    name = ".".join(words) or "cmem-ops"
    try:
        command, namespace = parse(args)
        return int(load_handler(command)(namespace))
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
    from .output import report_error

    if isinstance(exc, OpsError):
        return report_error(name, as_json, exc)
    if isinstance(exc, KeyboardInterrupt):
        return report_error(name, as_json, OpsError("interrupted (Ctrl-C)"), "Interrupted")
    from .internal import internal_error  # the one place an unexpected exception is turned into a message

    return report_error(name, as_json, internal_error(exc), "InternalError")
