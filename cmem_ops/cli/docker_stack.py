"""`cmem-ops stack up|down|status|logs --docker` and `cmem-ops images build`: wiring only.

The service logic is in lifecycle/docker_stack.py and images/build.py; cli/stack.py hands a
command here when --docker (or CLAUDE_MEM_STACK=docker) asks for the container stack.
"""

from __future__ import annotations

from argparse import Namespace

from ..errors import UsageError
from ..exit_codes import ExitCode
from . import output


def wanted(args: Namespace) -> bool:
    """--docker, or CLAUDE_MEM_STACK=docker (environment or settings.json)."""
    from ..context import build_context
    from ..lifecycle.docker_stack_project import wants_docker

    return wants_docker(build_context(), bool(getattr(args, "docker", False)))


def up(args: Namespace) -> int:
    """Start the container stack and wait for every health check."""
    from ..context import build_context
    from ..lifecycle import docker_stack
    from ..render.docker_stack import format_docker_stack_up

    timeout = docker_stack.UP_TIMEOUT_S if args.timeout is None else args.timeout
    return output.run("stack.up", args.as_json,
                      lambda: docker_stack.up(build_context(), workers=args.workers, timeout=timeout,
                                              say=lambda msg: output.say(f"starting {msg}")),
                      format_docker_stack_up)


def down(args: Namespace) -> int:
    """Remove the project's containers; volumes and secrets only with --purge-data."""
    from ..context import build_context
    from ..lifecycle import docker_stack
    from ..render.docker_stack import format_docker_stack_down

    return output.run("stack.down", args.as_json,
                      lambda: docker_stack.down(build_context(), purge_data=bool(getattr(args, "purge_data", False)),
                                                timeout=args.timeout),
                      format_docker_stack_down)


def status(args: Namespace) -> int:
    """Each service from `docker compose ps` and the server's probes; exit 0 only when all serve."""
    from ..context import build_context
    from ..lifecycle import docker_stack
    from ..render.docker_stack import format_docker_stack_status

    return output.run("stack.status", args.as_json,
                      lambda: docker_stack.status(build_context(), timeout=args.timeout), format_docker_stack_status,
                      lambda result: ExitCode.OK if result.healthy else ExitCode.NOT_RUNNING)


def logs(args: Namespace) -> int:
    """The services' last lines (all when none is named); --follow streams them."""
    from ..context import build_context
    from ..lifecycle import docker_stack

    if args.as_json and args.follow:
        raise UsageError("--follow never ends, so it cannot print one JSON envelope",
                         hint="cmem-ops stack logs --docker --json -n 50")
    services = list(args.services or [])
    text = docker_stack.logs(build_context(), services, lines=args.lines, follow=args.follow)
    return output.run("stack.logs", args.as_json, lambda: {"services": services, "lines": text.splitlines()},
                      lambda data: list(data["lines"]))


def images_build(args: Namespace) -> int:
    """Build every image the docker stack needs (no registry), with progress on stderr."""
    from rich.console import Console

    from ..context import build_context
    from ..images.build import NAMES, ImageResult, build_images
    from ..render.docker_stack import format_images

    names = list(args.names or NAMES)
    console = Console(stderr=True, log_path=False)

    def action() -> list[ImageResult]:
        with console.status("building images ...") as spinner:
            def on_event(name: str, message: str) -> None:
                spinner.update(f"{name}: {message}")
                console.log(f"{name}: {message}", highlight=False, markup=False)
            return build_images(build_context(), names, force=args.force, on_event=on_event)

    def render(results: list[ImageResult]) -> list[output.Line]:
        return ["Images:", *format_images(results)]

    return output.run("images.build", args.as_json, action, render,
                      lambda results: ExitCode.OK if all(r.status != "failed" for r in results) else ExitCode.FAILED)
