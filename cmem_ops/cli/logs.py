"""`cmem-ops logs [store|server|worker|postgres|claude-mem]` (and `cmem-ops store logs`, the same)."""

from __future__ import annotations

import typer

from ..context import build_context
from ..errors import UsageError
from ..exit_codes import ExitCode
from ..lifecycle import store as store_service
from ..logs import files_since, follow, tail_lines
from ..settings import RedisMode
from . import output

# component -> the dated log files it writes (logs/<stem>-YYYY-MM-DD.log)
LOG_STEMS = {"store": "redis", "server": "server", "worker": "worker", "postgres": "postgres",
             "claude-mem": "claude-mem"}


def logs(
    component: str = typer.Argument("store", help="store, server, worker, postgres or claude-mem (the shared log)."),
    lines: int = typer.Option(50, "-n", "--lines", min=0, help="How many lines to show."),
    follow_: bool = typer.Option(False, "-f", "--follow", help="Keep printing new lines (Ctrl-C stops)."),
    since: str | None = typer.Option(None, "--since", help="Only logs from this date on (YYYY-MM-DD)."),
) -> None:
    """Show a component's dated logs (logs/<name>-YYYY-MM-DD.log) across day boundaries.

    In docker mode, `logs store` reads the container's output (docker logs) instead.
    """
    with output.guard():
        if component not in LOG_STEMS:
            raise UsageError(f"no logs for {component!r}; choose one of {', '.join(LOG_STEMS)}",
                             hint="cmem-ops logs store -n 50")
        ctx = build_context()
        paths = ctx.paths
        since_day = output.parse_date(since)
        if component == "store" and ctx.settings.redis_mode is RedisMode.DOCKER:
            for line in store_service.docker_logs(ctx, lines):
                typer.echo(line)
            return
    stem = LOG_STEMS[component]
    files = files_since(paths.log_files(stem), since_day)
    if not files and not follow_:
        typer.echo(f"no {component} logs under {paths.logs_dir} yet", err=True)
        raise typer.Exit(int(ExitCode.NOT_RUNNING))
    for line in tail_lines(files, lines):
        typer.echo(line)
    if follow_:
        try:
            for line in follow(lambda: files_since(paths.log_files(stem), since_day)):
                typer.echo(line)
        except KeyboardInterrupt:
            pass
