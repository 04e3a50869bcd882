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
from ..pidfile import PROC_ROOT
from ..redis_url import RedisTarget
from ..resp import RespError
from ..settings import read_settings_file
from ..store.identity import describe_holders, port_holders, servers_on
from ..store.state import server_proof
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
    """OK when the server on the managed port is proven ours; FAIL naming who holds the port otherwise.

    The live system is asked first (/proc: who listens on the port, and in which directory), so a
    server that is visibly someone else's gets nothing from us beyond the AUTH and PING already sent.
    Only a listener that runs in our data dir, or one /proc cannot show, is asked to prove itself:
    it must *require* our password and `CONFIG GET dir` must be our data dir (store/state.server_proof).
    """
    sw = Stopwatch()
    holders = port_holders(target.port)
    ours = [pid for pid, _ in holders if _same(_cwd(pid), paths.redis_data)]
    if holders and not ours:
        return _foreign(paths, target, label, "it does not run in our data dir", sw)
    said: str | None = None
    if conn is not None and target.password:
        try:
            said = server_proof(conn, target.password)
        except OSError:
            said = None
    if said is None:
        why = "it does not require the managed store's password" if conn is not None else "it did not answer"
        return _foreign(paths, target, label, why, sw)
    if said and _same(said, paths.redis_data):
        return ProbeResult("ownership", label, Status.OK, f"the server's dir is our data dir {paths.redis_data}"
                           ).timed(sw.ms)
    if not said and ours:  # CONFIG refused: the process's own working directory is the proof
        return ProbeResult("ownership", label, Status.OK,
                           f"pid {ours[0]}, listening on {target.port}, runs in our data dir {paths.redis_data}"
                           ).timed(sw.ms)
    return _foreign(paths, target, label, f"it says its dir is {said}" if said else "CONFIG GET dir is refused", sw)


def _foreign(paths: Paths, target: RedisTarget, label: str, why: str, sw: Stopwatch) -> ProbeResult:
    return ProbeResult(
        "ownership", label, Status.FAIL,
        f"port {target.port} is answered by a server that is not the managed store ({why}): "
        f"{describe_holders(target.port)}; no further check runs against it and nothing is written to it",
        detail=f"the managed store runs in {paths.redis_data}",
        hint="stop that server, or move the managed store to a free port: cmem-ops store start --new-port",
        data={"holders": [pid for pid, _ in port_holders(target.port)]},
    ).timed(sw.ms)


def _cwd(pid: int) -> str:
    try:
        return os.readlink(f"/proc/{pid}/cwd")
    except OSError:
        return ""


def proven_ours(paths: Paths, target: RedisTarget, conn: StoreConnection) -> bool:
    """The cheap gate for readers (status lanes, queue probe, metrics) in managed mode: may `conn` be read?

    True when a live, running server on our data dir listens on `target.port` (/proc), or, where /proc
    cannot show its ports, when the server requires our password and says `CONFIG GET dir` is ours.
    """
    seen = port_is_ours(paths, target.port)
    if seen is not None:
        return seen
    try:
        said = server_proof(conn, target.password) if target.password else None
    except OSError:
        return False
    return bool(said) and _same(said or "", paths.redis_data)


def port_is_ours(paths: Paths, port: int) -> bool | None:
    """/proc alone: True when a running server on our data dir listens on `port`, False when not, None when
    /proc cannot tell (no /proc, or our server's sockets are hidden): then only the server can prove it."""
    if not PROC_ROOT.is_dir():
        return None
    servers = [s for s in servers_on(paths.redis_data) if not s.stopped]
    if any(port in s.ports for s in servers):
        return True
    if not servers or any(s.ports for s in servers):
        return False  # none of ours runs, or it listens elsewhere: whatever answers here is not it
    return None
