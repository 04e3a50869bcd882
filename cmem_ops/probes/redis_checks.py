"""Pure verdicts over a StoreSnapshot: version, eviction policy, persistence, memory, clients,
latency, exposure and Dragonfly flags. No I/O: tested on INFO captured from real servers."""

from __future__ import annotations

import ipaddress

from ..store.binaries import MIN_REDIS
from ..store.flavour import Flavour, detect_flavour
from ..versions import at_least
from .base import ProbeResult, Status
from .redis_conn import StoreHints, StoreSnapshot, persistence_fix

MIN_REDIS_TEXT = ".".join(map(str, MIN_REDIS))
MEMORY_WARN, MEMORY_FAIL = 0.80, 0.95
CLIENTS_WARN = 0.80
LATENCY_WARN_MS = 10.0


def check_version(snap: StoreSnapshot, label: str, hints: StoreHints) -> ProbeResult:
    """Flavour and version; FAIL below Redis 6.2 (BullMQ's floor)."""
    flavour, version = detect_flavour(snap.info)
    data = {"flavour": flavour.value, "version": version}
    text = f"{flavour.display} {version}"
    if flavour is Flavour.REDIS and not at_least(version, MIN_REDIS_TEXT):
        return ProbeResult("server", label, Status.FAIL, f"{text} is older than Redis 6.2, the oldest BullMQ supports",
                           hint="upgrade the server, or let cmem-ops manage Valkey: cmem-ops install", data=data)
    return ProbeResult("server", label, Status.OK, text, data=data)


def _config_for_fix(snap: StoreSnapshot) -> dict[str, str]:
    if snap.config is None:
        return {"dir!": f"CONFIG is refused: {snap.config_error or 'disabled'}"}
    return snap.config


def check_policy(snap: StoreSnapshot, label: str, hints: StoreHints) -> ProbeResult:
    """maxmemory-policy must be noeviction: any eviction silently deletes queued jobs."""
    policy = (snap.config or {}).get("maxmemory-policy") or snap.info.get("maxmemory_policy")
    source = "CONFIG GET" if (snap.config or {}).get("maxmemory-policy") else "INFO memory"
    if not policy:
        return ProbeResult("eviction policy", label, Status.WARN, "unknown: CONFIG is disabled and INFO does not say",
                           detail=snap.config_error or "",
                           hint="ask your provider to set maxmemory-policy noeviction")
    if policy == "noeviction":
        return ProbeResult("eviction policy", label, Status.OK, "noeviction", detail=f"from {source}",
                           data={"policy": policy})
    fix = hints.restart if "cmem-ops" in hints.restart else \
        f"redis-cli -u {snap.target.url(redact=True)} CONFIG SET maxmemory-policy noeviction && " \
        f"redis-cli -u {snap.target.url(redact=True)} CONFIG REWRITE"
    return ProbeResult("eviction policy", label, Status.FAIL,
                       f"{policy}: the server may evict queued jobs; BullMQ requires noeviction",
                       detail=f"from {source}", hint=fix, data={"policy": policy})


def check_persistence(snap: StoreSnapshot, label: str, hints: StoreHints) -> ProbeResult:
    """AOF on (everysec or always) and the last writes succeeded."""
    cfg = snap.config or {}
    info = snap.info
    aof = cfg.get("appendonly", "yes" if info.get("aof_enabled") == "1" else "no" if "aof_enabled" in info else "")
    fsync = cfg.get("appendfsync", "")
    data = {"appendonly": aof, "appendfsync": fsync, "aof_last_write_status": info.get("aof_last_write_status"),
            "rdb_last_bgsave_status": info.get("rdb_last_bgsave_status"),
            "aof_last_bgrewrite_status": info.get("aof_last_bgrewrite_status")}
    url = snap.target.url(redact=True)
    if info.get("aof_last_write_status", "ok") != "ok":
        return ProbeResult("persistence", label, Status.FAIL, "the last AOF write failed: jobs are not being saved",
                           detail="aof_last_write_status:err: usually a full disk, or the data dir is gone or "
                                  "not writable", hint=persistence_fix(_config_for_fix(snap), hints),
                           data={**data, "dir": (snap.config or {}).get("dir")})
    problems = []
    if info.get("rdb_last_bgsave_status", "ok") != "ok":
        problems.append("the last RDB snapshot failed")
    if info.get("aof_last_bgrewrite_status", "ok") != "ok":
        problems.append("the last AOF rewrite failed")
    if aof == "no":
        return ProbeResult("persistence", label, Status.WARN, "no AOF: a crash loses every job since the last snapshot",
                           detail="; ".join(problems),
                           hint=hints.restart if "cmem-ops" in hints.restart
                           else f"redis-cli -u {url} CONFIG SET appendonly yes && redis-cli -u {url} CONFIG REWRITE",
                           data=data)
    if not aof:
        return ProbeResult("persistence", label, Status.WARN, "unknown: CONFIG is disabled and INFO does not say",
                           hint="ask your provider to enable AOF (appendonly yes, appendfsync everysec)", data=data)
    if fsync == "no":
        problems.append("appendfsync no leaves flushing to the OS (up to ~30 s of jobs at risk)")
    if problems:
        return ProbeResult("persistence", label, Status.WARN, f"AOF {fsync or 'on'}, but " + "; ".join(problems),
                           hint=hints.restart if "cmem-ops" in hints.restart
                           else f"redis-cli -u {url} CONFIG SET appendfsync everysec", data=data)
    return ProbeResult("persistence", label, Status.OK, f"AOF {fsync or 'on'}", data=data)


def check_memory(snap: StoreSnapshot, label: str, hints: StoreHints) -> ProbeResult:
    """used_memory against maxmemory: with noeviction a full store refuses new jobs."""
    used = int(snap.info.get("used_memory", "0") or 0)
    limit = int((snap.config or {}).get("maxmemory") or snap.info.get("maxmemory", "0") or 0)
    human = snap.info.get("used_memory_human", f"{used}B")
    data = {"used_memory": used, "maxmemory": limit}
    if not limit:
        return ProbeResult("memory", label, Status.OK, f"{human} used, no maxmemory limit", data=data)
    ratio = used / limit
    text = f"{human} of {limit // (1024 * 1024)} MiB ({ratio:.0%})"
    if ratio >= MEMORY_FAIL:
        return ProbeResult("memory", label, Status.FAIL, f"{text}: writes (new jobs) will be refused",
                           hint="raise maxmemory, or drain old jobs: cmem-ops doctor --only store", data=data)
    if ratio >= MEMORY_WARN:
        return ProbeResult("memory", label, Status.WARN, f"{text}: above 80% of maxmemory",
                           hint="raise maxmemory before it fills", data=data)
    return ProbeResult("memory", label, Status.OK, text, data=data)


def check_clients(snap: StoreSnapshot, label: str, hints: StoreHints) -> ProbeResult:
    """connected_clients against maxclients, and rejected_connections."""
    clients = int(snap.info.get("connected_clients", "0") or 0)
    maxclients = int((snap.config or {}).get("maxclients") or snap.info.get("maxclients", "0") or 0)
    rejected = int(snap.info.get("rejected_connections", "0") or 0)
    data = {"connected_clients": clients, "maxclients": maxclients, "rejected_connections": rejected}
    text = f"{clients} connected" + (f" of {maxclients}" if maxclients else "")
    if rejected:
        return ProbeResult("clients", label, Status.WARN, f"{text}; {rejected} connections were rejected",
                           detail="the server refused clients at maxclients at some point",
                           hint="raise maxclients, or look for a client leaking connections (CLIENT LIST)", data=data)
    if maxclients and clients >= CLIENTS_WARN * maxclients:
        return ProbeResult("clients", label, Status.WARN, f"{text}: above 80% of maxclients",
                           hint="look for a client leaking connections: redis-cli CLIENT LIST", data=data)
    return ProbeResult("clients", label, Status.OK, text, data=data)


def check_latency(snap: StoreSnapshot, label: str, hints: StoreHints) -> ProbeResult:
    """PING round trip; above 10 ms the queue slows every job."""
    data = {"ping_ms": round(snap.ping_ms, 3)}
    if snap.ping_ms > LATENCY_WARN_MS:
        return ProbeResult("latency", label, Status.WARN, f"PING took {snap.ping_ms:.1f} ms (> {LATENCY_WARN_MS:g} ms)",
                           hint=f"measure over time: redis-cli -u {snap.target.url(redact=True)} --latency-history",
                           data=data)
    return ProbeResult("latency", label, Status.OK, f"PING {snap.ping_ms:.2f} ms", data=data)


def _is_loopback(addr: str) -> bool:
    addr = addr.lstrip("-").strip("[]")
    if addr in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(addr).is_loopback
    except ValueError:
        return False


def check_exposure(snap: StoreSnapshot, label: str, hints: StoreHints) -> ProbeResult:
    """WARN when the store listens beyond loopback without a password or with protected-mode off."""
    cfg = snap.config
    has_password = snap.target.password is not None or bool((cfg or {}).get("requirepass"))
    if cfg is None or "bind" not in cfg:
        if not _is_loopback(snap.target.host) and not has_password:
            return ProbeResult("exposure", label, Status.WARN,
                               f"{snap.target.address} is reached over the network without a password",
                               hint="set a password (requirepass or an ACL user) and put it in CLAUDE_MEM_REDIS_URL")
        return ProbeResult("exposure", label, Status.OK, "bind addresses unknown (CONFIG disabled)")
    binds = cfg.get("bind", "").split() or ["*"]
    protected = cfg.get("protected-mode", "yes") == "yes"
    wide = [b for b in binds if not _is_loopback(b)]
    data = {"bind": binds, "protected_mode": protected, "password": has_password}
    if wide and (not has_password or not protected):
        why = "without a password" if not has_password else "with protected-mode off"
        return ProbeResult("exposure", label, Status.WARN, f"listens on {' '.join(wide)} {why}",
                           detail="anyone who can reach this host can read and delete the queue",
                           hint=hints.restart if "cmem-ops" in hints.restart
                           else "bind it to 127.0.0.1 (bind 127.0.0.1 ::1) or set requirepass, then restart it",
                           data=data)
    where = "loopback only" if not wide else f"{' '.join(wide)}, password required"
    return ProbeResult("exposure", label, Status.OK, where, data=data)


def check_dragonfly(snap: StoreSnapshot, label: str, hints: StoreHints, prefix: str | None) -> ProbeResult | None:
    """Dragonfly serves claude-mem only with undeclared-key Lua (--default_lua_flags=allow-undeclared-keys).

    Emulated cluster mode with hashtag locks needs a `{hashtag}` queue prefix, which claude-mem cannot
    have: it rewrites every character outside [a-zA-Z0-9_-] in CLAUDE_MEM_QUEUE_REDIS_PREFIX to `_`.
    """
    flavour, _ = detect_flavour(snap.info)
    if flavour is not Flavour.DRAGONFLY:
        return None
    cfg = snap.config or {}
    emulated = cfg.get("cluster_mode") == "emulated" and cfg.get("lock_on_hashtags") in ("true", "1", "yes")
    undeclared = "allow-undeclared-keys" in cfg.get("default_lua_flags", "")
    data = {"cluster_mode": cfg.get("cluster_mode"), "lock_on_hashtags": cfg.get("lock_on_hashtags"),
            "default_lua_flags": cfg.get("default_lua_flags"), "prefix": prefix}
    if undeclared:
        return ProbeResult("dragonfly flags", label, Status.OK, "default_lua_flags=allow-undeclared-keys", data=data)
    fix = ("restart dragonfly with --default_lua_flags=allow-undeclared-keys (the only mode claude-mem can use), "
           "then: " + hints.restart)
    if snap.config is None:
        return ProbeResult("dragonfly flags", label, Status.WARN,
                           "cannot tell whether Dragonfly allows undeclared keys: CONFIG is blocked", hint=fix,
                           data=data)
    why = ("emulated cluster mode with hashtag locks needs a {hashtag} queue prefix, and claude-mem rewrites "
           "braces in CLAUDE_MEM_QUEUE_REDIS_PREFIX to _" if emulated
           else "BullMQ's scripts touch keys they do not declare, which Dragonfly refuses by default")
    return ProbeResult("dragonfly flags", label, Status.FAIL,
                       "Dragonfly runs without --default_lua_flags=allow-undeclared-keys: claude-mem's queue "
                       "scripts will fail", detail=why, hint=fix, data=data)
