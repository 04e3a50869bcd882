from __future__ import annotations

import io

from rich.console import Console

from cmem_ops.installers.base import InstallPlan, ProviderName, Step, StepKind
from cmem_ops.installers.select import Choice
from cmem_ops.lifecycle.uninstall import UninstallResult
from cmem_ops.render.console import render_lines
from cmem_ops.render.install import format_choices, format_host, format_plan, format_uninstall

from .conftest import captured

PLAN = InstallPlan(ProviderName.APT, (
    Step(("apt-get", "update"), True, "refresh the package lists"),
    Step(("sha256", "abc", "f.tar.gz"), False, "verify", StepKind.VERIFY),
    Step(("docker", "run", "x"), False, "run", StepKind.CONTAINER),
), notes=("a note",), product="Redis 7.0", flavour="redis", binary="/usr/bin/redis-server")


def test_format_plan_marks_root_steps_and_adds_sudo():
    assert format_plan(PLAN) == [
        "Plan: apt: Redis 7.0",
        "  1. [root] $ sudo apt-get update   (refresh the package lists)",
        "  2. [verify] abc f.tar.gz   (verify)",
        "  3. [docker SDK] docker run x   (run)",
        "  server binary: /usr/bin/redis-server",
        "  note: a note",
    ]
    assert format_plan(PLAN, as_root=True)[1] == "  1. [root] $ apt-get update   (refresh the package lists)"


def test_format_choices():
    lines = format_choices((Choice(ProviderName.APT, False, "no"), Choice(ProviderName.TARBALL, True, "yes", True),
                            Choice(ProviderName.WHEEL, True, "also")))
    assert lines == ["Providers considered (* chosen, + available, - not available):",
                     "  - apt      no", "  * tarball  yes", "  + wheel    also"]


def test_format_host():
    host = captured("debian12", tools=("sudo",), libc="glibc 2.36")
    assert format_host(host) == ("Host: Debian GNU/Linux 12 (bookworm) x86_64, glibc 2.36, sudo available, no Docker, "
                                 "stdin is not a TTY")


def test_format_uninstall_and_render():
    result = UninstallResult(False, "managed", "stopped the managed store (pid 7, shutdown)",
                             ("/d/redis/redis.conf",), ("/d/redis/data",), ("CLAUDE_MEM_REDIS_URL",),
                             ("queue data kept in /d/redis/data",))
    console = Console(file=io.StringIO(), width=100, color_system=None)
    render_lines(console, format_uninstall(result))
    assert console.file.getvalue().splitlines() == [
        "Queue store mode was managed.",
        "Stopped the managed store (pid 7, shutdown).",
        "  removed: /d/redis/redis.conf",
        "  kept: /d/redis/data",
        "Cleared settings: CLAUDE_MEM_REDIS_URL",
        "queue data kept in /d/redis/data",
    ]
