"""Generic JSON webhook: OpsWorker's own format, for scripts, cron jobs and anything with curl.

POST either one alert object or ``{"alerts": [ ... ]}`` with ``Content-Type: application/json``::

    curl -X POST https://acme.opsworker.example/hooks/generic/<token>/ \\
      -H 'Content-Type: application/json' \\
      -d '{"alertname": "PaymentsQueueBacklog", "severity": "warning",
           "namespace": "payments", "pod": "queue-worker-5c9d7-xk2lp",
           "summary": "Queue backlog above 10k for 10 minutes"}'

Keys of an alert (only ``alertname`` is required; unknown keys are ignored):

==================  ============================================================================
``alertname``       required, non-empty string: what is wrong ("PaymentsQueueBacklog")
``status``          ``firing`` (default) or ``resolved``
``severity``        critical, warning or info (also high/error/P1… → critical, warn/medium →
                    warning, low/informational → info; anything else is kept but unknown)
``summary``         one line
``description``     longer text; Kubernetes names in it ("pod payments/api-7d9f") are picked up
``labels``          object of strings (numbers and booleans are turned into text)
``annotations``     object of strings (``runbook_url`` becomes the runbook link)
``cluster``, ``namespace``, ``pod``, ``container``, ``node``
                    strings; when absent they are read from ``labels`` (Prometheus names:
                    ``namespace``, ``pod``, ``deployment``…), then from summary/description
``workload``        the owning controller's name, with ``workload_kind`` (Deployment,
                    StatefulSet, DaemonSet, Job, CronJob…)
``starts_at``       RFC 3339 time (``2025-03-14T09:58:07Z``, offsets allowed; no offset = UTC)
``ends_at``         RFC 3339 time, kept for resolved alerts
``fingerprint``     string identifying the alert series so a later ``resolved`` matches its
                    ``firing``; default: a hash of alertname, labels and the Kubernetes fields
``links``           object of name → http(s) URL (``runbook``, ``dashboard``…); other schemes
                    are dropped
==================  ============================================================================

Send the same ``fingerprint`` (or the same alertname and labels) with ``"status": "resolved"``
to resolve an alert.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from alerts.sources.base import (
    STATUS_FIRING,
    STATUS_RESOLVED,
    AdapterBase,
    NormalizedAlert,
    ParseResult,
    PayloadError,
    parse_each,
)
from alerts.sources.kubernetes_fields import apply_kubernetes_fields, from_prometheus_labels
from alerts.sources.normalization import (
    content_hash,
    iso_z,
    normalize_severity,
    parse_timestamp,
    source_fingerprint,
    web_links,
)
from alerts.sources.validation import (
    expect_list,
    expect_object,
    optional_str,
    required_str,
    string_map,
)

_DIRECT_FIELDS = ("cluster", "namespace", "pod", "container", "workload", "workload_kind", "node")


class GenericAdapter(AdapterBase):
    """OpsWorker's documented JSON (see the module docstring) to normalized alerts."""

    name: ClassVar[str] = "generic"
    label: ClassVar[str] = "Generic JSON webhook"

    def parse_partial(self, payload: Any, *, headers: Mapping[str, str]) -> ParseResult:
        """One alert, or one per readable entry of `alerts` (the others rejected, each on its own)."""
        body = expect_object(payload, "")
        if "alerts" in body:
            items = expect_list(body["alerts"], "alerts")
            return parse_each(items, lambda index, item: _parse_alert(item, f"alerts[{index}]"))
        return ParseResult([_parse_alert(body, "")])


def _parse_alert(raw: Any, field: str) -> NormalizedAlert:
    obj = expect_object(raw, field)
    prefix = f"{field}." if field else ""
    alertname = required_str(obj, "alertname", field)
    status = optional_str(obj, "status", field) or STATUS_FIRING
    if status not in (STATUS_FIRING, STATUS_RESOLVED):
        raise PayloadError(f"{prefix}status must be firing or resolved, got {status[:40]!r}")
    labels = string_map(obj.get("labels"), f"{prefix}labels", coerce_scalars=True)
    annotations = string_map(obj.get("annotations"), f"{prefix}annotations", coerce_scalars=True)
    direct = {key: optional_str(obj, key, field) for key in _DIRECT_FIELDS}
    if not direct["workload"]:
        direct["workload_kind"] = ""  # a kind without a name describes nothing
    native = optional_str(obj, "fingerprint", field)
    identity = {"alertname": alertname, "labels": labels, **{k: v for k, v in direct.items() if v}}
    starts_at = parse_timestamp(obj.get("starts_at"), f"{prefix}starts_at")
    ends_at = parse_timestamp(obj.get("ends_at"), f"{prefix}ends_at")
    fingerprint = source_fingerprint("generic:", native or content_hash(identity))
    severity_raw = optional_str(obj, "severity", field)
    links = string_map(obj.get("links"), f"{prefix}links")
    if annotations.get("runbook_url") and "runbook" not in links:
        links["runbook"] = annotations["runbook_url"]
    alert = NormalizedAlert(
        source="generic",
        fingerprint=fingerprint,
        status=status,
        alertname=alertname,
        native_fingerprint=native,
        severity=normalize_severity(severity_raw),
        severity_raw=severity_raw,
        summary=optional_str(obj, "summary", field),
        description=optional_str(obj, "description", field),
        labels=labels,
        annotations=annotations,
        starts_at=starts_at,
        ends_at=ends_at if status == STATUS_RESOLVED else None,
        links=web_links(links),
        episode=f"{fingerprint}@{iso_z(starts_at)}" if starts_at else "",
    )
    found = from_prometheus_labels(labels)
    if direct["workload"]:
        # An explicit workload brings its own kind (possibly unknown), never the labels' one.
        found.pop("workload_kind", None)
    found.update({key: value for key, value in direct.items() if value})
    apply_kubernetes_fields(alert, found, (alert.summary, alert.description))
    return alert


ADAPTER = GenericAdapter()
