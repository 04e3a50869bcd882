"""Find the installed claude-mem runtime: the server bundle and the interpreter that runs it.

An install lives in <data dir>/runtime/claude-mem/<version>/ and is described by its manifest
runtime.json there; <data dir>/runtime/claude-mem/current names the active version.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..paths import Paths
from ..versions import version_key

MANIFEST_NAME = "runtime.json"
CURRENT_NAME = "current"
BUN_CACHE_NAME = ".bun-cache"
BUNDLE_RELPATH = Path("npm/node_modules/claude-mem/plugin/scripts/server-service.cjs")


@dataclass(frozen=True)
class Runtime:
    """An installed claude-mem server runtime: its bundle and bun (preferred) or node to run it."""

    root: Path
    version: str
    bundle: Path  # .../node_modules/claude-mem/plugin/scripts/server-service.cjs
    bun: Path | None
    node: Path | None

    def argv(self, *args: str) -> list[str]:
        """The argv that runs the server bundle with `args`: bun with --no-install (never fetches), else node."""
        if self.bun is not None:
            return [str(self.bun), "--no-install", str(self.bundle), *args]
        if self.node is not None:
            return [str(self.node), str(self.bundle), *args]
        raise RuntimeError("Runtime has neither bun nor node")  # find_runtime never builds one

    def env(self) -> dict[str, str]:
        """Environment to add when running argv(): bun's transpiler cache inside the install, never in $HOME."""
        if self.bun is None:
            return {}
        return {"BUN_RUNTIME_TRANSPILER_CACHE_PATH": str(self.root / BUN_CACHE_NAME)}

    @property
    def interpreter(self) -> str:
        """'bun' or 'node': what argv() runs."""
        return "bun" if self.bun is not None else "node"


def runtime_base(paths: Paths) -> Path:
    """<data dir>/runtime/claude-mem: every installed version lives below it."""
    return paths.data_dir / "runtime" / "claude-mem"


def version_dir(paths: Paths, version: str) -> Path:
    """Where `version` is (or would be) installed."""
    return runtime_base(paths) / version


def read_manifest(root: Path) -> dict[str, Any] | None:
    """The manifest of the install at `root`, or None when absent or unreadable."""
    try:
        data = json.loads((root / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def runtime_from_manifest(root: Path, manifest: dict[str, Any], which: Any = shutil.which) -> Runtime | None:
    """Build the Runtime an install's manifest describes; None when its files are gone."""
    version = str(manifest.get("version") or root.name)
    bundle = root / str(manifest.get("bundle") or BUNDLE_RELPATH)
    if not bundle.is_file():
        return None
    bun: Path | None = None
    if manifest.get("bun"):
        candidate = root / str(manifest["bun"])
        bun = candidate if candidate.is_file() else None
    node_path = which("node")
    node = Path(node_path) if node_path else None
    if bun is None and node is None:
        return None
    return Runtime(root=root, version=version, bundle=bundle, bun=bun, node=node)


def installed_versions(paths: Paths) -> list[str]:
    """Versions with a manifest under the runtime dir, oldest first (release order: a beta before its release)."""
    base = runtime_base(paths)
    if not base.is_dir():
        return []
    found = [d.name for d in base.iterdir() if d.is_dir() and not d.name.startswith(".") and read_manifest(d)]
    return sorted(found, key=version_key)


def current_version(paths: Paths) -> str | None:
    """The active version named by <runtime dir>/current, if any."""
    try:
        text = (runtime_base(paths) / CURRENT_NAME).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return text or None


def find_runtime(paths: Paths, version: str | None = None) -> Runtime | None:
    """The installed runtime: `version` if given, else the active one, else the newest usable; None if none."""
    if version is not None:
        wanted = [version]
    else:
        active = current_version(paths)
        wanted = ([active] if active else []) + list(reversed(installed_versions(paths)))
    for candidate in wanted:
        root = version_dir(paths, candidate)
        manifest = read_manifest(root)
        if manifest is None:
            continue
        runtime = runtime_from_manifest(root, manifest)
        if runtime is not None:
            return runtime
    return None
