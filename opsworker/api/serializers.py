"""Model rows as API objects. What is left out is left out on purpose: token hashes and hints,
webhook secrets and credential settings never leave the server."""

from __future__ import annotations

from typing import Any


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def signal_summary(signal) -> dict[str, Any]:
    return {
        "id": signal.pk,
        "source": signal.source,
        "status": signal.status,
        "alertname": signal.alertname,
        "severity": signal.severity,
        "summary": signal.summary,
        "cluster": signal.cluster,
        "namespace": signal.namespace,
        "pod": signal.pod,
        "container": signal.container,
        "workload": signal.workload,
        "workload_kind": signal.workload_kind,
        "node": signal.node,
        "starts_at": _iso(signal.starts_at),
        "ends_at": _iso(signal.ends_at),
        "first_received_at": _iso(signal.first_received_at),
        "last_received_at": _iso(signal.last_received_at),
        "delivery_count": signal.delivery_count,
        "decision": signal.decision,
        "decision_reason": signal.decision_reason,
        "matched_rule_id": signal.matched_rule_id,
        "matched_rule_name": signal.matched_rule_name,
        "integration": (
            {"id": signal.integration_id, "name": signal.integration.name} if signal.integration_id else None
        ),
        "investigation_id": signal.investigation_id,
        "pipeline": signal.pipeline,
    }


def signal_detail(signal) -> dict[str, Any]:
    return {
        **signal_summary(signal),
        "description": signal.description,
        "severity_raw": signal.severity_raw,
        "labels": signal.labels,
        "annotations": signal.annotations,
        "links": signal.links,
        "extraction": signal.extraction,
    }


def investigation_summary(investigation) -> dict[str, Any]:
    return {
        "id": investigation.pk,
        "status": investigation.status,
        "trigger": investigation.trigger,
        "cluster": investigation.cluster,
        "namespace": investigation.namespace,
        "kind": investigation.resource_kind,
        "name": investigation.resource_name,
        "signal_id": investigation.signal_id,
        "rerun_of": investigation.rerun_of_id,
        "requested_by": investigation.requested_by,
        "created_at": _iso(investigation.created_at),
        "started_at": _iso(investigation.started_at),
        "finished_at": _iso(investigation.finished_at),
        "root_cause_category": investigation.root_cause_category,
        "confidence": investigation.confidence,
        "summary": investigation.summary,
        "partial": investigation.partial,
        "failure_reason": investigation.failure_reason,
    }


def investigation_detail(investigation) -> dict[str, Any]:
    return {
        **investigation_summary(investigation),
        "result": investigation.result,
        "llm_tokens": investigation.llm_tokens,
        "llm_cost": str(investigation.llm_cost),
        "steps": [
            {
                "stage": step.stage,
                "status": step.status,
                "started_at": _iso(step.started_at),
                "finished_at": _iso(step.finished_at),
                "summary": step.summary,
            }
            for step in investigation.steps.order_by("started_at", "pk")
        ],
    }


def rule_data(rule) -> dict[str, Any]:
    return {
        "id": rule.pk,
        "name": rule.name,
        "description": rule.description,
        "enabled": rule.enabled,
        "position": rule.position,
        "match_mode": rule.match_mode,
        "conditions": rule.conditions,
        "action": rule.action,
        "target_cluster": rule.target_cluster,
        "dedup_window_minutes": rule.dedup_window_minutes,
        "max_investigations_per_hour": rule.max_investigations_per_hour,
        "notify_channel": rule.notify_channel,
        "created_at": _iso(rule.created_at),
        "created_by": rule.created_by,
        "updated_at": _iso(rule.updated_at),
        "updated_by": rule.updated_by,
    }


def cluster_data(cluster, now) -> dict[str, Any]:
    # No token hash or hint: the agent's credential is only ever shown once, on the page.
    return {
        "id": cluster.pk,
        "name": cluster.name,
        "status": cluster.status_at(now),
        "transport": cluster.transport,
        "agent_version": cluster.agent_version,
        "kubernetes_version": cluster.kubernetes_version,
        "protocol_version": cluster.protocol_version,
        "last_seen_at": _iso(cluster.last_seen_at),
        "connected_at": _iso(cluster.connected_at),
        "created_at": _iso(cluster.created_at),
        "created_by": cluster.created_by,
    }


def integration_data(integration) -> dict[str, Any]:
    # No URL token, hint, auth username/header names or secrets.
    return {
        "id": integration.pk,
        "name": integration.name,
        "source": integration.source,
        "enabled": integration.enabled,
        "cluster_name": integration.cluster_name,
        "auth_kind": integration.auth_kind,
        "allow_raw_delivery": integration.allow_raw_delivery,
        "rate_limit_per_minute": integration.rate_limit_per_minute,
        "created_at": _iso(integration.created_at),
        "created_by": integration.created_by,
        "last_received_at": _iso(integration.last_received_at),
        "deliveries_total": integration.deliveries_total,
        "alerts_total": integration.alerts_total,
        "rejected_total": integration.rejected_total,
        "last_error": integration.last_error,
        "last_error_at": _iso(integration.last_error_at),
    }
