"""`cmem-ops metrics [--serve]`: wiring only; the work is in cmem_ops/metrics/."""

from __future__ import annotations

import sys
from argparse import Namespace
from pathlib import Path

from ..errors import UsageError
from . import output


def metrics(args: Namespace) -> int:
    """Print the exposition once (or the snapshot with --json); with --serve, serve /metrics until Ctrl-C."""
    from ..context import build_context

    if args.serve:
        from ..metrics.serve import plan_from_options, serve_metrics

        if args.as_json:
            raise UsageError("--json prints one snapshot; it cannot be combined with --serve",
                             hint="cmem-ops metrics --json")
        plan = plan_from_options(args.listen, args.allow_remote, Path(args.token_file) if args.token_file else None)
        serve_metrics(build_context(), plan, args.timeout, args.docker)
        return 0
    from ..metrics.snapshot import collect

    snap = collect(build_context(), args.timeout, args.docker)
    if args.as_json:
        output.print_envelope("metrics", True, snap)
    else:
        from ..metrics.exposition import format_exposition

        sys.stdout.write(format_exposition(snap))
    return 0
