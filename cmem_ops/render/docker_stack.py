"""Text views of `cmem-ops stack ... --docker` and `cmem-ops images build` (pure `format_*`)."""

from __future__ import annotations

from ..images.build import ImageResult
from ..lifecycle.docker_stack import DockerStackDown, DockerStackStatus, DockerStackUp, ServiceState
from ..probes.base import ProbeResult, Status


def format_service(service: ServiceState) -> str:
    """`  claude-mem-worker  2/2 running   running, running` (pure)."""
    counts = f"{service.running}/{service.containers} running" if service.containers else "no container"
    return f"  {service.service:<18} {counts:<14} {', '.join(service.states)}"


def format_check(check: ProbeResult) -> tuple[str, Status]:
    """One probe line with its status (pure)."""
    hint = f"  (fix: {check.hint})" if check.hint and check.status in (Status.FAIL, Status.WARN) else ""
    return f"  {check.status.value:<4} {check.name:<12} {check.summary}{hint}", check.status


def format_docker_stack_up(result: DockerStackUp) -> list[str]:
    """The images, each service, and where the server answers (pure)."""
    lines = [f"Docker stack up (compose project {result.project}):"]
    lines += [f"  image {c.part:<11} {c.image}  ({c.source})" for c in result.images]
    lines += [format_service(s) for s in result.services if s.containers]
    lines.append(f"Ready in {result.elapsed_ms / 1000:.1f} s: {result.url} ({result.workers} worker"
                 f"{'s' if result.workers != 1 else ''}).")
    return lines


def format_docker_stack_status(result: DockerStackStatus) -> list[str | tuple[str, Status]]:
    """Each service, the server's probes, and the problem with its fix (pure)."""
    if not result.project:
        return [f"Docker stack: {result.problem}", f"  fix: {result.hint}"]
    lines: list[str | tuple[str, Status]] = [f"Docker stack (compose project {result.project}): "
                                             f"{'healthy' if result.healthy else 'NOT healthy'}"]
    lines += [format_service(s) for s in result.services if s.containers or s.service != "llm-double"]
    lines += [format_check(c) for c in result.checks]
    if result.problem:
        lines += [f"Problem: {result.problem}", f"  fix: {result.hint}"]
    return lines


def format_docker_stack_down(result: DockerStackDown) -> list[str]:
    """What was removed and kept (pure)."""
    title = f"Docker stack down (compose project {result.project}):" if result.project else "Docker stack down:"
    return [title, *(f"  removed: {r}" for r in result.removed), *(f"  kept: {k}" for k in result.kept)]


def format_images(results: list[ImageResult]) -> list[tuple[str, Status]]:
    """One line per image: tag, built/present/failed, seconds (pure)."""
    status = {"built": Status.OK, "present": Status.OK, "failed": Status.FAIL}
    return [(f"  {r.name:<11} {r.status:<8} {r.seconds:>6.1f} s  {r.tag or '-'}  {r.detail}".rstrip(),
             status.get(r.status, Status.WARN)) for r in results]
