"""The Grafana dashboard and the alert rules query only series `cmem-ops metrics` exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from cmem_ops.metrics.exposition import format_exposition
from tests.unit.metrics.test_metrics_pure import snapshot

DOCS = Path(__file__).resolve().parents[3] / "docs"
SERIES = re.compile(r"\b((?:bullmq|cmem_ops)_[a-z_]+)")


def exported() -> set[str]:
    names = set()
    for line in format_exposition(snapshot()).splitlines():
        if line.startswith("# TYPE "):
            names.add(line.split()[2])
    return names


def test_dashboard_queries_exported_series() -> None:
    dashboard = json.loads((DOCS / "grafana-dashboard.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    used = {m for e in exprs for m in SERIES.findall(e)}
    assert used and used <= exported(), used - exported()


def test_alert_rules_query_exported_series() -> None:
    rules = yaml.safe_load((DOCS / "prometheus-alerts.yml").read_text())
    exprs = [r["expr"] for g in rules["groups"] for r in g["rules"]]
    used = {m for e in exprs for m in SERIES.findall(e)}
    assert used <= exported(), used - exported()
    names = {r["alert"] for g in rules["groups"] for r in g["rules"]}
    assert {"ClaudeMemBacklogOld", "ClaudeMemNoWorkerWithWorkWaiting", "ClaudeMemFailedJobsRising",
            "ClaudeMemStoreDown", "ClaudeMemStoreAofWriteError", "ClaudeMemStoreMemoryNearMax"} <= names
