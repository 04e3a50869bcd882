"""installers/install.sh and install.ps1: lint/parse them, and run install.sh for real into a temp prefix."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from tests.support import REPO, user_env

INSTALL_SH = REPO / "installers" / "install.sh"
INSTALL_PS1 = REPO / "installers" / "install.ps1"


def test_install_sh_passes_shellcheck():
    if shutil.which("shellcheck") is None:
        pytest.skip("shellcheck is not installed (apt-get install shellcheck)")
    out = subprocess.run(["shellcheck", "--shell=sh", str(INSTALL_SH)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr


def test_install_sh_parses_and_helps():
    assert subprocess.run(["sh", "-n", str(INSTALL_SH)], timeout=30).returncode == 0
    out = subprocess.run(["sh", str(INSTALL_SH), "--help"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and "cmem-ops bootstrap for macOS and Linux." in out.stdout
    bad = subprocess.run(["sh", str(INSTALL_SH), "--bogus"], capture_output=True, text=True, timeout=30)
    assert bad.returncode == 2 and "arguments for cmem-ops install go after --" in bad.stderr


def test_install_ps1_parses():
    source = INSTALL_PS1.read_bytes()
    if shutil.which("pwsh"):
        script = ("$errors = $null; [System.Management.Automation.Language.Parser]::ParseFile("
                  f"'{INSTALL_PS1}', [ref]$null, [ref]$errors) | Out-Null; "
                  "if ($errors.Count) { $errors | ForEach-Object { $_.ToString() }; exit 1 }")
        out = subprocess.run(["pwsh", "-NoProfile", "-Command", script], capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stdout + out.stderr
        return
    try:
        import tree_sitter
        import tree_sitter_powershell
    except ImportError:
        pytest.skip("neither pwsh nor the tree-sitter PowerShell grammar is installed (pip install "
                    "tree-sitter tree-sitter-powershell)")
    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))
    tree = parser.parse(source)
    assert not tree.root_node.has_error
    assert parser.parse(source.replace(b"exit $LASTEXITCODE\n", b"exit $LASTEXITCODE\n}\n")).root_node.has_error


@pytest.mark.integration
@pytest.mark.slow
def test_install_sh_builds_a_venv_and_runs_the_installer(tmp_path):
    env = user_env(tmp_path)
    env["PATH"] = os.environ.get("PATH", "/usr/bin:/bin")
    prefix = tmp_path / "prefix"
    out = subprocess.run(
        ["sh", str(INSTALL_SH), "--spec", str(REPO), "--prefix", str(prefix), "--python", sys.executable,
         "--", "--dry-run", "--non-interactive"],
        env=env, capture_output=True, text=True, timeout=600, check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert (prefix / "venv" / "bin" / "cmem-ops").exists()
    assert os.path.islink(os.path.join(env["HOME"], ".local", "bin", "cmem-ops"))
    assert "Dry run (nothing changed)" in out.stdout
    assert not os.path.exists(env["CLAUDE_MEM_DATA_DIR"])
