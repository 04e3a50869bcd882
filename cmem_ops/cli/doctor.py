"""`cmem-ops doctor` and `status` (both run cli/quick.py's light path), and registration of `logs`."""

from __future__ import annotations

import typer

from ..exit_codes import describe_exit_codes
from .logs import logs
from .quick import DoctorArgs, doctor_main, status_main

JSON_OPTION = typer.Option(False, "--json", help="Print a versioned JSON envelope instead of text.")



def doctor(
    as_json: bool = JSON_OPTION,
    only: list[str] = typer.Option(None, "--only",
                                   help="Check only these groups: store, postgres, server, queue, files."),
    timeout: float = typer.Option(15.0, "--timeout", min=0.5, help="Deadline for the whole run, in seconds."),
    no_smoke: bool = typer.Option(False, "--no-smoke", help="Skip the BullMQ smoke job."),
    client: str = typer.Option("auto", "--client", help="BullMQ client for the smoke: auto, node or python."),
) -> None:
    """Check every layer (queue store, Postgres, server HTTP, files) and print the fix for each problem.

    Checks run concurrently under one deadline. Required checks decide the exit code: 0 when none
    failed, 1 otherwise. Warnings never fail the run.
    """
    raise typer.Exit(doctor_main(DoctorArgs(as_json, tuple(only or ()), timeout, not no_smoke, client)))


def status(
    as_json: bool = JSON_OPTION,
    timeout: float = typer.Option(1.0, "--timeout", min=0.1, help="Seconds to wait for the queue store."),
    watch: bool = typer.Option(False, "--watch", help="Redraw every second with per-lane rates; Ctrl-C quits."),
    interval: float = typer.Option(1.0, "--interval", min=0.2, help="Seconds between redraws with --watch."),
) -> None:
    """One screen: Worker / Server / Queue / Store / Persistence / Policy / one line per queue lane.

    Fast enough for a shell prompt. With --watch it redraws every second, adding each lane's rates
    (jobs done per second, backlog growth), until Ctrl-C.
    """
    if watch:
        from .watch import status_watch_main

        raise typer.Exit(status_watch_main(as_json, timeout, interval))
    raise typer.Exit(status_main(as_json, timeout))


def register(app: typer.Typer) -> None:
    """Add doctor, status and logs to the root command."""
    epilog = describe_exit_codes()
    app.command(epilog=epilog)(doctor)
    app.command(epilog=epilog)(status)
    app.command(epilog=epilog)(logs)
