"""Version conversions the API server does on read: HPA autoscaling v1 ↔ v2, core ↔ events.k8s.io Events."""

from __future__ import annotations

import json
from typing import Any

Obj = dict[str, Any]


def _cpu_utilization(metrics: list[Obj] | None, field: str) -> int | None:
    for metric in metrics or []:
        resource = metric.get("resource") or {}
        if metric.get("type") == "Resource" and resource.get("name") == "cpu":
            value = (resource.get(field) or {}).get("averageUtilization")
            if value is not None:
                return value
    return None


def hpa_v2_to_v1(obj: Obj) -> Obj:
    """What `GET /apis/autoscaling/v1/...` shows for an HPA stored as v2."""
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    metadata = json.loads(json.dumps(obj.get("metadata") or {}))
    if status.get("conditions"):
        annotations = metadata.setdefault("annotations", {})
        annotations["autoscaling.alpha.kubernetes.io/conditions"] = json.dumps(status["conditions"])
    v1_spec = {k: spec[k] for k in ("scaleTargetRef", "minReplicas", "maxReplicas") if k in spec}
    target = _cpu_utilization(spec.get("metrics"), "target")
    if target is not None:
        v1_spec["targetCPUUtilizationPercentage"] = target
    v1_status = {
        k: status[k]
        for k in ("observedGeneration", "lastScaleTime", "currentReplicas", "desiredReplicas")
        if k in status
    }
    v1_status.setdefault("currentReplicas", 0)
    v1_status.setdefault("desiredReplicas", 0)
    current = _cpu_utilization(status.get("currentMetrics"), "current")
    if current is not None:
        v1_status["currentCPUUtilizationPercentage"] = current
    return {
        "apiVersion": "autoscaling/v1",
        "kind": "HorizontalPodAutoscaler",
        "metadata": metadata,
        "spec": v1_spec,
        "status": v1_status,
    }


def hpa_v1_to_v2(obj: Obj) -> Obj:
    """The v2 storage form of an HPA a scenario wrote as autoscaling/v1."""
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    metadata = json.loads(json.dumps(obj.get("metadata") or {}))
    annotations = metadata.get("annotations") or {}
    v2_spec = {k: spec[k] for k in ("scaleTargetRef", "minReplicas", "maxReplicas") if k in spec}
    if "targetCPUUtilizationPercentage" in spec:
        v2_spec["metrics"] = [_cpu_metric("target", "Utilization", spec["targetCPUUtilizationPercentage"])]
    v2_status = {
        k: status[k]
        for k in ("observedGeneration", "lastScaleTime", "currentReplicas", "desiredReplicas")
        if k in status
    }
    if "currentCPUUtilizationPercentage" in status:
        v2_status["currentMetrics"] = [
            _cpu_metric("current", None, status["currentCPUUtilizationPercentage"])
        ]
    conditions = annotations.pop("autoscaling.alpha.kubernetes.io/conditions", None)
    if conditions:
        v2_status["conditions"] = json.loads(conditions)
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": metadata,
        "spec": v2_spec,
        "status": v2_status,
    }


def _cpu_metric(field: str, target_type: str | None, value: int) -> Obj:
    inner: Obj = {"averageUtilization": value}
    if target_type:
        inner["type"] = target_type
    return {"type": "Resource", "resource": {"name": "cpu", field: inner}}


def _micro_time(timestamp: str | None) -> str | None:
    """`2025-03-18T15:12:05Z` → `2025-03-18T15:12:05.000000Z` (a MicroTime)."""
    if not timestamp:
        return None
    if "." in timestamp:
        return timestamp
    return timestamp.replace("Z", ".000000Z") if timestamp.endswith("Z") else timestamp


def event_core_to_events_v1(obj: Obj) -> Obj:
    """The events.k8s.io/v1 view of a core/v1 Event.

    Unlike the real API server, `eventTime` is filled from first/lastTimestamp when the core
    Event has none: it is required in events.k8s.io/v1, and the typed client refuses a null.
    """
    source = obj.get("source") or {}
    out: Obj = {
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": obj.get("metadata") or {},
        "eventTime": obj.get("eventTime")
        or _micro_time(obj.get("firstTimestamp") or obj.get("lastTimestamp"))
        or _micro_time((obj.get("metadata") or {}).get("creationTimestamp")),
        "reportingController": obj.get("reportingComponent") or source.get("component", ""),
        "reportingInstance": obj.get("reportingInstance") or source.get("host", ""),
        "regarding": obj.get("involvedObject") or {},
        "note": obj.get("message", ""),
        "reason": obj.get("reason", ""),
        "type": obj.get("type", ""),
    }
    for core_key, v1_key in (
        ("action", "action"),
        ("related", "related"),
        ("series", "series"),
        ("source", "deprecatedSource"),
        ("firstTimestamp", "deprecatedFirstTimestamp"),
        ("lastTimestamp", "deprecatedLastTimestamp"),
        ("count", "deprecatedCount"),
    ):
        if obj.get(core_key) is not None:
            out[v1_key] = obj[core_key]
    return out


def event_v1_to_core(obj: Obj) -> Obj:
    """The core/v1 storage form of an Event a scenario wrote as events.k8s.io/v1."""
    out: Obj = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": obj.get("metadata") or {},
        "involvedObject": obj.get("regarding") or {},
        "message": obj.get("note", ""),
        "reason": obj.get("reason", ""),
        "type": obj.get("type", ""),
        "eventTime": obj.get("eventTime"),
        "reportingComponent": obj.get("reportingController", ""),
        "reportingInstance": obj.get("reportingInstance", ""),
        "source": obj.get("deprecatedSource") or {"component": obj.get("reportingController", "")},
    }
    for v1_key, core_key in (
        ("action", "action"),
        ("related", "related"),
        ("series", "series"),
        ("deprecatedFirstTimestamp", "firstTimestamp"),
        ("deprecatedLastTimestamp", "lastTimestamp"),
        ("deprecatedCount", "count"),
    ):
        if obj.get(v1_key) is not None:
            out[core_key] = obj[v1_key]
    return out
