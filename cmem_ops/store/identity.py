"""Who runs on the managed store's data dir, read from the live system: the PID file is only a cache.

A server is on our data dir when its working directory is `<data dir>/redis/data`: cmem-ops spawns
it there and Valkey/Redis chdir to `dir` at start-up, so the cwd holds even when the PID file is
garbage, empty or gone. We only count processes that look like a server (a Valkey/Redis/KeyDB
executable, or our `cmem-ops-store:<token>` process title), so a shell sitting in that directory
does not block a start. Listening ports come from the process's own sockets (/proc/<pid>/fd matched
against /proc/net/tcp{,6}), never from settings.json.

On systems without /proc (macOS, BSD) the scan finds nothing and the PID file's identity check
(start time + token, see pidfile.py) is the only source, as before.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import NamedTuple

from ..pidfile import PROC_ROOT, PidRecord, identify, read_pidfile, read_proc
from .config import TITLE_MARK

_SERVER_EXE = re.compile(r"(redis|valkey|keydb)[-_]?server", re.IGNORECASE)
_TOKEN = re.compile(re.escape(TITLE_MARK) + r":([0-9a-f]+)")
LISTEN = "0A"  # TCP state LISTEN in /proc/net/tcp


class ServerProcess(NamedTuple):
    """A live server process whose working directory is our data dir."""

    pid: int
    state: str
    start_id: str
    exe: str
    cmdline: str
    ports: tuple[int, ...]
    token: str | None

    @property
    def stopped(self) -> bool:
        """Stopped by SIGSTOP/SIGTSTP (state T) or held by a tracer (t): it answers nobody."""
        return self.state in ("T", "t")

    @property
    def port(self) -> int | None:
        return self.ports[0] if self.ports else None

    def record(self, component: str) -> PidRecord:
        """A PID record that proves this process (for signalling through supervisor.py)."""
        return PidRecord(pid=self.pid, start_id=self.start_id, token=self.token or "", component=component,
                         port=self.port, binary=self.exe or None)

    def describe(self) -> str:
        ports = ",".join(map(str, self.ports)) or "no port"
        return f"pid {self.pid} ({os.path.basename(self.exe) or '?'}, {ports}, state {self.state})"


def parse_token(cmdline: str) -> str | None:
    """The start token in a process title `... cmem-ops-store:<token>`, or None (pure)."""
    match = _TOKEN.search(cmdline)
    return match.group(1) if match else None


def parse_listeners(text: str) -> dict[int, int]:
    """Socket inode -> port for the LISTEN rows of /proc/net/tcp or tcp6 text (pure)."""
    result: dict[int, int] = {}
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 10 or fields[3] != LISTEN:
            continue
        try:
            result[int(fields[9])] = int(fields[1].rsplit(":", 1)[1], 16)
        except ValueError:
            continue
    return result


def listening_sockets(proc_root: Path = PROC_ROOT) -> dict[int, int]:
    """Socket inode -> port of every listening TCP socket in this network namespace."""
    table: dict[int, int] = {}
    for name in ("tcp", "tcp6"):
        try:
            table.update(parse_listeners((proc_root / "net" / name).read_text()))
        except OSError:
            continue
    return table


def socket_inodes(pid: int, proc_root: Path = PROC_ROOT) -> set[int]:
    """Inodes of the sockets `pid` holds open (empty when we may not look)."""
    inodes: set[int] = set()
    fd_dir = proc_root / str(pid) / "fd"
    try:
        names = os.listdir(fd_dir)
    except OSError:
        return inodes
    for name in names:
        try:
            link = os.readlink(fd_dir / name)
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(int(link[8:-1]))
    return inodes


def _link(path: Path) -> str:
    try:
        return os.readlink(path)
    except OSError:
        return ""


def _pids(proc_root: Path) -> list[int]:
    try:
        return [int(n) for n in os.listdir(proc_root) if n.isdigit()]
    except OSError:
        return []


def servers_on(data_dir: Path, proc_root: Path = PROC_ROOT) -> list[ServerProcess]:
    """Every live server process whose working directory is `data_dir`, lowest pid first."""
    found: list[ServerProcess] = []
    table: dict[int, int] | None = None
    # once, not per pid: realpath costs an lstat per component, and a start scans every process
    wanted = os.path.normpath(os.path.realpath(data_dir))
    root, me = str(proc_root), os.getpid()
    for pid in _pids(proc_root):
        if pid == me:
            continue
        try:
            cwd = os.readlink(f"{root}/{pid}/cwd")  # a str path: pathlib per pid costs more than the syscall
        except OSError:
            continue
        if os.path.normpath(cwd.removesuffix(" (deleted)")) != wanted:
            continue
        info = read_proc(pid, proc_root)
        if info is None or info.zombie:
            continue
        exe = _link(proc_root / str(pid) / "exe")
        if not (_SERVER_EXE.search(os.path.basename(exe)) or TITLE_MARK in info.cmdline
                or _SERVER_EXE.search(info.cmdline.split(" ", 1)[0])):
            continue
        if table is None:
            table = listening_sockets(proc_root)
        ports = tuple(sorted({table[i] for i in socket_inodes(pid, proc_root) if i in table}))
        found.append(ServerProcess(pid, info.state, info.start_id, exe, info.cmdline, ports,
                                   parse_token(info.cmdline)))
    return sorted(found, key=lambda s: s.pid)


def from_record(record: PidRecord, proc_root: Path = PROC_ROOT) -> ServerProcess | None:
    """The live process a PID record still proves (macOS/BSD path: no cwd to scan)."""
    info = identify(record, proc_root)
    if info is None:
        return None
    ports = (record.port,) if record.port else ()
    return ServerProcess(record.pid, info.state, info.start_id, record.binary or "", info.cmdline, ports,
                         record.token or None)


def port_holders(port: int, proc_root: Path = PROC_ROOT) -> list[tuple[int, str]]:
    """(pid, executable) of every process listening on TCP `port`, as far as /proc lets us see."""
    inodes = {inode for inode, p in listening_sockets(proc_root).items() if p == port}
    if not inodes:
        return []
    holders = []
    for pid in _pids(proc_root):
        if socket_inodes(pid, proc_root) & inodes:
            holders.append((pid, _link(proc_root / str(pid) / "exe") or "?"))
    return holders


def describe_holders(port: int, proc_root: Path = PROC_ROOT) -> str:
    """'pid 123 (/usr/bin/redis-server, cwd /srv)' for a port, or a pointer to `ss` when hidden."""
    holders = port_holders(port, proc_root)
    if not holders:
        return f"a process we cannot see (ss -ltnp 'sport = :{port}' names it)"
    return ", ".join(f"pid {pid} ({exe}, cwd {_link(proc_root / str(pid) / 'cwd') or '?'})" for pid, exe in holders)


class StoreView(NamedTuple):
    """What runs on the data dir right now, and what the PID file says (which may be wrong)."""

    servers: tuple[ServerProcess, ...]
    record: PidRecord | None
    pidfile_present: bool

    @property
    def server(self) -> ServerProcess | None:
        return self.servers[0] if self.servers else None

    @property
    def pidfile_stale(self) -> bool:
        """The PID file exists but does not name the live server (garbage, empty, or another pid)."""
        if not self.pidfile_present:
            return False
        return self.record is None or self.server is None or self.record.pid != self.server.pid


def observe(data_dir: Path, pidfile: Path, proc_root: Path = PROC_ROOT) -> StoreView:
    """Look at the live system for servers on `data_dir`; use the PID file only where /proc is absent."""
    record = read_pidfile(pidfile)
    present = pidfile.exists()
    if proc_root.is_dir():
        return StoreView(tuple(servers_on(data_dir, proc_root)), record, present)
    live = from_record(record, proc_root) if record is not None else None
    return StoreView((live,) if live else (), record, present)
