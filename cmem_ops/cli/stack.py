"""`cmem-ops stack up|down|status`: queue store, Postgres, HTTP server and workers, in order."""

from __future__ import annotations

from argparse import Namespace
from typing import TYPE_CHECKING

from ..exit_codes import ExitCode
from . import docker_stack, output

if TYPE_CHECKING:
    from ..lifecycle.stack import StackUp


def up(args: Namespace) -> int:
    """Validate settings, then start (or check) every part of the stack."""
    if docker_stack.wanted(args):
        return docker_stack.up(args)
    from ..context import build_context
    from ..lifecycle import stack as stack_service
    from ..render.server import format_checks
    from ..render.stack import format_stack_up

    timeout = stack_service.UP_TIMEOUT_S if args.timeout is None else args.timeout

    def render(result: StackUp) -> list[output.Line]:
        return [*format_checks(result.checks), *format_stack_up(result)]

    return output.run("stack.up", args.as_json,
                      lambda: stack_service.up(build_context(), workers=args.workers, timeout=timeout,
                                               say=lambda msg: output.say(f"starting {msg}")), render)


def down(args: Namespace) -> int:
    """Stop what cmem-ops owns, in reverse order; data is kept."""
    if docker_stack.wanted(args):
        return docker_stack.down(args)
    from ..context import build_context
    from ..lifecycle import stack as stack_service
    from ..render.stack import format_stack_down

    return output.run("stack.down", args.as_json, lambda: stack_service.down(build_context(), timeout=args.timeout),
                      format_stack_down)


def status(args: Namespace) -> int:
    """Every part of the stack; exit 0 only when all of it runs."""
    if docker_stack.wanted(args):
        return docker_stack.status(args)
    from ..context import build_context
    from ..lifecycle import stack as stack_service
    from ..render.stack import format_stack_status

    return output.run("stack.status", args.as_json,
                      lambda: stack_service.status(build_context(), timeout=args.timeout), format_stack_status,
                      lambda result: ExitCode.OK if result.healthy else ExitCode.NOT_RUNNING)
