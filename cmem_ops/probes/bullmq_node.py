"""Run the Node BullMQ smoke (`probes/bullmq-smoke/smoke.mjs`), the client claude-mem runs.

The assets (package.json, package-lock.json, smoke.mjs) ship inside the wheel as
`cmem_ops/_assets/bullmq-smoke/`; a source checkout uses `<repo>/probes/bullmq-smoke/`.
`prepare_node_smoke` copies them into a cache dir and runs `npm ci` there only when
node_modules is missing or the lock changed; `run_node_smoke` runs the script and parses its
one JSON line into the `SmokeOutcome` shared with `bullmq_python`.

    SmokeSetupError(message, hint)   node or npm missing, assets missing, `npm ci` failed
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.resources
import json
import os
import shlex
import shutil
import time
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from ..errors import OpsError, OpsTimeoutError
from ..runner import Runner, SubprocessRunner
from ..wait import format_seconds
from .smoke import SmokeOutcome, SmokeStep, validate_smoke_args

ASSET_NAME = "bullmq-smoke"
ASSET_FILES = ("package.json", "package-lock.json", "smoke.mjs")
SCRIPT = "smoke.mjs"
# smoke.mjs reads the URL from here when --url is absent: a password in argv shows in `ps`.
URL_ENV = "CMEM_OPS_SMOKE_URL"
STAMP = ".cmem-ops-npm-ci.sha256"
NPM_CACHE = "npm-cache"
# Extra seconds the subprocess gets beyond the script's own budget (node start-up, module
# loading); the script stops itself at --timeout-ms + 0.3 s.
NODE_GRACE_S = 5.0
_TAIL_CHARS = 400


class SmokeSetupError(OpsError):
    """The Node smoke cannot be set up (node/npm missing, assets missing, npm ci failed)."""


def find_node() -> str | None:
    """Return the path of `node` on PATH, or None."""
    return shutil.which("node")


def find_npm() -> str | None:
    """Return the path of `npm` on PATH, or None."""
    return shutil.which("npm")


def locate_smoke_assets() -> Traversable:
    """Return the asset dir: the wheel's `cmem_ops/_assets/bullmq-smoke`, else the checkout's."""
    candidates: list[Traversable] = []
    with contextlib.suppress(ModuleNotFoundError, TypeError):
        candidates.append(importlib.resources.files("cmem_ops") / "_assets" / ASSET_NAME)
    candidates.append(Path(__file__).resolve().parents[2] / "probes" / ASSET_NAME)
    for candidate in candidates:
        if all((candidate / name).is_file() for name in ASSET_FILES):
            return candidate
    raise SmokeSetupError(
        f"BullMQ smoke assets ({', '.join(ASSET_FILES)}) not found in "
        + " or ".join(str(c) for c in candidates),
        hint="pip install --force-reinstall cmem-ops",
    )


def build_npm_ci_argv(npm: str) -> list[str]:
    """Return the `npm ci` argv; install scripts off, since nothing in the tree needs one."""
    return [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--omit=dev"]


def build_smoke_argv(
    node: str,
    script: Path,
    prefix: str,
    mode: str,
    queue: str,
    timeout_s: float,
    job_id: str | None = None,
) -> list[str]:
    """Return the argv that runs smoke.mjs (pure); the URL goes in `URL_ENV`, not in argv."""
    argv = [
        node, str(script), "--prefix", prefix, "--mode", mode,
        "--queue", queue, "--timeout-ms", str(max(100, round(timeout_s * 1000))),
    ]
    if job_id is not None:
        argv += ["--job-id", job_id]
    return argv


def parse_smoke_line(stdout: str) -> SmokeOutcome:
    """Parse the last JSON line smoke.mjs printed; raise ValueError when there is none."""
    lines = [line for line in stdout.splitlines() if line.strip().startswith("{")]
    if not lines:
        raise ValueError("no JSON line on stdout")
    data: Any = json.loads(lines[-1])
    if not isinstance(data, dict):
        raise ValueError("the JSON line is not an object")
    steps = tuple(
        SmokeStep(name=str(s["name"]), ok=bool(s["ok"]), ms=float(s["ms"]))
        for s in data.get("steps") or []
    )
    job_id = data.get("job_id")
    error = data.get("error")
    return SmokeOutcome(
        client=str(data["client"]),
        client_version=str(data["client_version"]),
        mode=str(data.get("mode") or "unknown"),
        ok=bool(data["ok"]),
        job_id=None if job_id is None else str(job_id),
        steps=steps,
        elapsed_ms=float(data["elapsed_ms"]),
        error=None if error is None else str(error),
    )


def digest_assets(package_json: bytes, lock: bytes) -> str:
    """Return the stamp recorded after `npm ci`: sha256 over package.json and the lock (pure)."""
    h = hashlib.sha256()
    for blob in (package_json, lock):
        h.update(len(blob).to_bytes(8, "big"))
        h.update(blob)
    return h.hexdigest()


def prepare_node_smoke(
    cache_dir: Path, timeout_s: float, *, runner: Runner | None = None
) -> Path:
    """Make `<cache_dir>/bullmq-smoke` runnable (copy assets, `npm ci` if needed); return it."""
    source = locate_smoke_assets()
    target = cache_dir / ASSET_NAME
    target.mkdir(parents=True, exist_ok=True)
    blobs = {name: (source / name).read_bytes() for name in ASSET_FILES}
    for name, blob in blobs.items():
        _write_if_changed(target / name, blob)

    digest = digest_assets(blobs["package.json"], blobs["package-lock.json"])
    stamp = target / STAMP
    if (target / "node_modules").is_dir() and _read_text(stamp) == digest:
        return target

    npm = find_npm()
    if npm is None:
        raise SmokeSetupError(
            "npm is not on PATH; the BullMQ smoke needs it once to install bullmq",
            hint="install Node.js 18+ with npm (https://nodejs.org), then: cmem-ops doctor",
        )
    stamp.unlink(missing_ok=True)
    argv = build_npm_ci_argv(npm)
    hint = f"cd {shlex.quote(str(target))} && {shlex.join(['npm', *argv[1:]])}"
    # A private npm cache: nothing outside cache_dir is written, and it goes with it.
    env = {"npm_config_cache": str(cache_dir / NPM_CACHE), "npm_config_update_notifier": "false"}
    try:
        done = (runner or SubprocessRunner()).run(argv, timeout=timeout_s, env=env, cwd=target)
    except OpsTimeoutError as exc:
        raise SmokeSetupError(f"`npm ci` in {target} did not finish within {format_seconds(timeout_s)}",
                              hint=hint) from exc
    except OpsError as exc:
        raise SmokeSetupError(f"`npm ci` in {target} could not start: {exc}", hint=hint) from exc
    if not done.ok:
        raise SmokeSetupError(
            f"`npm ci` in {target} failed (exit {done.returncode}): {_tail(done.stderr)}",
            hint=hint,
        )
    stamp.write_text(digest, encoding="utf-8")
    return target


def run_node_smoke(
    url: str,
    prefix: str,
    mode: str,
    queue: str,
    timeout_s: float,
    cache_dir: Path,
    job_id: str | None = None,
    *,
    runner: Runner | None = None,
    setup_timeout_s: float = 180.0,
    extra_env: dict[str, str] | None = None,
) -> SmokeOutcome:
    """Run smoke.mjs with the `node` on PATH; server failures come back as ok=False.

    `extra_env` is added to node's environment (NODE_EXTRA_CA_CERTS for a private CA).
    Raises SmokeSetupError when node/npm are missing or `npm ci` fails, ValueError on bad args.
    """
    validate_smoke_args(prefix, mode, queue, timeout_s, job_id)
    node = find_node()
    if node is None:
        raise SmokeSetupError(
            "node is not on PATH; the BullMQ smoke runs claude-mem's Node client",
            hint="install Node.js 18+ (https://nodejs.org), or: pip install 'cmem-ops[bullmq]'",
        )
    workdir = prepare_node_smoke(cache_dir, setup_timeout_s, runner=runner)
    argv = build_smoke_argv(node, workdir / SCRIPT, prefix, mode, queue, timeout_s, job_id)
    started = time.perf_counter()
    try:
        done = (runner or SubprocessRunner()).run(
            argv, timeout=timeout_s + NODE_GRACE_S, cwd=workdir,
            env={URL_ENV: url, "NODE_ENV": "production", "NODE_OPTIONS": "", **(extra_env or {})},
        )
    except OpsTimeoutError:
        return _failed(mode, started, f"node smoke did not exit within {timeout_s:g}s")
    except OpsError as exc:
        return _failed(mode, started, f"node smoke could not start: {exc}")
    try:
        return parse_smoke_line(done.stdout)
    except (ValueError, KeyError, TypeError) as exc:
        detail = _tail(done.stderr) or _tail(done.stdout) or "no output"
        return _failed(mode, started,
                       f"node smoke exited {done.returncode} without a result ({exc}): {detail}")


def _failed(mode: str, started: float, error: str) -> SmokeOutcome:
    return SmokeOutcome(
        client="node-bullmq", client_version="unknown", mode=mode, ok=False, job_id=None,
        steps=(), elapsed_ms=round((time.perf_counter() - started) * 1000, 1), error=error,
    )


def _tail(text: str) -> str:
    text = text.strip()
    return text if len(text) <= _TAIL_CHARS else "..." + text[-_TAIL_CHARS:]


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError:
        return None


def _write_if_changed(path: Path, blob: bytes) -> None:
    """Replace `path` atomically with `blob` unless it already holds exactly that."""
    try:
        if path.read_bytes() == blob:
            return
    except OSError:
        pass
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(blob)
    os.replace(tmp, path)

