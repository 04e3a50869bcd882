"""Stop our claude-mem server and workers before a restore, and start again what ran (only ours).

Only processes whose identity record proves they are ours are stopped (lifecycle/server.py and
worker.py check it); a server or worker someone else started is left alone, and named.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..context import Context
from ..lifecycle import bundle
from ..lifecycle.bundle import SERVER

Say = Callable[[str], None]


@dataclass(frozen=True)
class Quiesced:
    """What was running before we stopped it: whether our server ran, and how many workers (highest index)."""

    server: bool
    workers: int


def quiesce(ctx: Context, say: Say = lambda _m: None) -> Quiesced:
    """Stop our workers, then our server; return what ran so `resume` can start it again."""
    from ..lifecycle import server as server_service
    from ..lifecycle import worker as worker_service

    indexes = [bundle.worker_index(name) or 0 for name in bundle.worker_components(ctx.paths)
               if bundle.running_record(ctx.paths, name) is not None]
    server_ran = bundle.running_record(ctx.paths, SERVER) is not None
    if indexes:
        say(f"stopping {len(indexes)} worker(s) of ours...")
        worker_service.stop(ctx)
    if server_ran:
        say("stopping our claude-mem server...")
        server_service.stop(ctx)
    return Quiesced(server_ran, max(indexes, default=0))


def resume(ctx: Context, before: Quiesced, say: Say = lambda _m: None) -> None:
    """Start again what `quiesce` stopped (server first, then workers 1..N)."""
    from ..lifecycle import server as server_service
    from ..lifecycle import worker as worker_service

    if before.server:
        say("starting our claude-mem server again...")
        server_service.start(ctx.reload())
    if before.workers:
        say(f"starting {before.workers} worker(s) again...")
        worker_service.start(ctx.reload(), count=before.workers)
