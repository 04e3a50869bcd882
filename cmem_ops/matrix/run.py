"""Run the matrix: per target, start its server, run the doctor's store probes and the interop legs, stop it.

Per target: provision (provision.py) -> start on a free loopback port with a fresh password
(servers/) -> `doctor.suite.store_probes` against a Context whose CLAUDE_MEM_REDIS_URL points at it
(settings.json ignored, so the user's own settings cannot change the verdict) -> Node->Python and
Python->Node interop -> stop, always, whatever happened before. Targets run one after another so
their timings are comparable.
"""

from __future__ import annotations

import datetime as dt
import platform
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from ..containers.engine import pull_image
from ..context import Context
from ..doctor.suite import DoctorOptions, store_probes
from ..errors import OpsError
from ..paths import Paths
from ..probes.base import Group, ProbeResult, Status, Stopwatch
from ..redis_url import RedisTarget
from ..runner import Runner
from ..settings import KEY_ENGINE, KEY_MODE, KEY_URL, Settings
from ..store.flavour import Flavour
from ..store.ports import choose_port, port_is_free
from ..store.state import new_password
from ..store_answer import ask
from ..wait import Deadline
from .interop import run_interop
from .provision import Mode, Provision, SourceKind, image_hint, provision
from .result import InteropLeg, MatrixReport, TargetResult, Timings, Verdict, judge
from .servers.base import StartedServer, StartSpec
from .servers.docker import start_docker
from .servers.native import start_native
from .servers.service import attach_service
from .targets import Target

Progress = Callable[[str], None]


@dataclass(frozen=True)
class MatrixOptions:
    """How the matrix runs: sources allowed, time budgets, which checks."""

    mode: Mode = Mode.AUTO
    strict: bool = False
    start_timeout: float = 60.0  # per target: the server answering PING (compose included)
    probe_timeout: float = 30.0  # per target: the doctor's store probes, BullMQ smoke included
    interop_timeout: float = 20.0  # per leg step (enqueue, process)
    pull_timeout: float = 600.0
    smoke: bool = True
    interop: bool = True
    client: str = "auto"


def build_target_context(base_env: Mapping[str, str], url: str, runner: Runner) -> Context:
    """A Context pointing at `url` as an external store; settings.json is not read (pure but for Paths)."""
    env = {k: v for k, v in base_env.items() if not k.startswith("CLAUDE_MEM_") and k != "REDIS_URL"}
    if "CLAUDE_MEM_DATA_DIR" in base_env:  # the cache (the Node smoke's node_modules) stays where it is
        env["CLAUDE_MEM_DATA_DIR"] = base_env["CLAUDE_MEM_DATA_DIR"]
    env.update({KEY_URL: url, KEY_ENGINE: "bullmq", KEY_MODE: "external"})
    paths = Paths.from_env(env)
    return Context(paths, Settings(paths=paths, env=env, file_values={}), runner)


def read_server_identity(target: RedisTarget) -> tuple[Flavour, str] | None:
    """(flavour, version) from INFO server, or None when it cannot be read."""
    answer = ask(target, 2.0)
    if answer.flavour is None or answer.version is None:
        return None
    return answer.flavour, answer.version


def check_identity(target: Target, identity: tuple[Flavour, str] | None, where: str) -> ProbeResult:
    """FAIL when the server is not the target's flavour and major.minor, e.g. a drifted image tag (pure)."""
    if identity is None:
        return ProbeResult("target", where, Status.FAIL, "INFO server could not be read",
                           hint="cmem-ops doctor --only store")
    flavour, version = identity
    parts = tuple(int(p) for p in re.findall(r"\d+", version)[:3])
    label = f"{flavour.display} {version}"
    if flavour is not target.flavour or not target.matches_version(parts):
        return ProbeResult("target", where, Status.FAIL, f"the server is {label}, not {target.label}",
                           hint=f"give {target.name} a {target.label} server (e.g. {target.image_env}={target.image})")
    return ProbeResult("target", where, Status.OK, f"{label} is {target.label}")


def _start(prov: Provision, spec: StartSpec, runner: Runner) -> StartedServer:
    if prov.kind is SourceKind.NATIVE and prov.binary is not None:
        return start_native(prov.target, prov.binary, spec, runner)
    if prov.kind is SourceKind.DOCKER and prov.image:
        return start_docker(prov.target, prov.image, spec, runner)
    if prov.kind is SourceKind.SERVICE and prov.url:
        return attach_service(prov.target, prov.url, spec)
    raise AssertionError(f"nothing to start for {prov}")  # plan_provision never returns this


def run_target(prov: Provision, options: MatrixOptions, base_env: Mapping[str, str], runner: Runner,
               workroot: Path, progress: Progress) -> TargetResult:
    """Start, probe, interop, stop one target; every failure becomes the result, never an exception."""
    target = prov.target
    total = Stopwatch()
    base = TargetResult(target.name, target.flavour.value, target.version, Verdict.SKIP, prov.reason, prov.hint,
                        prov.kind.value if prov.kind else None, prov.source, prov.location)
    if prov.kind is None:
        return base
    pre = Stopwatch()
    if prov.kind is SourceKind.DOCKER and prov.pull and prov.image:
        progress(f"{target.name}: pulling {prov.image}")
        ok, error = pull_image(prov.image, options.pull_timeout)
        if not ok:
            why = f"image {prov.image} is not on this engine and `docker pull` failed: {error}"
            return replace(base, verdict=Verdict.SKIP, reason="; ".join((*prov.passed_over, why)),
                                hint=" or ".join(h for h in (prov.hint, image_hint(target)) if h),
                                timings=Timings(provision_ms=round(pre.ms, 1), total_ms=round(total.ms, 1)))
    provision_ms = round(pre.ms, 1)
    spec = StartSpec(port=choose_port(port_is_free), password=new_password(), workdir=workroot / target.name,
                     deadline=Deadline.after(options.start_timeout))
    sw = Stopwatch()
    try:
        server = _start(prov, spec, runner)
    except OpsError as exc:
        return replace(base, verdict=Verdict.FAIL, reason=f"the server did not start: {exc.message}",
                            hint=exc.hint, timings=Timings(provision_ms, round(sw.ms, 1), total_ms=round(total.ms, 1)))
    start_ms = round(sw.ms, 1)
    probes: list[ProbeResult] = []
    interop: tuple[InteropLeg, ...] = ()
    probes_ms = interop_ms = 0.0
    label = None
    try:
        identity = read_server_identity(server.target)
        label = f"{identity[0].display} {identity[1]}" if identity else None
        probes.append(check_identity(target, identity, server.target.url(redact=True)))
        progress(f"{target.name}: {label or 'server'} up in {start_ms / 1000:.2f}s ({server.description}); probing")
        ctx = build_target_context(base_env, server.target.url(), runner)
        sw = Stopwatch()
        probes += store_probes(ctx, Deadline.after(options.probe_timeout),
                              DoctorOptions(only=frozenset({Group.STORE}), timeout=options.probe_timeout,
                                            smoke=options.smoke, client=options.client))
        probes_ms = round(sw.ms, 1)
        if options.interop:
            sw = Stopwatch()
            interop = run_interop(server.target, ctx.paths.cache_dir, options.interop_timeout)
            interop_ms = round(sw.ms, 1)
    except Exception as exc:  # a bug in a probe: report it on this target, still stop the server
        probes.append(ProbeResult("matrix", target.name, Status.FAIL, f"crashed: {type(exc).__name__}: {exc}",
                                  hint="please report this with: cmem-ops matrix --json"))
    finally:
        sw = Stopwatch()
        try:
            stopped = server.stop()
        except OpsError as exc:
            stopped = f"stop failed: {exc.message}"
            probes.append(ProbeResult("stop", target.name, Status.FAIL, stopped, hint=exc.hint))
        stop_ms = round(sw.ms, 1)
    verdict, reason, hint = judge(probes, interop)
    return replace(base, verdict=verdict, reason=reason, hint=hint, server=label, probes=tuple(probes),
                        interop=interop, stopped=stopped,
                        timings=Timings(provision_ms, start_ms, probes_ms, interop_ms, stop_ms, round(total.ms, 1)))


def format_progress(result: TargetResult) -> str:
    """The stderr line after a target (pure)."""
    if result.verdict is Verdict.SKIP:
        return f"{result.target}: SKIP: {result.reason}"
    head = f"{result.target}: {result.verdict.value.upper()} in {result.timings.total_ms / 1000:.1f}s"
    return head + (f": {result.reason}" if result.reason else "")


def run_matrix(targets: Sequence[Target], options: MatrixOptions, env: Mapping[str, str], runner: Runner,
               progress: Progress = lambda _: None, workroot: Path | None = None) -> MatrixReport:
    """Provision and run every target in order; the work dir is removed unless a stop failed."""
    sw = Stopwatch()
    paths = Paths.from_env(env)
    progress(f"provisioning {len(targets)} target(s) ({options.mode.value})")
    plans = provision(paths, runner, targets, options.mode, env)
    root = workroot or Path(tempfile.mkdtemp(prefix="cmem-matrix-"))
    results: list[TargetResult] = []
    try:
        for plan in plans:
            if plan.kind is not None:
                progress(f"{plan.target.name}: {plan.kind.value}, {plan.reason}")
            result = run_target(plan, options, env, runner, root, progress)
            results.append(result)
            progress(format_progress(result))
    finally:
        if workroot is None and not any(r.stopped and r.stopped.startswith("stop failed") for r in results):
            shutil.rmtree(root, ignore_errors=True)
    environment = {"platform": f"{platform.system()} {platform.machine()}", "python": sys.version.split()[0]}
    return MatrixReport(tuple(results), options.mode.value, options.strict, round(sw.ms, 1),
                        dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(), environment)

