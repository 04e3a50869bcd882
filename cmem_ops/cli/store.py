"""`cmem-ops store ...`: the managed queue store (plain print: `store status` is on the fast path)."""

from __future__ import annotations

from argparse import Namespace
from typing import TYPE_CHECKING

from ..exit_codes import ExitCode
from . import output

if TYPE_CHECKING:
    from ..lifecycle.store import StoreStatus
    from ..store.binaries import ServerBinary
    from ..store.process import StartResult


def start(args: Namespace) -> int:
    """Start the managed store (a no-op when ours already runs)."""
    from ..context import build_context
    from ..lifecycle import store as store_service
    from ..render.store import format_start

    return output.run("store.start", args.as_json,
                      lambda: store_service.start(build_context(), binary=args.binary, new_port=args.new_port,
                                                  timeout=args.timeout),
                      lambda result: [format_start(result)])


def stop(args: Namespace) -> int:
    """Stop the managed store; data is kept."""
    from ..context import build_context
    from ..lifecycle import store as store_service
    from ..render.store import format_stop

    return output.run("store.stop", args.as_json, lambda: store_service.stop(build_context(), timeout=args.timeout),
                      lambda result: [format_stop(result)])


def restart(args: Namespace) -> int:
    """Stop then start the managed store on the same port."""
    from ..context import build_context
    from ..lifecycle import store as store_service
    from ..render.store import format_start

    def action() -> StartResult:
        ctx = build_context()
        store_service.stop(ctx, timeout=args.timeout)
        return store_service.start(ctx.reload(), timeout=args.timeout)

    return output.run("store.restart", args.as_json, action, lambda result: [format_start(result)])


def status_code(status: StoreStatus) -> ExitCode:
    """0 running and healthy, 7 not running, 1 running with a problem."""
    if not status.running:
        return ExitCode.NOT_RUNNING
    return ExitCode.FAILED if status.problem else ExitCode.OK


def status(args: Namespace) -> int:
    """Mode, flavour and version, address, persistence, policy, pid, uptime, data dir."""
    from ..context import build_context
    from ..lifecycle import store as store_service
    from ..render.store import format_store_status

    return output.run("store.status", args.as_json,
                      lambda: store_service.status(build_context(), timeout=args.timeout), format_store_status,
                      status_code)


def binaries(args: Namespace) -> int:
    """Every server binary found, and the one the store runs (*); exit 4 when none is usable."""
    from ..context import build_context
    from ..render.store import format_binaries
    from ..store.binaries import discover, rank

    def action() -> list[ServerBinary]:
        ctx = build_context()
        return discover(ctx.paths, ctx.runner)

    def render(found: list[ServerBinary]) -> list[str]:
        best = rank(found)
        return format_binaries(found, best[0] if best else None)

    return output.run("store.binaries", args.as_json, action, render,
                      lambda found: ExitCode.OK if rank(found) else ExitCode.MISSING)


def logs(args: Namespace) -> int:
    """The queue store's logs: the same as `cmem-ops logs store`."""
    from .logs import show

    return show("store.logs", "store", args.lines, args.follow, args.since, args.as_json)


def acl(args: Namespace) -> int:
    """Print a least-privilege ACL user for claude-mem's queue prefix (ACL SETUSER ...)."""
    from ..context import build_context
    from ..lifecycle.store_acl import format_acl_user, plan_acl_user

    return output.run("store.acl", args.as_json,
                      lambda: plan_acl_user(build_context(), args.user, args.password, args.prefix,
                                            doctor=not args.no_doctor),
                      format_acl_user)
