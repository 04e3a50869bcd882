"""Console-script entry point. `status` and `doctor` take a fast path that never imports typer or rich."""

from __future__ import annotations

import sys


def main() -> int:
    """Route `status` to the light implementation; everything else to the typer app."""
    args = sys.argv[1:]
    if args[:1] == ["status"]:
        from .quick import parse_status_args, status_main

        parsed = parse_status_args(args[1:])
        if parsed is not None:
            return status_main(*parsed)
    if args[:1] == ["doctor"]:
        from .quick import doctor_main, parse_doctor_args

        doctor_args = parse_doctor_args(args[1:])
        if doctor_args is not None:
            return doctor_main(doctor_args)
    from .app import run_app

    return run_app()
