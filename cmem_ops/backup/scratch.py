"""A throwaway server on a private port, to load, convert or snapshot data away from the managed store.

Used to turn a snapshot RDB into the AOF the managed store loads (a server with appendonly on
ignores an RDB), to snapshot a stopped store from a copy of its files, and to prove a target
binary loads a file before anything stops. It runs as our own child (its Popen handle is the
identity), with a random password in a 0600 config file, on 127.0.0.1 only, no RDB saves.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import ProcessError
from ..paths import write_private_file
from ..redis_url import RedisTarget
from ..resp import RespError, parse_info
from ..runner import Runner
from ..store.binaries import ServerBinary
from ..store.config import quote
from ..store.ports import choose_port, port_is_free
from ..store.state import HOST, new_password
from ..store_client import open_store
from ..supervisor import wait_ready
from ..wait import Deadline, poll
from .files import private_temp_dir


def render_scratch_config(port: int, password: str, data_dir: Path, log_file: Path, appendonly: bool,
                          dbfilename: str = "dump.rdb") -> str:
    """The config of a scratch server (pure)."""
    return "\n".join([
        "# A temporary server started by cmem-ops (backup, restore or upgrade); it is stopped afterwards.",
        f"bind {HOST}",
        "protected-mode yes",
        f"port {port}",
        f"dir {quote(str(data_dir))}",
        f"dbfilename {quote(dbfilename)}",
        f"logfile {quote(str(log_file))}",
        "daemonize no",
        'save ""',
        f"appendonly {'yes' if appendonly else 'no'}",
        "maxmemory-policy noeviction",
        f"requirepass {quote(password)}",
        "",
    ])


def info(target: RedisTarget, section: str = "persistence", timeout: float = 5.0) -> dict[str, str]:
    """INFO `section` of a server, parsed; socket and RESP errors propagate."""
    with open_store(target, timeout) as conn:
        return parse_info(conn.text("INFO", section))


def loaded(target: RedisTarget) -> bool:
    """True once the server answers and has finished loading its files."""
    return info(target).get("loading") == "0"


@contextmanager
def scratch_server(binary: ServerBinary, runner: Runner, data_dir: Path, *, appendonly: bool,
                   deadline: Deadline, dbfilename: str = "dump.rdb") -> Iterator[RedisTarget]:
    """Run `binary` on `data_dir` until the block ends; yield how to reach it once its data is loaded."""
    control = private_temp_dir(Path(tempfile.gettempdir()), "cmem-ops-scratch-")  # short: under /tmp
    port = choose_port(lambda p: port_is_free(p, ipv6=False))  # it binds 127.0.0.1 only
    target = RedisTarget(HOST, port, password=new_password())
    log_file = control / "server.log"
    conf = control / "scratch.conf"
    write_private_file(conf, render_scratch_config(port, target.password or "", data_dir, log_file, appendonly,
                                                   dbfilename))
    child: subprocess.Popen[bytes] | None = None
    try:
        with open(control / "stdout.log", "ab") as out:
            child = runner.spawn_detached([str(binary.path), str(conf)], log=out, cwd=data_dir)
        spawned = child
        wait_ready(f"a scratch {binary.label} on port {port}", lambda: _loaded_quietly(target), spawned.poll,
                   deadline, [control / "stdout.log", log_file],
                   timeout_hint=f"the data may be too large for the deadline: pass a longer --timeout ({log_file})")
        yield target
    finally:
        if child is not None:
            _shutdown(child, target)
        shutil.rmtree(control, ignore_errors=True)


def _loaded_quietly(target: RedisTarget) -> bool:
    try:
        return loaded(target)
    except (OSError, RespError):
        return False


def _shutdown(child: subprocess.Popen[bytes], target: RedisTarget) -> None:
    if child.poll() is None:
        with contextlib.suppress(OSError, RespError), open_store(target, 5.0) as conn:
            conn.command("SHUTDOWN")  # save "" and appendonly: the AOF is fsynced, no RDB written
    try:
        child.wait(timeout=15)
    except subprocess.TimeoutExpired:
        child.kill()  # our own child, by its handle
        child.wait(timeout=5)


def enable_aof(target: RedisTarget, deadline: Deadline) -> None:
    """Turn appendonly on and wait until the AOF it rewrites from memory is complete."""
    with open_store(target, 10.0) as conn:
        conn.command("CONFIG", "SET", "appendonly", "yes")

    def done() -> bool:
        state = info(target)
        if state.get("aof_rewrite_in_progress") != "0" or state.get("aof_rewrite_scheduled") != "0":
            return False
        if state.get("aof_last_bgrewrite_status") != "ok":
            raise ProcessError(f"the scratch server could not write its AOF ({state.get('aof_last_bgrewrite_status')})",
                               hint="check free disk space under the data dir")
        return True

    poll(done, deadline, what="the scratch server to finish writing its AOF", transient=(OSError,),
         hint="pass a longer --timeout")


def save_rdb(target: RedisTarget, deadline: Deadline) -> None:
    """SAVE in the foreground (the scratch server serves nobody else)."""
    with open_store(target, max(deadline.remaining(), 1.0)) as conn:
        conn.command("SAVE")
