"""apt for real on Debian/Ubuntu (CI runs it as root): the plan's apt-get steps run, the package's
server binary exists afterwards and the managed store runs it."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import redis

from cmem_ops.host.detect import Family, detect_host
from tests.support import run_cli, user_env

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _skip_reason() -> str | None:
    if os.geteuid() != 0:
        return "apt installs need root (CI runs this test as root)"
    if shutil.which("apt-get") is None:
        return "apt-get is not on PATH"
    host = detect_host(stdin_tty=False, docker_engine=lambda: False)
    if host.family is not Family.DEBIAN:
        return f"not a Debian-family host ({host.distro_id})"
    return None


@pytest.fixture
def env(tmp_path):
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    env = user_env(tmp_path)
    yield env
    run_cli(env, "store", "stop")


def test_apt_installs_and_the_store_runs_the_package_binary(env):
    out = run_cli(env, "install", "--non-interactive", "--provider", "apt", "--json", timeout=900)
    assert out.returncode == 0, out.stdout + out.stderr
    data = json.loads(out.stdout)["data"]
    assert data["provider"] == "apt" and data["action"] in ("installed", "already-present")
    argv = [step["argv"] for step in data["plan"]["steps"]]
    assert argv[0] == ["apt-get", "update"] and argv[1][:4] == ["env", "DEBIAN_FRONTEND=noninteractive", "apt-get",
                                                                 "install"]
    binary = Path(data["plan"]["binary"])
    assert binary.is_file() and data["binary"] == str(binary)

    settings = json.loads((Path(env["CLAUDE_MEM_DATA_DIR"]) / "settings.json").read_text())
    r = redis.Redis.from_url(settings["CLAUDE_MEM_REDIS_URL"], socket_timeout=5)
    assert r.ping()
    pid = r.info("server")["process_id"]
    assert Path(f"/proc/{pid}/exe").resolve() == binary.resolve()
    assert r.config_get("maxmemory-policy")["maxmemory-policy"] == "noeviction"
