"""Run a native server binary for one matrix target, supervised like the managed store.

Valkey and Redis get the managed store's own redis.conf (store.config.render_config): AOF everysec,
noeviction, a password, loopback only, and a random token in the process title. Dragonfly gets the
equivalent flags in a private flag file whose name carries the token. Either way the token proves
identity: `stop` signals only the process (group) this start created.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from ...logs import tail_lines
from ...paths import ensure_private_dir, write_private_file
from ...pidfile import PidRecord, read_proc
from ...redis_url import RedisTarget
from ...runner import Runner
from ...store.binaries import ServerBinary
from ...store.config import StoreConfig, render_config
from ...store.flavour import Flavour
from ...store.ports import ipv6_loopback_available, port_answers
from ...supervisor import terminate, wait_ready
from ..targets import Target
from .base import ServerStartError, StartSpec, ping_once

HOST = "127.0.0.1"
COMPONENT = "matrix-server"


@dataclass(frozen=True)
class NativeLaunch:
    """What to write and run for one native start (pure data)."""

    argv: tuple[str, ...]
    files: tuple[tuple[Path, str], ...]
    log_file: Path
    data_dir: Path


def build_native_launch(target: Target, binary: Path, spec: StartSpec, token: str, ipv6: bool) -> NativeLaunch:
    """The config files and argv that start `binary` with the managed config on spec.port (pure)."""
    data_dir = spec.workdir / "data"
    log_file = spec.workdir / "server.log"
    if target.flavour is Flavour.DRAGONFLY:
        flagfile = spec.workdir / f"dragonfly-{token}.flags"
        flags = [f"--bind={HOST}", f"--port={spec.port}", f"--requirepass={spec.password}", f"--dir={data_dir}",
                 "--dbfilename=dump", "--default_lua_flags=allow-undeclared-keys", "--logtostderr"]
        return NativeLaunch((str(binary), f"--flagfile={flagfile}"), ((flagfile, "\n".join(flags) + "\n"),),
                            spec.workdir / "stdout.log", data_dir)
    conf = spec.workdir / "redis.conf"
    text = render_config(StoreConfig(port=spec.port, password=spec.password, data_dir=data_dir, log_file=log_file,
                                     token=token, ipv6=ipv6))
    return NativeLaunch((str(binary), str(conf)), ((conf, text),), log_file, data_dir)


@dataclass
class NativeServer:
    """A native server this run started; `stop` signals it only while its identity still matches."""

    target: RedisTarget
    description: str
    record: PidRecord
    child: subprocess.Popen[bytes]
    log_files: tuple[Path, ...]

    def stop(self) -> str:
        how = terminate(self.record, grace_s=5.0, kill_s=5.0)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.child.wait(timeout=2)  # reap it: we are its parent
        return how

    def log_tail(self, lines: int = 15) -> str:
        return "\n".join(tail_lines(list(self.log_files), lines))


def start_native(target: Target, binary: ServerBinary, spec: StartSpec, runner: Runner) -> NativeServer:
    """Start `binary` for `target` and wait for PONG; on failure nothing is left running."""
    token = secrets.token_hex(8)
    launch = build_native_launch(target, binary.path, spec, token, ipv6_loopback_available())
    redis_target = RedisTarget(HOST, spec.port, password=spec.password)
    if port_answers(HOST, spec.port, timeout=0.2):
        raise ServerStartError(f"port {spec.port} already answers on {HOST}; another server runs there",
                               hint="rerun: the matrix picks another free port")
    ensure_private_dir(spec.workdir)
    ensure_private_dir(launch.data_dir)
    for path, text in launch.files:
        write_private_file(path, text)
    stdout_log = spec.workdir / "stdout.log"
    with open(stdout_log, "ab") as log:
        child = runner.spawn_detached(list(launch.argv), log=log, cwd=launch.data_dir)
    info = read_proc(child.pid)
    record = PidRecord(pid=child.pid, start_id=info.start_id if info else "", token=token, component=COMPONENT,
                       port=spec.port, binary=str(binary.path), started_at=time.time())
    logs = tuple(dict.fromkeys((launch.log_file, stdout_log)))
    server = NativeServer(redis_target, f"{binary.label} at {binary.path}", record, child, logs)
    try:
        wait_ready(f"{binary.label} ({binary.path})", lambda: ping_once(redis_target, 0.5) is None, child.poll,
                   spec.deadline, [p for p in logs if p.exists()] or [stdout_log],
                   timeout_hint=f"read its log: {launch.log_file}")
    except BaseException:
        if child.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)  # its own session and group: spawn_detached
        child.wait(timeout=5)
        raise
    return server

