"""`cmem-ops logs [store|server|worker|postgres|claude-mem]` (and `cmem-ops store logs`, the same)."""

from __future__ import annotations

from argparse import Namespace

from ..errors import NotRunningError, UsageError
from . import output

# component -> the dated log files it writes (logs/<stem>-YYYY-MM-DD.log)
LOG_STEMS = {"store": "redis", "server": "server", "worker": "worker", "postgres": "postgres",
             "claude-mem": "claude-mem"}
# component -> what starts it (the hint when it has no logs yet)
STARTERS = {"store": "cmem-ops store start", "server": "cmem-ops server start",
            "worker": "cmem-ops worker start", "postgres": "cmem-ops postgres start",
            "claude-mem": "cmem-ops stack up"}


def logs(args: Namespace) -> int:
    """Print the last lines of a component's logs (text, or one envelope with --json); follow on -f."""
    return show("logs", args.component, args.lines, args.follow, args.since, args.as_json)


def show(command: str, component: str, lines: int, follow_: bool, since: str | None, as_json: bool) -> int:
    """The logs of `component`; UsageError on an unknown one, NotRunningError when it has none yet."""
    from ..context import build_context
    from ..logs import files_since, follow, tail_lines
    from ..settings import RedisMode

    if component not in LOG_STEMS:
        raise UsageError(f"no logs for {component!r}; choose one of {', '.join(LOG_STEMS)}",
                         hint="cmem-ops logs store -n 50")
    if as_json and follow_:
        raise UsageError("--follow never ends, so it cannot print one JSON envelope",
                         hint=f"cmem-ops logs {component} --json -n {lines}")
    ctx = build_context()
    paths = ctx.paths
    since_day = output.parse_date(since)
    if component == "store" and ctx.settings.redis_mode is RedisMode.DOCKER:
        from ..lifecycle import store as store_service

        found = store_service.docker_logs(ctx, lines)
        source, files = "docker", []
    else:
        stem = LOG_STEMS[component]
        files = files_since(paths.log_files(stem), since_day)
        if not files and not follow_:
            raise NotRunningError(f"no {component} logs under {paths.logs_dir} yet", hint=STARTERS[component])
        found = tail_lines(files, lines)
        source = "files"
    if as_json:
        output.print_envelope(command, True, {"component": component, "source": source,
                                             "files": [str(f) for f in files], "lines": found})
        return 0
    output.print_lines(found)
    if follow_ and source == "files":
        try:
            for line in follow(lambda: files_since(paths.log_files(LOG_STEMS[component]), since_day)):
                print(line, flush=True)
        except KeyboardInterrupt:
            pass
    return 0
