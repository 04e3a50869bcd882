"""Install the claude-mem server runtime privately: npm into a temp dir, verify, swap into place.

plan.plan_install() decides the npm argv (pure); run_install() applies it:
  1. already installed (manifest + bundle + interpreter)? mark it current and stop;
  2. node and npm present? else MissingError with this host's install command;
  3. npm install into <runtime dir>/.tmp-<version>-<random>/{npm,bun} with a private cache
     (<data dir>/cache/npm, or CMEM_OPS_NPM_CACHE), output appended to logs/runtime-install-<day>.log;
  4. verify: the bundle exists and `<interpreter> [--no-install] server-service.cjs --help` prints its usage
     (bun that cannot run here, e.g. an old CPU, falls back to node with a note);
  5. write runtime.json, swap the temp dir into <version>/ (keeping the old one until the swap is done,
     restoring it on failure), and point `current` at it.
"""

from __future__ import annotations

import json
import os
import platform
import secrets
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from ..context import Context
from ..errors import MissingError, OpsError, ProcessError
from ..host.detect import detect_host, live_libc, normalize_arch
from ..logs import tail_lines
from ..paths import ensure_private_dir, write_private_file
from ..wait import Deadline
from .locate import CURRENT_NAME, MANIFEST_NAME, Runtime, find_runtime, runtime_base, version_dir
from .pins import load_pins
from .plan import InstallPlan, node_install_hint, parse_node_version, plan_install, platform_key

DEFAULT_VERSION = "13.25.3"
KEY_NPM_CACHE = "CMEM_OPS_NPM_CACHE"
USAGE_MARKER = "Usage: server-service"


class RuntimeOutcome(StrEnum):
    """What `server install` did."""

    INSTALLED = "installed"
    ALREADY_INSTALLED = "already-installed"


@dataclass(frozen=True)
class RuntimeInstall:
    """What `cmem-ops server install` did: installed or already there, and the runtime."""

    outcome: RuntimeOutcome
    runtime: Runtime
    elapsed_s: float
    notes: tuple[str, ...] = ()


def run_install(ctx: Context, version: str = DEFAULT_VERSION, say: Callable[[str], None] = print,
                timeout: float = 600) -> RuntimeInstall:
    """Install claude-mem `version` (+ bun where supported) under the data dir; a no-op when already there."""
    t0 = time.monotonic()
    deadline = Deadline.after(timeout)
    existing = find_runtime(ctx.paths, version)
    if existing is not None and _complete(existing):
        _write_current(ctx, version)
        say(f"claude-mem {version} is already installed in {existing.root}")
        return RuntimeInstall(RuntimeOutcome.ALREADY_INSTALLED, existing, round(time.monotonic() - t0, 3))
    node, npm = _require_node_npm()
    node_version = _node_version(ctx, node)
    pins = load_pins()
    cache = Path(ctx.settings.get(KEY_NPM_CACHE) or ctx.paths.cache_dir / "npm").expanduser()
    libc = live_libc() if platform.system() == "Linux" else ""
    key = platform_key(platform.system(), normalize_arch(platform.machine()), libc)
    plan = plan_install(version, pins, npm, cache, key)
    base = ensure_private_dir(runtime_base(ctx.paths))
    ensure_private_dir(cache)
    tmp = base / f".tmp-{version}-{secrets.token_hex(4)}"
    notes = list(plan.notes)
    for note in plan.notes:
        say(f"note: {note}")
    try:
        tmp.mkdir(mode=0o700)
        log_file = ctx.paths.log_file("runtime-install")
        for step in plan.steps:
            say(f"installing {step.label} ...")
            _run_step(ctx, list(step.argv), tmp, log_file, deadline)
        bun = _verify(ctx, tmp, plan, node, node_version, pins.node_min, deadline, notes, say)
        manifest = {
            "version": version, "installed_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "bundle": str(plan.bundle), "bun": str(plan.bun) if bun else None,
            "bun_version": plan.bun_pin.version if bun and plan.bun_pin else None,
            "packages": [a for step in plan.steps for a in step.argv if "@" in a[1:]],
            "node_at_install": node, "node_version": ".".join(map(str, node_version or ())), "platform": key,
        }
        write_private_file(tmp / MANIFEST_NAME, json.dumps(manifest, indent=2) + "\n")
        _swap_into_place(tmp, version_dir(ctx.paths, version))
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    _write_current(ctx, version)
    runtime = find_runtime(ctx.paths, version)
    if runtime is None:  # pragma: no cover - we just verified these files
        raise ProcessError(f"claude-mem {version} was installed but cannot be found again in {base}",
                           hint=f"cmem-ops server install --version {version}")
    elapsed = round(time.monotonic() - t0, 3)
    say(f"installed claude-mem {version} in {elapsed:.1f} s ({runtime.interpreter})")
    return RuntimeInstall(RuntimeOutcome.INSTALLED, runtime, elapsed, tuple(notes))


def install_runtime(ctx: Context, version: str = DEFAULT_VERSION, say: Callable[[str], None] = print,
                    timeout: float = 600) -> Runtime:
    """Install claude-mem `version` privately (idempotent) and return the runtime that runs its server bundle."""
    return run_install(ctx, version, say, timeout).runtime


def _complete(runtime: Runtime) -> bool:
    # An install recorded with bun must still have it; one recorded without runs with node.
    manifest_bun = json.loads((runtime.root / MANIFEST_NAME).read_text(encoding="utf-8")).get("bun")
    return runtime.bundle.is_file() and (runtime.bun is not None or not manifest_bun)


def _require_node_npm() -> tuple[str, str]:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node and npm:
        return node, npm
    host = detect_host()
    missing = " and ".join(n for n, p in (("node", node), ("npm", npm)) if not p)
    raise MissingError(f"`{missing}` {'is' if ' and ' not in missing else 'are'} not installed or not on PATH; "
                       "cmem-ops installs claude-mem's server with npm",
                       hint=node_install_hint(host.family, host.is_root))


def _node_version(ctx: Context, node: str) -> tuple[int, ...] | None:
    out = ctx.runner.run([node, "--version"], timeout=15)
    return parse_node_version(out.stdout) if out.ok else None


def _run_step(ctx: Context, argv: list[str], cwd: Path, log_file: Path, deadline: Deadline) -> None:
    ensure_private_dir(log_file.parent)
    env = {"npm_config_update_notifier": "false", "npm_config_loglevel": "warn"}
    out = ctx.runner.run(argv, timeout=max(deadline.remaining(), 1), cwd=cwd, env=env)
    with open(log_file, "a", encoding="utf-8") as fh:
        os.chmod(log_file, 0o600)
        fh.write(f"$ {' '.join(argv)}   (in {cwd}, exit {out.returncode})\n{out.stdout}{out.stderr}\n")
    if not out.ok:
        tail = "\n".join(tail_lines([log_file], 12))
        raise ProcessError(f"`{' '.join(argv[:2])} ... {argv[-1]}` failed (exit {out.returncode}):\n{tail}",
                           hint=f"read {log_file}; check that the npm registry is reachable (npm ping), then "
                                "cmem-ops server install")


def _verify(ctx: Context, root: Path, plan: InstallPlan, node: str, node_version: tuple[int, ...] | None,
            node_min: tuple[int, ...], deadline: Deadline, notes: list[str], say: Callable[[str], None]) -> bool:
    """Prove the bundle runs; returns True when it runs with bun, False when with node. Raises when neither."""
    bundle = root / plan.bundle
    if not bundle.is_file():
        raise ProcessError(f"npm finished but the server bundle {plan.bundle} is missing in the install",
                           hint=f"cmem-ops server install --version {plan.version}   (a version without the "
                                "server runtime cannot be used)")
    scratch = root / ".verify"
    env = {"CLAUDE_MEM_DATA_DIR": str(scratch)}  # --help writes a log line: keep it out of the real data dir
    if plan.bun is not None:
        bun = root / plan.bun
        bun_env = {**env, "BUN_RUNTIME_TRANSPILER_CACHE_PATH": str(scratch / "bun-cache")}
        out = ctx.runner.run([str(bun), "--no-install", str(bundle), "--help"], timeout=max(deadline.remaining(), 5),
                             env=bun_env)
        shutil.rmtree(scratch, ignore_errors=True)
        if USAGE_MARKER in out.stdout + out.stderr:
            return True
        note = (f"bun {plan.bun_pin.version if plan.bun_pin else ''} does not run here "
                f"(exit {out.returncode}: {(out.stderr or out.stdout).strip()[:160]}); "
                "the server will run with Node.js")
        notes.append(note)
        say(f"note: {note}")
    if node_version is not None and node_version < node_min:
        raise MissingError(f"Node.js {'.'.join(map(str, node_version))} is older than {'.'.join(map(str, node_min))}, "
                           "which claude-mem's server needs when bun is not available",
                           hint=node_install_hint(detect_host().family, os.geteuid() == 0))
    out = ctx.runner.run([node, str(bundle), "--help"], timeout=max(deadline.remaining(), 5), env=env)
    shutil.rmtree(scratch, ignore_errors=True)
    if USAGE_MARKER not in out.stdout + out.stderr:
        raise ProcessError(f"the server bundle does not run with node (exit {out.returncode}): "
                           f"{(out.stderr or out.stdout).strip()[:300]}",
                           hint=f"cmem-ops server install --version {plan.version}")
    return False


def _swap_into_place(tmp: Path, target: Path) -> None:
    """Rename `tmp` to `target`; an old `target` is moved aside first and restored if the rename fails."""
    backup = target.with_name(f".old-{target.name}-{secrets.token_hex(4)}")
    had_old = target.exists()
    if had_old:
        target.rename(backup)
    try:
        tmp.rename(target)
    except OSError as exc:
        if had_old:
            backup.rename(target)
        raise OpsError(f"cannot move the new install into {target}: {exc.strerror}",
                       hint=f"check the permissions of {target.parent}") from exc
    if had_old:
        shutil.rmtree(backup, ignore_errors=True)


def _write_current(ctx: Context, version: str) -> None:
    write_private_file(runtime_base(ctx.paths) / CURRENT_NAME, version + "\n")
