"""Run extract → topology → analyze → recommend on a scenario snapshot, without processes.

For analyzer unit tests only: `investigate_scenario` and production go through the real agent.
"""

from __future__ import annotations

import time
from pathlib import Path

from alerts.sources import get_adapter
from investigations.engine.analysis import run_analyzers
from investigations.engine.context import Context
from investigations.engine.result import build_result
from investigations.engine.snapshot import load_scenario, view_from_cluster_json
from investigations.engine.target import target_from_fields
from investigations.engine.topology import build_topology


def alert_fields(alert_json: dict, source: str = "alertmanager") -> dict:
    """The first firing alert of a scenario's alert.json, as the fields a Signal would hold."""
    alerts = get_adapter(source).parse(alert_json, headers={})
    firing = [a for a in alerts if a.status == "firing"] or alerts
    first = firing[0]
    return {
        "alertname": first.alertname,
        "labels": first.labels,
        "annotations": first.annotations,
        "summary": first.summary,
        "description": first.description,
        "cluster": first.cluster,
        "namespace": first.namespace,
        "pod": first.pod,
        "container": first.container,
        "workload": first.workload,
        "workload_kind": first.workload_kind,
        "node": first.node,
        "starts_at": first.starts_at.isoformat() if first.starts_at else None,
    }


def investigate_snapshot(folder: str | Path) -> tuple[dict, dict | None]:
    alert, cluster, expected = load_scenario(folder)
    started = time.perf_counter()
    source = (expected or {}).get("alert_source") or "alertmanager"
    fields = alert_fields(alert, source)
    target = target_from_fields(fields)
    view = view_from_cluster_json(cluster)
    topology = build_topology(view, target)
    ctx = Context(view, target, topology)
    analysis = run_analyzers(ctx)
    result = build_result(
        ctx, analysis, timings={"total": time.perf_counter() - started}, alert_start=fields["starts_at"]
    )
    return result, expected
