"""Run the e2e: set up a private world, run every step (PASS/FAIL, SKIP after a failure), always tear down.

Teardown stops the stack through `cmem-ops stack down` and then, by identity, anything of ours that
survived it; on a failure it shows the logs of the failing part and keeps the data dir for a look.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from ..context import build_context
from ..errors import OpsError
from ..logs import tail_lines
from ..paths import Paths
from ..pidfile import identify
from ..runner import Runner, SubprocessRunner
from ..runtime.locate import find_runtime, runtime_base
from ..supervisor import terminate
from .fake_llm import FakeLlm
from .steps import STEPS, StepDef
from .world import StepFailed, World, private_env


class StepStatus(StrEnum):
    """A step's verdict; SKIP follows an earlier failure the step depends on."""

    PASS = "PASS"
    FAIL = "FAIL"
    SKIP = "SKIP"


PASS, FAIL, SKIP = StepStatus.PASS, StepStatus.FAIL, StepStatus.SKIP
LOG_STEMS = {"redis": "redis", "postgres": "postgres", "server": "server", "worker": "worker",
             "claude-mem": "claude-mem"}


@dataclass(frozen=True)
class StepResult:
    """One step's verdict."""

    name: str
    status: StepStatus
    elapsed_s: float
    detail: str


@dataclass(frozen=True)
class E2eReport:
    """Every step's verdict, where the world was, and whether it was kept."""

    steps: tuple[StepResult, ...]
    base_dir: str
    kept: bool
    elapsed_s: float
    runtime: str

    @property
    def ok(self) -> bool:
        return all(s.status is StepStatus.PASS for s in self.steps)


def link_runtime(source: Paths, target: Paths) -> bool:
    """Make `target` use the runtime installed under `source` (a symlink); False when there is none."""
    if find_runtime(source) is None:
        return False
    base = runtime_base(target)
    base.parent.mkdir(parents=True, exist_ok=True)
    if base.exists() or base.is_symlink():
        return True
    os.symlink(runtime_base(source).resolve(), base, target_is_directory=True)
    return True


def prepare_runtime(world_paths: Paths, runtime_from: Path | None, env: dict[str, str], runner: Runner,
                    say: Callable[[str], None]) -> str:
    """Reuse an installed runtime (from `runtime_from`, CMEM_OPS_TEST_RUNTIME_DIR, or the caller's data dir),
    else install one into the world's data dir."""
    sources = [runtime_from] if runtime_from else []
    if os.environ.get("CMEM_OPS_TEST_RUNTIME_DIR"):
        sources.append(Path(os.environ["CMEM_OPS_TEST_RUNTIME_DIR"]))
    sources.append(Paths.from_env().data_dir)
    for source in sources:
        if source and link_runtime(Paths(source), world_paths):
            runtime = find_runtime(world_paths)
            return f"claude-mem {runtime.version if runtime else '?'} reused from {source}"
    from ..runtime.install import install_runtime

    say("no installed claude-mem runtime found: installing one (npm, about 20 s)...")
    t0 = time.monotonic()
    runtime = install_runtime(build_context(env, runner), say=say)
    return f"claude-mem {runtime.version} installed in {time.monotonic() - t0:.0f} s"


def show_logs(paths: Paths, parts: tuple[str, ...], say: Callable[[str], None], lines: int = 25) -> None:
    """The tail of each failing part's log."""
    for part in parts:
        files = paths.log_files(LOG_STEMS.get(part, part))
        if not files:
            continue
        say(f"----- {files[-1]} (last {lines} lines) -----")
        for line in tail_lines(files[-1:], lines):
            say(line)


def teardown(world: World, say: Callable[[str], None]) -> str | None:
    """Stop the stack; then stop by identity whatever of ours survived. Returns a problem, or None."""
    problem = None
    try:
        world.cli("stack", "down", timeout=120)
    except (StepFailed, OpsError) as exc:
        problem = f"stack down failed: {exc}"
    for name in ("worker-1", "server", "postgres", "redis"):
        record = world.record(name) or world.started_pids.get(name)
        if record is not None and identify(record) is not None:
            terminate(record, grace_s=5)
            problem = (problem or "") + f" {name} (pid {record.pid}) survived stack down and was stopped;"
    return problem


def run_e2e(*, runtime_from: Path | None = None, keep: bool = False, say: Callable[[str], None] = print,
            report_step: Callable[[StepResult], None] = lambda _r: None, steps: tuple[StepDef, ...] = STEPS
            ) -> E2eReport:
    """Run every step against a stack in a private temporary data dir; always stop what was started."""
    t0 = time.monotonic()
    base = Path(tempfile.mkdtemp(prefix="cmem-ops-e2e-"))
    os.chmod(base, 0o711)  # Postgres runs as an unprivileged user when we are root: it must reach its PGDATA
    home = base / "home"
    home.mkdir()
    data_dir = home / ".claude-mem"
    env = private_env(os.environ, data_dir, home, base / "pg")
    runner = SubprocessRunner()
    llm = FakeLlm()
    say(f"e2e world: {base} (LLM test double on {llm.base_url})")
    world = World(base, env, runner, llm, say)
    results: list[StepResult] = []
    failed: StepDef | None = None
    runtime = ""

    def record(result: StepResult) -> None:
        results.append(result)
        report_step(result)

    try:
        data_dir.mkdir(mode=0o700, parents=True)
        t_rt = time.monotonic()
        try:
            runtime = prepare_runtime(world.paths, runtime_from, env, runner, say)
            record(StepResult("claude-mem runtime", PASS, time.monotonic() - t_rt, runtime))
        except OpsError as exc:
            record(StepResult("claude-mem runtime", FAIL, time.monotonic() - t_rt, f"{exc.message} ({exc.hint})"))
            failed = StepDef("claude-mem runtime", lambda _w: "", ())
        for step in steps:
            if failed is not None:
                record(StepResult(step.name, SKIP, 0.0, f"after the failure of: {failed.name}"))
                continue
            t_step = time.monotonic()
            try:
                detail = step.run(world)
                record(StepResult(step.name, PASS, time.monotonic() - t_step, detail))
            except StepFailed as exc:
                record(StepResult(step.name, FAIL, time.monotonic() - t_step, str(exc)))
                failed = step
            except OpsError as exc:
                record(StepResult(step.name, FAIL, time.monotonic() - t_step, exc.described()))
                failed = step
            except Exception as exc:  # a bug or an unexpected answer: report it as the step's failure
                record(StepResult(step.name, FAIL, time.monotonic() - t_step, f"{type(exc).__name__}: {exc}"))
                failed = step
    finally:
        if failed is not None:
            show_logs(world.paths, failed.parts, say)
        problem = teardown(world, say)
        llm.close()
        if problem:
            record(StepResult("teardown", FAIL, 0.0, problem))
    kept = keep or failed is not None or bool(problem)
    if not kept:
        shutil.rmtree(base, ignore_errors=True)
    return E2eReport(tuple(results), str(base), kept, time.monotonic() - t0, runtime)
