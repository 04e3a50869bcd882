"""A MetricsSnapshot as Prometheus metrics: a custom prometheus_client Collector and the text format.

Queue counts use the name BullMQ's own exporter (`Queue.exportPrometheusMetrics()`) uses,
`bullmq_job_count{queue, state}`, with the same eight states, so dashboards built on it work here.
Everything else is `cmem_ops_*`. docs/metrics.md lists every series.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from .generation import STATUSES
from .lanes import STATES
from .snapshot import MetricsSnapshot


def _flag(value: bool) -> float:
    return 1.0 if value else 0.0


def build_metrics(snap: MetricsSnapshot) -> list[Metric]:
    """Every metric family of one snapshot (pure)."""
    out: list[Metric] = []
    jobs = GaugeMetricFamily("bullmq_job_count", "Number of jobs in the queue by state", labels=["queue", "state"])
    oldest = GaugeMetricFamily("cmem_ops_queue_oldest_waiting_age_seconds",
                               "Age of the oldest job ready to run and not yet taken (0 when none waits)",
                               labels=["queue"])
    workers = GaugeMetricFamily("cmem_ops_queue_workers", "Live BullMQ workers of the queue (CLIENT LIST names)",
                                labels=["queue"])
    visible = GaugeMetricFamily("cmem_ops_queue_workers_visible",
                                "1 when the store allows CLIENT LIST, so cmem_ops_queue_workers is known")
    for lane in snap.lanes:
        for state in STATES:
            jobs.add_metric([lane.queue, state], lane.counts.get(state, 0))
        oldest.add_metric([lane.queue], lane.oldest_waiting_age_s or 0.0)
        if lane.workers is not None:
            workers.add_metric([lane.queue], lane.workers)
    if snap.lanes:
        visible.add_metric([], _flag(all(lane.workers is not None for lane in snap.lanes)))
    out += [jobs, oldest, workers, visible]
    out += _store_metrics(snap)
    out += _generation_metrics(snap)
    server = GaugeMetricFamily("cmem_ops_server_up", "1 when the claude-mem server's /healthz answers ok")
    if snap.health.up is not None:
        server.add_metric([], _flag(snap.health.up))
    duration = GaugeMetricFamily("cmem_ops_scrape_duration_seconds", "Time this scrape spent on each source",
                                 labels=["source"])
    for source, seconds in sorted(snap.durations.items()):
        duration.add_metric([source], seconds)
    info = InfoMetricFamily("cmem_ops_queue", "The queue prefix claude-mem's processes use")
    info.add_metric([], {"prefix": snap.prefix})
    return [*out, server, duration, info]


def _store_metrics(snap: MetricsSnapshot) -> list[Metric]:
    store = snap.store
    up = GaugeMetricFamily("cmem_ops_store_up", "1 when the queue store answers INFO")
    up.add_metric([], _flag(store.up))
    if not store.up:
        return [up]
    info = InfoMetricFamily("cmem_ops_store", "The queue store's role, version and eviction policy")
    info.add_metric([], {"role": store.role or "", "version": store.version or "",
                         "eviction_policy": store.eviction_policy or ""})
    out: list[Metric] = [up, info]

    def gauge(name: str, doc: str, value: float | None) -> None:
        if value is not None:
            out.append(GaugeMetricFamily(name, doc, value=value))

    gauge("cmem_ops_store_memory_used_bytes", "used_memory from INFO", store.used_memory)
    gauge("cmem_ops_store_memory_max_bytes", "maxmemory from INFO (0: no limit)", store.max_memory)
    gauge("cmem_ops_store_aof_enabled", "1 when the append-only file is on",
          None if store.aof_enabled is None else _flag(store.aof_enabled))
    gauge("cmem_ops_store_aof_last_write_ok", "1 when the last AOF write succeeded (aof_last_write_status:ok)",
          None if store.aof_last_write_ok is None else _flag(store.aof_last_write_ok))
    gauge("cmem_ops_store_connected_clients", "connected_clients from INFO", store.connected_clients)
    gauge("cmem_ops_store_blocked_clients", "blocked_clients from INFO (idle BullMQ workers block)",
          store.blocked_clients)
    if store.evicted_keys is not None:
        out.append(CounterMetricFamily("cmem_ops_store_evicted_keys", "Keys evicted for maxmemory (BullMQ loses "
                                       "jobs when this grows)", value=store.evicted_keys))
    return out


def _generation_metrics(snap: MetricsSnapshot) -> list[Metric]:
    gen = snap.generation
    if gen is None:
        return []
    up = GaugeMetricFamily("cmem_ops_postgres_up", "1 when claude-mem's generation jobs could be counted")
    up.add_metric([], _flag(gen.error is None or bool(gen.counts)))
    if not gen.counts and gen.error:
        return [up]
    jobs = GaugeMetricFamily("cmem_ops_generation_jobs", "claude-mem generation jobs in Postgres by status",
                             labels=["status"])
    for status in sorted(set(STATUSES) | set(gen.counts)):
        jobs.add_metric([status], gen.counts.get(status, 0))
    divergent = GaugeMetricFamily("cmem_ops_generation_jobs_divergent",
                                  "Sampled jobs whose Postgres status and BullMQ state disagree", value=gen.divergent)
    checked = GaugeMetricFamily("cmem_ops_generation_jobs_divergence_checked",
                                "Jobs sampled for the divergence check in this scrape", value=gen.checked)
    return [up, jobs, divergent, checked]


class SnapshotCollector(Collector):
    """Collects a fresh snapshot on every scrape (`read` is called once per collect)."""

    def __init__(self, read: Callable[[], MetricsSnapshot]) -> None:
        self._read = read

    def collect(self) -> Iterator[Metric]:
        yield from build_metrics(self._read())


def build_registry(read: Callable[[], MetricsSnapshot]) -> CollectorRegistry:
    """A registry holding only our collector (no process/platform defaults: they describe cmem-ops, not the stack)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SnapshotCollector(read))
    return registry


def format_exposition(snap: MetricsSnapshot) -> str:
    """The Prometheus text exposition of one snapshot (pure)."""
    from prometheus_client.exposition import generate_latest

    return generate_latest(build_registry(lambda: snap)).decode()
