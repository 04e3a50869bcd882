"""Managed means ours: before any probe beyond TCP and PING runs, prove the answering server is ours.

Proof is either the server itself (authenticated with our password, `CONFIG GET dir` is our data
dir) or the live system (the process listening on the port runs in our data dir, see
store/identity.py). Without proof the doctor fails, naming who holds the port, and the later
checks (persistence, Lua, the BullMQ smoke, which writes) do not run against someone else's server.

Also here, because they decide whether the store group can say anything at all: a settings.json
that does not parse (the group says so, with the line, instead of "not configured"), and our own
server stopped by a signal (state T: it accepts connections and answers nothing).
"""

from __future__ import annotations

import os

from ..errors import ConfigError
from ..paths import Paths
from ..redis_url import RedisTarget
from ..resp import RespError
from ..settings import read_settings_file
from ..store.identity import describe_holders, port_holders, servers_on
from ..store_client import StoreConnection
from .base import ProbeResult, Status, Stopwatch


def probe_settings(paths: Paths) -> ProbeResult | None:
    """FAIL when settings.json does not parse (the doctor read it as empty to keep going), else None."""
    try:
        read_settings_file(paths.settings_file)
    except ConfigError as exc:
        return ProbeResult("settings", str(paths.settings_file), Status.FAIL,
                           f"the settings are broken, so the queue store's configuration is unknown: {exc.message}",
                           hint=exc.hint)
    return None


def probe_process(paths: Paths, label: str) -> ProbeResult | None:
    """FAIL when our server is stopped (state T) or more than one runs on our data dir, else None."""
    sw = Stopwatch()
    servers = servers_on(paths.redis_data)
    if len(servers) > 1:
        return ProbeResult("store process", label, Status.FAIL,
                           f"{len(servers)} servers run on one data dir {paths.redis_data}: "
                           + "; ".join(s.describe() for s in servers),
                           hint="cmem-ops store stop   (stops every one of them), then: cmem-ops store start"
                           ).timed(sw.ms)
    if servers and servers[0].stopped:
        pid = servers[0].pid
        return ProbeResult("store process", label, Status.FAIL,
                           f"the managed store (pid {pid}) is stopped (process state {servers[0].state}, e.g. "
                           "SIGSTOP): it accepts connections and answers nothing",
                           hint=f"kill -CONT {pid}   (or: cmem-ops store restart)").timed(sw.ms)
    return None


def _same(a: str, b: os.PathLike[str] | str) -> bool:
    return bool(a) and os.path.realpath(a) == os.path.realpath(b)


def server_dir(conn: StoreConnection) -> str | None:
    """`CONFIG GET dir` on an authenticated connection, or None when CONFIG is refused."""
    try:
        reply = conn.command("CONFIG", "GET", "dir")
    except (OSError, RespError):
        return None
    if isinstance(reply, list) and len(reply) > 1 and isinstance(reply[1], bytes):
        return reply[1].decode("utf-8", "replace")
    return None


def probe_ownership(paths: Paths, target: RedisTarget, conn: StoreConnection | None, label: str) -> ProbeResult:
    """OK when the server on the managed port is proven ours; FAIL naming who holds the port otherwise."""
    sw = Stopwatch()
    said = server_dir(conn) if conn is not None else None
    if said is not None and _same(said, paths.redis_data):
        return ProbeResult("ownership", label, Status.OK, f"the server's dir is our data dir {paths.redis_data}"
                           ).timed(sw.ms)
    holders = port_holders(target.port)
    ours = [pid for pid, _ in holders if _same(_cwd(pid), paths.redis_data)]
    if ours and said is None:
        return ProbeResult("ownership", label, Status.OK,
                           f"pid {ours[0]}, listening on {target.port}, runs in our data dir {paths.redis_data}"
                           ).timed(sw.ms)
    why = f"it says its dir is {said}" if said is not None else "it does not run in our data dir"
    return ProbeResult(
        "ownership", label, Status.FAIL,
        f"port {target.port} is answered by a server that is not the managed store ({why}): "
        f"{describe_holders(target.port)}; no further check runs against it and nothing is written to it",
        detail=f"the managed store runs in {paths.redis_data}",
        hint="stop that server, or move the managed store to a free port: cmem-ops store start --new-port",
    ).timed(sw.ms)


def _cwd(pid: int) -> str:
    try:
        return os.readlink(f"/proc/{pid}/cwd")
    except OSError:
        return ""
