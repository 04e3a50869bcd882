"""What the fault tests check against: the live system read independently of cmem_ops, and the real CLI.

Nothing here asks cmem-ops what it believes: servers are found by their working directory in /proc,
data is read back with redis-py using the URL settings.json names.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import redis

from tests.support import run_cli, user_env

FAULT_TIMEOUT = 60


def data_dir(env: Mapping[str, str]) -> Path:
    return Path(env["CLAUDE_MEM_DATA_DIR"])


def redis_data(env: Mapping[str, str]) -> Path:
    return data_dir(env) / "redis" / "data"


def pids_in(directory: Path) -> list[int]:
    """Every live process whose cwd is `directory` or below it (zombies excluded)."""
    found = []
    real = os.path.realpath(directory)
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            cwd = os.readlink(f"/proc/{name}/cwd")
            with open(f"/proc/{name}/stat") as fh:
                state = fh.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state not in ("Z", "X") and (cwd == real or cwd.startswith(real + os.sep)):
            found.append(int(name))
    return sorted(found)


def servers(env: Mapping[str, str]) -> list[int]:
    """Pids of the servers running on the managed data dir."""
    return pids_in(redis_data(env))


def proc_state(pid: int) -> str:
    with open(f"/proc/{pid}/stat") as fh:
        return fh.read().rsplit(")", 1)[1].split()[0]


def settings_of(env: Mapping[str, str]) -> dict[str, Any]:
    path = data_dir(env) / "settings.json"
    if not path.exists():
        return {}
    return json.loads(path.read_text())


def client(env: Mapping[str, str]) -> redis.Redis:
    return redis.Redis.from_url(settings_of(env)["CLAUDE_MEM_REDIS_URL"], socket_timeout=5)


def write_acked(env: Mapping[str, str], prefix: str, n: int = 50) -> dict[str, str]:
    """Write `n` keys through the URL settings.json names; each SET was acknowledged by the server."""
    data = {f"{prefix}:{i}": f"value-{i}" for i in range(n)}
    c = client(env)
    for key, value in data.items():
        assert c.set(key, value) is True
    return data


def assert_readable(env: Mapping[str, str], data: Mapping[str, str]) -> None:
    c = client(env)
    values = c.mget(list(data))
    missing = [k for k, v in zip(data, values, strict=True) if v is None or v.decode() != data[k]]
    assert not missing, f"{len(missing)} acknowledged writes lost, e.g. {missing[:3]}"


def assert_settings_name_the_server(env: Mapping[str, str]) -> None:
    """Exactly one server runs on the data dir, and settings.json's URL reaches it (PING + its pid)."""
    running = servers(env)
    assert len(running) == 1, f"servers on the data dir: {running}"
    info = client(env).info("server")
    assert int(info["process_id"]) == running[0]


def cli(env: Mapping[str, str], *args: str, timeout: float = FAULT_TIMEOUT) -> subprocess.CompletedProcess[str]:
    """Run the real CLI and assert no traceback reached the user."""
    out = run_cli(env, *args, timeout=timeout)
    assert "Traceback" not in out.stderr and "Traceback" not in out.stdout, out.stderr
    return out


def envelope(out: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The one JSON envelope a --json command printed on stdout."""
    data: dict[str, Any] = json.loads(out.stdout)
    return data


def kill_all(pids: list[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGCONT)
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def user_env_for(root: Path) -> dict[str, str]:
    """A second, independent user environment under `root`."""
    root.mkdir(parents=True, exist_ok=True)
    return user_env(root)
