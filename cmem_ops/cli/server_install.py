"""`cmem-ops server install`: the claude-mem server runtime, privately under the data dir."""

from __future__ import annotations

from argparse import Namespace

from . import output


def install(args: Namespace) -> int:
    """Install claude-mem's server (npm, pinned) and bun; a no-op when present."""
    from ..context import build_context
    from ..render.runtime import format_install
    from ..runtime.install import DEFAULT_VERSION, run_install

    version = args.version or DEFAULT_VERSION
    return output.run("server.install", args.as_json,
                      lambda: run_install(build_context(), version, output.say, args.timeout), format_install)
