"""Pure parts of the runtime install: pins, the npm plan, platform keys, node versions, locating an install."""

from __future__ import annotations

import json
from pathlib import Path

from cmem_ops.host.detect import Family
from cmem_ops.paths import Paths
from cmem_ops.runtime.install import DEFAULT_VERSION
from cmem_ops.runtime.locate import BUNDLE_RELPATH, Runtime, find_runtime, installed_versions
from cmem_ops.runtime.pins import load_pins
from cmem_ops.runtime.plan import node_install_hint, parse_node_version, plan_install, platform_key

FAMILY = ("better-auth@1.7.5", "@better-auth/api-key@1.7.5", "@better-auth/core@1.7.5",
          "@better-auth/utils@0.4.2", "better-call@1.4.0")


def test_shipped_pins_match_the_verified_recipe():
    pins = load_pins()
    assert pins.default_version == DEFAULT_VERSION == "13.25.3"
    assert pins.companions_for("13.25.3") == (FAMILY, True)
    assert pins.companions_for("13.99.0") == (FAMILY, False)
    bun = pins.bun_for("linux-x86_64-glibc")
    assert bun is not None and bun.spec == "@oven/bun-linux-x64@1.4.5" and bun.binary == "bin/bun"
    assert pins.bun_for("darwin-arm64-") is None
    assert pins.node_min == (20, 12, 0)


def test_plan_on_linux_x86_64_is_the_recipes_argv():
    plan = plan_install("13.25.3", load_pins(), "/usr/bin/npm", Path("/c"), "linux-x86_64-glibc")
    flags = ("--no-audit", "--no-fund", "--save-exact", "--prefer-offline", "--cache", "/c")
    assert [s.argv for s in plan.steps] == [
        ("/usr/bin/npm", "install", "--prefix", "npm", *flags, "claude-mem@13.25.3", *FAMILY),
        ("/usr/bin/npm", "install", "--prefix", "bun", *flags, "@oven/bun-linux-x64@1.4.5"),
    ]
    assert plan.bun == Path("bun/node_modules/@oven/bun-linux-x64/bin/bun")
    assert plan.bundle == BUNDLE_RELPATH and plan.notes == ()


def test_plan_elsewhere_falls_back_to_node_and_says_so():
    plan = plan_install("13.30.0", load_pins(), "npm", Path("/c"), "darwin-arm64-")
    assert len(plan.steps) == 1 and plan.bun is None
    assert any("Node.js" in n for n in plan.notes)
    assert any("verified with claude-mem 13.25.3" in n for n in plan.notes)


def test_platform_key_and_node_versions():
    assert platform_key("Linux", "x86_64", "glibc 2.36") == "linux-x86_64-glibc"
    assert platform_key("Linux", "x86_64", "musl") == "linux-x86_64-musl"
    assert platform_key("Darwin", "arm64", "") == "darwin-arm64-"
    assert parse_node_version("v20.20.2\n") == (20, 20, 2)
    assert parse_node_version("garbage") is None


def test_node_hints():
    assert node_install_hint(Family.DEBIAN, True) == "apt-get install -y nodejs npm"
    assert node_install_hint(Family.DEBIAN, False) == "sudo apt-get install -y nodejs npm"
    assert node_install_hint(Family.MACOS, False) == "brew install node"
    assert "nodejs.org" in node_install_hint(Family.UNKNOWN, False)


def test_runtime_argv_prefers_bun_with_no_install():
    rt = Runtime(Path("/r"), "13.25.3", Path("/r/b.cjs"), Path("/r/bun"), Path("/usr/bin/node"))
    assert rt.argv("start") == ["/r/bun", "--no-install", "/r/b.cjs", "start"]
    assert rt.env() == {"BUN_RUNTIME_TRANSPILER_CACHE_PATH": "/r/.bun-cache"}
    node_only = Runtime(Path("/r"), "13.25.3", Path("/r/b.cjs"), None, Path("/usr/bin/node"))
    assert node_only.argv("worker", "start") == ["/usr/bin/node", "/r/b.cjs", "worker", "start"]
    assert node_only.env() == {} and node_only.interpreter == "node"


def fake_install(paths: Paths, version: str, with_bun: bool = True) -> Path:
    root = paths.data_dir / "runtime" / "claude-mem" / version
    (root / BUNDLE_RELPATH).parent.mkdir(parents=True)
    (root / BUNDLE_RELPATH).write_text("// bundle\n")
    manifest = {"version": version, "bundle": str(BUNDLE_RELPATH), "bun": None}
    if with_bun:
        bun = root / "bun/node_modules/@oven/bun-linux-x64/bin/bun"
        bun.parent.mkdir(parents=True)
        bun.write_text("")
        manifest["bun"] = "bun/node_modules/@oven/bun-linux-x64/bin/bun"
    (root / "runtime.json").write_text(json.dumps(manifest))
    return root


def test_find_runtime_prefers_current_then_newest(tmp_path):
    paths = Paths(tmp_path / "data")
    assert find_runtime(paths) is None
    fake_install(paths, "13.9.0")
    fake_install(paths, "13.25.3")
    (paths.data_dir / "runtime/claude-mem/.tmp-13.30.0-abcd").mkdir()  # an interrupted install is ignored
    assert installed_versions(paths) == ["13.9.0", "13.25.3"]
    found = find_runtime(paths)
    assert found is not None and found.version == "13.25.3" and found.bun is not None
    (paths.data_dir / "runtime/claude-mem/current").write_text("13.9.0\n")
    assert find_runtime(paths).version == "13.9.0"
    assert find_runtime(paths, "13.25.3").version == "13.25.3"
    assert find_runtime(paths, "1.0.0") is None


def test_a_beta_is_not_picked_over_its_release(tmp_path):
    paths = Paths(tmp_path / "data")
    for version in ("13.25.3", "13.25.3-beta.1", "13.25.10-beta.2", "13.9.0"):
        fake_install(paths, version)
    assert installed_versions(paths) == ["13.9.0", "13.25.3-beta.1", "13.25.3", "13.25.10-beta.2"]
    (paths.data_dir / "runtime/claude-mem/13.25.10-beta.2/runtime.json").unlink()  # only betas of 13.25.3 left
    found = find_runtime(paths)
    assert found is not None and found.version == "13.25.3"


def test_a_runtime_whose_bundle_is_gone_is_not_found(tmp_path):
    paths = Paths(tmp_path / "data")
    root = fake_install(paths, "13.25.3")
    (root / BUNDLE_RELPATH).unlink()
    assert find_runtime(paths) is None
