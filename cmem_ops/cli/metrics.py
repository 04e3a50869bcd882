"""`cmem-ops metrics [--serve]`: wiring only; the work is in cmem_ops/metrics/."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from ..context import build_context
from ..errors import UsageError
from ..exit_codes import describe_exit_codes
from . import output

DEFAULT_LISTEN = "127.0.0.1:9464"  # cmem_ops.metrics.serve.DEFAULT_LISTEN (not imported: prometheus stays lazy)


def metrics(
    serve: bool = typer.Option(False, "--serve", help="Serve /metrics over HTTP instead of printing once."),
    listen: str = typer.Option(DEFAULT_LISTEN, "--listen", help="HOST:PORT for --serve (loopback by default)."),
    allow_remote: bool = typer.Option(False, "--allow-remote",
                                      help="Allow a non-loopback --listen address (needs --token-file)."),
    token_file: Path = typer.Option(None, "--token-file",
                                    help="File holding the bearer token every scrape must send."),
    timeout: float = typer.Option(2.0, "--timeout", min=0.1, help="Seconds per round trip to each source."),
    as_json: bool = typer.Option(False, "--json", help="Print the snapshot as a versioned JSON envelope."),
) -> None:
    """Prometheus metrics of the queue lanes (bullmq_job_count), the store, Postgres jobs and the server.

    Without --serve, prints the text exposition once. With --serve, answers GET /metrics with a fresh
    reading each time; anything but loopback needs --allow-remote and --token-file.
    """
    if serve:
        from ..metrics.serve import plan_from_options, serve_metrics

        with output.guard(None):
            if as_json:
                raise UsageError("--json prints one snapshot; it cannot be combined with --serve",
                                 hint="cmem-ops metrics --json")
            plan = plan_from_options(listen, allow_remote, token_file)
            serve_metrics(build_context(), plan, timeout)
        raise typer.Exit(0)
    from ..metrics.exposition import format_exposition
    from ..metrics.snapshot import MetricsSnapshot, collect

    def render(snap: MetricsSnapshot, console: Console) -> None:
        console.file.write(format_exposition(snap))

    output.run("metrics", as_json, lambda: collect(build_context(), timeout), render)


def register(app: typer.Typer) -> None:
    """Add `metrics` to the root command."""
    app.command(epilog=describe_exit_codes())(metrics)
