"""Hosted Redis/Valkey services: recognise the provider, and give its own way to fix policy and persistence.

Hosted services block CONFIG (so `CONFIG SET maxmemory-policy noeviction` is no fix there) and each
has its own durability story instead of AOF. What can be told comes from the host name (a table of
globs) and from CONFIG being blocked; Memorystore has private IPs only and no name to go by, so a
private address with CONFIG blocked is reported as "cannot tell which provider". The providers are a
data table (PROVIDERS): adding one is a row, not a branch.

    detect_provider(host, config_blocked) -> Detection      pure
    adjust(result, detection) -> ProbeResult                 pure: rewrites the eviction-policy and
                                                             persistence verdicts for a hosted service
    check_provider(detection, label) -> ProbeResult | None   pure: what was recognised, and how
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from fnmatch import fnmatchcase

from .base import ProbeResult, Status


@dataclass(frozen=True)
class Provider:
    """One hosted service: how to recognise it, how to set noeviction there, what it promises instead of AOF."""

    key: str
    name: str
    names: tuple[str, ...]  # host-name globs (fnmatch), lower case
    policy_fix: str
    durability: str
    durability_fix: str = ""  # what to change for durable jobs ("" when nothing is needed)
    durable: bool = False  # every acknowledged write survives a node loss without AOF


PROVIDERS: tuple[Provider, ...] = (
    Provider("memorydb", "Amazon MemoryDB", ("*.memorydb.*.amazonaws.com", "*.memorydb.*.amazonaws.com.cn"),
             "set maxmemory-policy noeviction in the cluster's parameter group: aws memorydb update-parameter-group "
             "--parameter-group-name <group> --parameter-name-values ParameterName=maxmemory-policy,"
             "ParameterValue=noeviction (a default group cannot be changed: create-parameter-group, then "
             "update-cluster --parameter-group-name <group>)",
             "MemoryDB commits every write to a Multi-AZ transaction log before acknowledging it", durable=True),
    Provider("elasticache", "Amazon ElastiCache", ("*.cache.amazonaws.com", "*.cache.amazonaws.com.cn"),
             "set maxmemory-policy noeviction in a custom parameter group and attach it: aws elasticache "
             "modify-cache-parameter-group --cache-parameter-group-name <group> --parameter-name-values "
             "ParameterName=maxmemory-policy,ParameterValue=noeviction (default groups are read-only: "
             "create-cache-parameter-group, then modify-replication-group --cache-parameter-group-name <group> "
             "--apply-immediately)",
             "ElastiCache offers no AOF: durability is replicas with Multi-AZ automatic failover plus snapshots, so "
             "jobs not yet replicated (or since the last snapshot, without replicas) are lost when a node fails; "
             "for durable queues use Amazon MemoryDB",
             "keep a replica with Multi-AZ automatic failover: aws elasticache modify-replication-group "
             "--replication-group-id <id> --automatic-failover-enabled --multi-az-enabled --apply-immediately; "
             "or move the queue to Amazon MemoryDB"),
    Provider("azure", "Azure Cache for Redis", ("*.redis.cache.windows.net", "*.redis.cache.chinacloudapi.cn",
                                                "*.redis.azure.net"),
             "Azure portal > the cache > Advanced settings > maxmemory-policy = noeviction, or: az redis update "
             "--name <cache> --resource-group <group> --set redisConfiguration.maxmemory-policy=noeviction",
             "Azure keeps data in memory only unless data persistence (RDB or AOF, Premium tier and above) is "
             "enabled",
             "Azure portal > the cache > Data persistence > AOF (Premium tier or above)"),
    Provider("upstash", "Upstash", ("*.upstash.io",),
             "Upstash console > the database > Configuration > Eviction: turn it off (writes are then refused when "
             "full, which is noeviction)",
             "Upstash writes every command to durable block storage (no AOF setting exists)", durable=True),
    Provider("digitalocean", "DigitalOcean Managed Caching/Valkey", ("*.db.ondigitalocean.com",),
             "DigitalOcean control panel > Databases > the cluster > Settings > Eviction policy: noeviction, or: doctl "
             "databases configuration update <cluster-id> --engine valkey --config-json "
             "'{\"valkey_maxmemory_policy\":\"noeviction\"}' (engine redis: redis_maxmemory_policy)",
             "DigitalOcean offers RDB snapshots only (its persistence setting: rdb or off), no AOF: jobs since the "
             "last snapshot are lost when the node fails",
             "accept RDB-only durability (keep the persistence setting on rdb), or run the queue on a store with "
             "AOF (cmem-ops store start)"),
    Provider("aiven", "Aiven for Valkey/Redis", ("*.aivencloud.com", "*.aiven.io"),
             "Aiven console > the service > Advanced configuration > valkey_maxmemory_policy = noeviction, or: avn "
             "service update <service> -c valkey_maxmemory_policy=noeviction (Aiven for Redis: "
             "redis_maxmemory_policy)",
             "Aiven persists with RDB backups (valkey_persistence rdb, or off), no AOF: jobs since the last backup "
             "are lost when the node fails",
             "keep valkey_persistence=rdb (avn service update <service> -c valkey_persistence=rdb), or run the "
             "queue on a store with AOF (cmem-ops store start)"),
    Provider("rediscloud", "Redis Cloud", ("*.redis-cloud.com", "*.redislabs.com", "*.rlrcp.com"),
             "Redis Cloud console > Databases > the database > Configuration > Durability > Eviction policy: "
             "No eviction",
             "Redis Cloud persists only when the database's Data persistence is set: choose Append-only file "
             "(AOF) every 1 second in its Durability settings",
             "Redis Cloud console > the database > Durability > Data persistence: Append-only file (AOF) every 1 "
             "sec"),
    Provider("memorystore", "Google Cloud Memorystore", (),
             "gcloud redis instances update <instance> --region=<region> --update-redis-config "
             "maxmemory-policy=noeviction (Memorystore for Valkey: gcloud memorystore instances update <instance> "
             "--location=<region> --engine-configs=maxmemory-policy=noeviction)",
             "Memorystore for Redis persists only with RDB snapshots when persistence is enabled "
             "(--persistence-mode=rdb); Memorystore for Valkey and Redis Cluster offer AOF (--persistence-mode=aof)",
             "gcloud memorystore instances update <instance> --location=<region> --persistence-mode=aof (Valkey), "
             "or gcloud redis instances update <instance> --region=<region> --persistence-mode=rdb (Redis)"),
)
BY_KEY = {p.key: p for p in PROVIDERS}


@dataclass(frozen=True)
class Detection:
    """What is known about who runs the store: a provider, or only that it is hosted, or nothing."""

    provider: Provider | None
    hosted: bool
    how: str  # how it was told, or why it cannot be


def _loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _private_ip(host: str) -> bool:
    try:
        addr = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return addr.is_private and not addr.is_loopback


def detect_provider(host: str, config_blocked: bool) -> Detection:
    """The provider from the host name, else whether CONFIG being blocked says it is hosted (pure).

    `config_blocked` means CONFIG is unknown or renamed; an ACL user denied CONFIG (NOPERM) says nothing
    about who runs the server, and the caller passes False for it.
    """
    name = host.lower().rstrip(".")
    for provider in PROVIDERS:
        for pattern in provider.names:
            if fnmatchcase(name, pattern):
                return Detection(provider, True, f"host name {pattern}")
    if not config_blocked or _loopback(host):  # no hosted service answers on this machine's loopback
        return Detection(None, False, "")
    if _private_ip(host):
        return Detection(None, True, f"CONFIG is blocked at the private address {host}: a managed service, but "
                                     "which one cannot be told (Google Cloud Memorystore has private IPs only; any "
                                     "provider's private endpoint looks the same)")
    return Detection(None, True, f"CONFIG is blocked and the host name {host} matches no known provider: a managed "
                                 "service (or a locked-down server) that cannot be told apart")


GENERIC_POLICY = ("CONFIG is blocked, so set maxmemory-policy to noeviction where the service is configured: "
                  "ElastiCache/MemoryDB parameter group, Memorystore `gcloud ... --update-redis-config`, Azure "
                  "Advanced settings, Upstash Eviction off, DigitalOcean/Aiven advanced config, Redis Cloud "
                  "eviction policy (see docs/doctor.md, Hosted services)")
GENERIC_DURABILITY = ("CONFIG is blocked, so AOF cannot be turned on from here: check the provider's persistence "
                      "setting (AOF every second where it exists) and what it promises on a node failure")


def adjust(result: ProbeResult, detection: Detection) -> ProbeResult:
    """The eviction-policy or persistence verdict with the provider's own fix instead of CONFIG SET (pure)."""
    if not detection.hosted:
        return result
    if result.name == "eviction policy" and result.status is not Status.OK:
        provider = detection.provider
        where = f"{provider.name} blocks CONFIG SET" if provider else "CONFIG SET is blocked here"
        return result._replace(hint=provider.policy_fix if provider else GENERIC_POLICY,
                       detail="; ".join(x for x in (result.detail, where) if x))
    if result.name == "persistence" and str(result.data.get("appendonly") or "") in ("no", ""):
        return _persistence(result, detection.provider)
    return result


def _persistence(result: ProbeResult, provider: Provider | None) -> ProbeResult:
    if provider is None:
        return result._replace(status=Status.WARN, hint=GENERIC_DURABILITY)
    if provider.durable:
        return result._replace(status=Status.OK, summary=f"no AOF, but {provider.durability}", hint=None)
    return result._replace(status=Status.WARN, summary=f"no AOF on {provider.name}: {provider.durability}",
                   hint=provider.durability_fix or f"see {provider.name}'s persistence settings")


def check_provider(detection: Detection, label: str) -> ProbeResult | None:
    """An informational result naming the provider and how it was told; None for a self-run server (pure)."""
    if not detection.hosted:
        return None
    data = {"provider": detection.provider.key if detection.provider else None, "how": detection.how}
    if detection.provider:
        return ProbeResult("provider", label, Status.OK, f"{detection.provider.name} (from the {detection.how})",
                           required=False, data=data)
    return ProbeResult("provider", label, Status.OK, "a managed service; the provider cannot be told",
                       detail=detection.how, required=False, data=data)
