"""`cmem-ops server install` for real: npm from the registry into a private data dir, then run the bundle.

Set CMEM_OPS_TEST_NPM_CACHE to a directory to reuse npm's cache across runs (CI: a warm cache
makes this ~5 s instead of ~20 s).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from cmem_ops.paths import Paths
from cmem_ops.runtime.locate import find_runtime
from tests.envelope import check_envelope
from tests.support import run_cli, user_env

pytestmark = [pytest.mark.slow, pytest.mark.integration]


@pytest.fixture
def env(tmp_path):
    if not (shutil.which("node") and shutil.which("npm")):
        pytest.skip("node and npm are not installed (apt-get install -y nodejs npm)")
    extra = {}
    if os.environ.get("CMEM_OPS_TEST_NPM_CACHE"):
        extra["CMEM_OPS_NPM_CACHE"] = os.environ["CMEM_OPS_TEST_NPM_CACHE"]
    return user_env(tmp_path, **extra)


def test_install_then_run_the_bundle_then_install_again_is_a_no_op(env):
    out = run_cli(env, "server", "install", timeout=600)
    if out.returncode != 0 and "npm ping" in out.stderr:
        pytest.skip(f"the npm registry is not reachable here: {out.stderr[-300:]}")
    assert out.returncode == 0, out.stderr
    assert "Installed claude-mem 13.25.3" in out.stdout
    assert "installing claude-mem 13.25.3" in out.stderr  # progress goes to stderr

    paths = Paths(Path(env["CLAUDE_MEM_DATA_DIR"]))
    runtime = find_runtime(paths)
    assert runtime is not None and runtime.version == "13.25.3"
    assert runtime.bundle.is_file() and runtime.bundle.name == "server-service.cjs"
    root = paths.data_dir / "runtime" / "claude-mem" / "13.25.3"
    assert runtime.root == root
    assert (root / "current").exists() is False and (root.parent / "current").read_text().strip() == "13.25.3"
    assert not [p for p in root.parent.iterdir() if p.name.startswith((".tmp-", ".old-"))]
    manifest = json.loads((root / "runtime.json").read_text())
    assert "claude-mem@13.25.3" in manifest["packages"] and "better-call@1.4.0" in manifest["packages"]
    if manifest["platform"] == "linux-x86_64-glibc":
        assert runtime.bun is not None and os.access(runtime.bun, os.X_OK)
        assert runtime.argv()[:2] == [str(runtime.bun), "--no-install"]

    scratch = Path(env["HOME"]) / "scratch-data"
    ran = subprocess.run(runtime.argv("--help"), capture_output=True, text=True, timeout=60,
                         env={**env, **runtime.env(), "CLAUDE_MEM_DATA_DIR": str(scratch)})
    assert "Usage: server-service start" in ran.stdout + ran.stderr
    assert not (Path(env["HOME"]) / ".bun").exists()  # bun's caches stay inside the install

    again = run_cli(env, "server", "install", "--json", timeout=120)
    assert again.returncode == 0, again.stderr
    check_envelope(again, "server.install")
    data = json.loads(again.stdout)
    assert data["command"] == "server.install" and data["data"]["outcome"] == "already-installed"
    assert data["data"]["runtime"]["bundle"] == str(runtime.bundle)
