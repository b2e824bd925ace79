"""Run extract → topology → analyze → recommend on a scenario snapshot, without processes.

For analyzer unit tests only: `investigate_scenario` and production go through the real agent.
"""

from __future__ import annotations

import time
from pathlib import Path

from alerts.sources import NormalizedAlert, get_adapter
from investigations.engine.analysis import Analysis, run_analyzers
from investigations.engine.context import Context
from investigations.engine.lookup import resolve_target
from investigations.engine.result import build_result
from investigations.engine.snapshot import load_scenario, view_from_cluster_json
from investigations.engine.target import target_candidates
from investigations.engine.topology import build_topology


def alert_fields(alert_json: dict, source: str = "alertmanager") -> dict:
    """The first firing alert of a scenario's alert.json, as the fields a Signal would hold, with
    the payload's other alerts as its `group` (what the runner reads from the database)."""
    alerts = get_adapter(source).parse(alert_json, headers={})
    firing = [a for a in alerts if a.status == "firing"] or alerts
    first = firing[0]
    fields = _fields(first)
    fields["group"] = [_fields(a) for a in alerts if a is not first and not a.pipeline and not a.test]
    return fields


def _fields(alert: NormalizedAlert) -> dict:
    return {
        "source": alert.source,
        "status": alert.status,
        "alertname": alert.alertname,
        "labels": alert.labels,
        "annotations": alert.annotations,
        "summary": alert.summary,
        "description": alert.description,
        "cluster": alert.cluster,
        "namespace": alert.namespace,
        "pod": alert.pod,
        "container": alert.container,
        "workload": alert.workload,
        "workload_kind": alert.workload_kind,
        "node": alert.node,
        "extraction": alert.extraction,
        "starts_at": alert.starts_at.isoformat() if alert.starts_at else None,
    }


def investigate_snapshot(folder: str | Path) -> tuple[dict, dict | None]:
    alert, cluster, expected = load_scenario(folder)
    started = time.perf_counter()
    source = (expected or {}).get("alert_source") or "alertmanager"
    fields = alert_fields(alert, source)
    view = view_from_cluster_json(cluster)
    # The snapshot holds every object: whatever is absent from it is absent from the cluster.
    target, view = resolve_target(
        target_candidates(fields),
        view,
        listed=lambda kind, namespace: True,
        read_namespace=lambda _: view,
    )
    topology = build_topology(view, target)
    ctx = Context(view, target, topology)
    analysis = run_analyzers(ctx) if not target.not_found else Analysis(None, [], [], [])
    result = build_result(
        ctx, analysis, timings={"total": time.perf_counter() - started}, alert_start=fields["starts_at"]
    )
    return result, expected
