"""Applying command steps: sudo only when needed and allowed, never a prompt when non-interactive.

The runner is a recorder: package managers cannot run in unit tests (apt runs for real in
tests/integration/test_apt_install.py).
"""

from __future__ import annotations

import pytest

from cmem_ops.errors import MissingError, ProcessError
from cmem_ops.installers.apply import apply_commands, manual_commands, prepare_argv
from cmem_ops.installers.base import InstallPlan, ProviderName, Step, StepKind
from cmem_ops.runner import Completed

from .conftest import captured

PLAN = InstallPlan(ProviderName.APT, (
    Step(("apt-get", "update"), True, "refresh"),
    Step(("download", "x"), False, "internal", StepKind.DOWNLOAD),
    Step(("echo", "hi"), False, "user step"),
))


class Recorder:
    def __init__(self, results=None):
        self.calls = []
        self.results = results or {}

    def run(self, argv, *, timeout, env=None, cwd=None, input_text=None):
        self.calls.append(tuple(argv))
        code, err = self.results.get(tuple(argv), (0, ""))
        return Completed(tuple(argv), code, "", err)

    def spawn_detached(self, argv, *, log, env=None, cwd=None):  # pragma: no cover - unused here
        raise AssertionError("not used")


def test_root_runs_steps_as_they_are():
    runner = Recorder()
    apply_commands(PLAN, captured("debian12", root=True), runner, interactive=False)
    assert runner.calls == [("apt-get", "update"), ("echo", "hi")]


def test_sudo_non_interactive_never_prompts():
    host = captured("debian12", tools=("sudo",))
    assert prepare_argv(PLAN.steps[0], host, interactive=False) == ("sudo", "-n", "apt-get", "update")
    assert prepare_argv(PLAN.steps[0], host, interactive=True) == ("sudo", "apt-get", "update")
    assert prepare_argv(PLAN.steps[2], host, interactive=False) == ("echo", "hi")


def test_no_root_no_sudo_fails_with_the_command():
    with pytest.raises(MissingError) as info:
        apply_commands(PLAN, captured("debian12"), Recorder(), interactive=False)
    assert info.value.hint == "run as root: apt-get update"


def test_sudo_password_needed_fails_with_the_exact_command():
    runner = Recorder({("sudo", "-n", "apt-get", "update"): (1, "sudo: a password is required\n")})
    with pytest.raises(ProcessError) as info:
        apply_commands(PLAN, captured("debian12", tools=("sudo",)), runner, interactive=False)
    assert info.value.hint == "run it yourself: sudo apt-get update   then rerun: cmem-ops install --non-interactive"
    assert runner.calls == [("sudo", "-n", "apt-get", "update")]


def test_a_failing_step_stops_the_plan_with_its_output():
    runner = Recorder({("apt-get", "update"): (100, "E: Could not get lock /var/lib/apt/lists/lock\n")})
    seen = []
    with pytest.raises(ProcessError) as info:
        apply_commands(PLAN, captured("debian12", root=True), runner, interactive=False,
                       on_step=lambda step, argv: seen.append(argv))
    assert "exit code 100" in info.value.message and "Could not get lock" in info.value.message
    assert info.value.hint == "fix the cause above, then retry: apt-get update"
    assert seen == [("apt-get", "update")] and runner.calls == [("apt-get", "update")]


def test_manual_commands():
    assert manual_commands(PLAN, captured("debian12")) == ["sudo apt-get update", "echo hi"]
    assert manual_commands(PLAN, captured("debian12", root=True)) == ["apt-get update", "echo hi"]
