"""What the queue-store URL really points at: a primary, a replica, a cluster node or a Sentinel.

claude-mem opens ONE standalone ioredis connection to CLAUDE_MEM_REDIS_URL: no Cluster and no
Sentinel client. So only a primary can hold its queue; a replica refuses every write (READONLY), a
cluster node answers MOVED/CROSSSLOT to BullMQ's multi-key scripts, and a Sentinel is not a data
server at all. The verdicts are pure functions of INFO (and of SENTINEL MASTERS on a Sentinel),
tested on INFO captured from real servers (tests/fixtures/servers/topology/).

    parse_topology(info) -> Topology          pure, from INFO server|replication|cluster|sentinel
    parse_sentinel_masters(reply)             pure, SENTINEL MASTERS -> MonitoredPrimary tuple
    check_topology(topo, target, label)       pure verdict (ProbeResult) with the URL to use instead
    read_topology(conn, info)                 acts: asks a Sentinel for its primaries, a node for CLUSTER INFO
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum

from ..redis_url import RedisTarget
from ..resp import Reply, RespError, parse_info
from ..store_client import StoreConnection
from .base import ProbeResult, Status


class Role(StrEnum):
    PRIMARY = "primary"
    REPLICA = "replica"
    CLUSTER = "cluster"
    SENTINEL = "sentinel"


@dataclass(frozen=True)
class MonitoredPrimary:
    """One primary a Sentinel watches, where the Sentinel says it is now."""

    name: str
    host: str
    port: int
    status: str = "ok"  # INFO's status=, or SENTINEL MASTERS' flags
    replicas: int = 0
    sentinels: int = 1


@dataclass(frozen=True)
class Topology:
    """The role of one server and what it knows about the others."""

    role: Role
    replicas: int = 0  # connected_slaves on a primary
    primary_host: str | None = None  # a replica's master_host
    primary_port: int | None = None
    link: str | None = None  # a replica's master_link_status
    read_only: bool = True  # a replica's slave_read_only
    monitored: tuple[MonitoredPrimary, ...] = ()
    cluster: dict[str, str] = field(default_factory=dict)  # CLUSTER INFO, when asked
    good_replicas: int | None = None  # min_slaves_good_slaves: shown only when min-replicas-to-write is set
    min_replicas: int | None = None  # CONFIG GET min-replicas-to-write, when asked and allowed


def _int(text: str | None, default: int = 0) -> int:
    try:
        return int(text or default)
    except ValueError:
        return default


def is_sentinel(info: Mapping[str, str]) -> bool:
    """True when INFO comes from a Sentinel (Redis: redis_mode, Valkey: server_mode) (pure)."""
    return "sentinel" in (info.get("redis_mode"), info.get("server_mode")) or "sentinel_masters" in info


def parse_sentinel_info(info: Mapping[str, str]) -> tuple[MonitoredPrimary, ...]:
    """The `masterN:name=...,status=...,address=host:port,slaves=N,sentinels=N` lines of INFO sentinel (pure)."""
    found = []
    for key in sorted((k for k in info if k.startswith("master") and k[6:].isdigit()), key=lambda k: int(k[6:])):
        fields = dict(part.partition("=")[::2] for part in info[key].split(","))
        host, _, port = fields.get("address", "").rpartition(":")
        if not host or not port.isdigit():
            continue
        found.append(MonitoredPrimary(fields.get("name", "?"), host, int(port), fields.get("status", "?"),
                                      _int(fields.get("slaves")), _int(fields.get("sentinels"), 1)))
    return tuple(found)


def _text(x: Reply) -> str:
    return x.decode("utf-8", "replace") if isinstance(x, bytes) else str(x)


def parse_sentinel_masters(reply: Reply) -> tuple[MonitoredPrimary, ...]:
    """SENTINEL MASTERS (a list of flat name/value lists) -> where each primary is now (pure)."""
    if not isinstance(reply, list):
        return ()
    found = []
    for entry in reply:
        if not isinstance(entry, list):
            continue
        items = [_text(x) for x in entry]
        fields = dict(zip(items[0::2], items[1::2], strict=False))
        if not fields.get("ip") or not fields.get("port", "").isdigit():
            continue
        found.append(MonitoredPrimary(fields.get("name", "?"), fields["ip"], int(fields["port"]),
                                      fields.get("flags", "?"), _int(fields.get("num-slaves")),
                                      _int(fields.get("num-other-sentinels")) + 1))
    return tuple(found)


def parse_topology(info: Mapping[str, str], config: Mapping[str, str] | None = None) -> Topology:
    """The server's role from INFO (pure). Dragonfly's emulated cluster is a single node: left to its own check."""
    if is_sentinel(info):
        return Topology(Role.SENTINEL, monitored=parse_sentinel_info(info))
    if info.get("cluster_enabled") == "1" and (config or {}).get("cluster_mode") != "emulated":
        return Topology(Role.CLUSTER)
    if info.get("role") in ("slave", "replica"):
        return Topology(Role.REPLICA, primary_host=info.get("master_host"),
                        primary_port=_int(info.get("master_port")) or None, link=info.get("master_link_status"),
                        read_only=info.get("slave_read_only", info.get("replica_read_only", "1")) != "0")
    good = info.get("min_slaves_good_slaves")
    return Topology(Role.PRIMARY, replicas=_int(info.get("connected_slaves")),
                    good_replicas=_int(good) if good is not None else None,
                    min_replicas=_int((config or {}).get("min-replicas-to-write")) if config and
                    "min-replicas-to-write" in config else None)


def build_primary_url(target: RedisTarget, host: str, port: int) -> str:
    """The URL claude-mem should use for the primary at host:port: same scheme, user and db (pure).

    The password is shown as <password> (it is the primary's, which a Sentinel's may not be).
    """
    shown = f"[{host}]" if ":" in host else host  # an IPv6 address
    auth = ""
    if target.password is not None:
        auth = f"{target.username or ''}:<password>@"
    elif target.username:
        auth = f"{target.username}@"
    return f"{'rediss' if target.tls else 'redis'}://{auth}{shown}:{port}/{target.db}"


STABLE_ADDRESS = ("claude-mem has no Sentinel client and keeps using the address it was given: after a failover it "
                  "would write to the demoted primary (READONLY). Give the primary a stable address that follows "
                  "failovers (a DNS name or virtual IP moved by Sentinel's client-reconfig-script, or a proxy such "
                  "as HAProxy that routes to the node reporting role:master) and put that in CLAUDE_MEM_REDIS_URL")

NO_CLUSTER = ("claude-mem opens one standalone connection and has no cluster client: keys owned by other nodes "
              "answer MOVED, and BullMQ's multi-key Lua scripts answer CROSSSLOT (its queue keys carry no "
              "{hashtag}, and claude-mem rewrites any brace in CLAUDE_MEM_QUEUE_REDIS_PREFIX to _)")

DEPLOY_STANDALONE = ("point CLAUDE_MEM_REDIS_URL at a standalone primary (cluster-enabled no): the managed Valkey "
                     "(cmem-ops store start), or a hosted tier without cluster mode (ElastiCache with cluster mode "
                     "disabled, Memorystore Basic/Standard, Azure Cache Basic/Standard/Premium without clustering, "
                     "Redis Cloud without clustering)")


def check_topology(topo: Topology, target: RedisTarget, label: str) -> ProbeResult:
    """OK for a primary; FAIL for a replica, a cluster node or a Sentinel, with the URL or deployment to use (pure)."""
    data: dict[str, object] = {"role": topo.role.value}
    if topo.role is Role.PRIMARY:
        data.update(replicas=topo.replicas, good_replicas=topo.good_replicas, min_replicas=topo.min_replicas)
        text = "primary" + (f" with {topo.replicas} replica{'s' if topo.replicas != 1 else ''}" if topo.replicas
                            else " (standalone)")
        # min-replicas-to-write: with fewer good replicas the primary refuses every write (NOREPLICAS).
        needed = topo.min_replicas if topo.min_replicas is not None else (1 if topo.good_replicas == 0 else None)
        if topo.good_replicas is not None and needed and topo.good_replicas < needed:
            return ProbeResult("topology", label, Status.FAIL,
                               f"{text}, but it refuses writes (NOREPLICAS): min-replicas-to-write "
                               f"{topo.min_replicas if topo.min_replicas is not None else '>= 1'} and only "
                               f"{topo.good_replicas} good replica{'s' if topo.good_replicas != 1 else ''}",
                               detail="a replica counts as good while its lag is within min-replicas-max-lag",
                               hint="bring the replicas back (their master_link_status must be up), or lower the "
                                    f"bar: redis-cli -u {target.url(redact=True)} CONFIG SET min-replicas-to-write 0",
                               data=data)
        return ProbeResult("topology", label, Status.OK, text, data=data)
    if topo.role is Role.REPLICA:
        where = f"{topo.primary_host}:{topo.primary_port}" if topo.primary_host else "an unknown primary"
        url = build_primary_url(target, topo.primary_host, topo.primary_port or 6379) if topo.primary_host else None
        data.update(primary=where, link=topo.link, primary_url=url)
        notes = [f"its link to the primary is {topo.link or 'unknown'} (master_link_status)"]
        if topo.link != "up":
            notes.append(f"check that {where} is up: the replica cannot reach it")
        notes.append("replica-read-only is off: writes land here and are discarded at the next resync"
                     if not topo.read_only else "every claude-mem write would fail with READONLY")
        return ProbeResult("topology", label, Status.FAIL,
                           f"{target.address} is a replica of {where}: claude-mem must write to the primary",
                           detail="; ".join(notes),
                           hint=f"CLAUDE_MEM_REDIS_URL={url}" if url else "point CLAUDE_MEM_REDIS_URL at the primary",
                           data=data)
    if topo.role is Role.CLUSTER:
        state = topo.cluster.get("cluster_state")
        nodes = topo.cluster.get("cluster_known_nodes")
        facts = ", ".join(x for x in (f"cluster_state:{state}" if state else "",
                                      f"{nodes} known nodes" if nodes else "") if x)
        data["cluster"] = dict(topo.cluster)
        return ProbeResult("topology", label, Status.FAIL,
                           f"{target.address} is a cluster node (cluster_enabled:1{', ' + facts if facts else ''}):"
                           " claude-mem cannot use a cluster", detail=NO_CLUSTER, hint=DEPLOY_STANDALONE, data=data)
    primaries = topo.monitored
    urls = [build_primary_url(target, p.host, p.port) for p in primaries]
    data["primaries"] = [{"name": p.name, "address": f"{p.host}:{p.port}", "status": p.status,
                          "replicas": p.replicas, "sentinels": p.sentinels, "url": u} for p, u in zip(primaries, urls,
                                                                                                       strict=True)]
    if not primaries:
        return ProbeResult("topology", label, Status.FAIL,
                           f"{target.address} is a Sentinel that monitors no primary: it holds no data",
                           detail=STABLE_ADDRESS, hint="point CLAUDE_MEM_REDIS_URL at the primary itself", data=data)
    listing = "; ".join(f"{p.name}: primary at {p.host}:{p.port} ({p.status}, {p.replicas} replica"
                        f"{'s' if p.replicas != 1 else ''}) -> {u}" for p, u in zip(primaries, urls, strict=True))
    hint = (f"CLAUDE_MEM_REDIS_URL={urls[0]}" if len(urls) == 1
            else "CLAUDE_MEM_REDIS_URL=<the URL of the one primary for claude-mem, listed above>")
    return ProbeResult("topology", label, Status.FAIL,
                       f"{target.address} is a Sentinel, not a queue store; it monitors {listing}",
                       detail=STABLE_ADDRESS, hint=hint + "   (a stable address for it survives failovers, see detail)",
                       data=data)


def read_topology(conn: StoreConnection, info: Mapping[str, str], config: Mapping[str, str] | None = None) -> Topology:
    """parse_topology, then ask what INFO does not say: a Sentinel's primaries now, a cluster node's CLUSTER INFO.

    Errors of those extra questions are swallowed: INFO's own answer still stands.
    """
    topo = parse_topology(info, config)
    try:
        if topo.role is Role.SENTINEL:
            asked = parse_sentinel_masters(conn.command("SENTINEL", "MASTERS"))
            if asked:
                topo = replace(topo, monitored=asked)
        elif topo.role is Role.CLUSTER:
            topo = replace(topo, cluster=parse_info(conn.text("CLUSTER", "INFO")))
        elif topo.good_replicas is not None and topo.min_replicas is None:
            pairs = conn.command("CONFIG", "GET", "min-replicas-to-write")
            if isinstance(pairs, list) and len(pairs) == 2 and isinstance(pairs[1], bytes):
                topo = replace(topo, min_replicas=_int(pairs[1].decode()))
    except (OSError, RespError):
        pass
    return topo


def status_problem(info: Mapping[str, str], target: RedisTarget,
                   config: dict[str, str] | None = None) -> tuple[str, str] | None:
    """(problem, hint) for `cmem-ops status` when the URL cannot take claude-mem's writes, from INFO (pure)."""
    verdict = check_topology(parse_topology(info, config), target, "status")
    if verdict.status is Status.OK:
        return None
    return verdict.summary, verdict.hint or ""
