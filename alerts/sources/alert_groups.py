"""The Alertmanager-shaped alert group that Alertmanager (version 4) and Grafana (version 1) both send.

A group carries group-level facts and `alerts[]`; every alert becomes one `NormalizedAlert`.
Per-alert `status` beats the group's (a group can mix firing and resolved alerts); the
sender's `fingerprint` is kept and namespaced; the episode is fingerprint + startsAt.

One bad alert never costs the group (Alertmanager does not retry a 4xx): a number or boolean
label or annotation value becomes its text, and an alert that still cannot be read (an object
or array value, no alertname, a bad timestamp) is rejected on its own and reported.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from alerts.sources.base import (
    STATUS_FIRING,
    STATUS_RESOLVED,
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
    json_type,
    optional_int,
    optional_str,
    string_map,
)

# Alert object key -> links key (Grafana adds the dashboard, panel, silence and image links).
ALERTMANAGER_LINKS = {"generatorURL": "generator"}


@dataclasses.dataclass(frozen=True, slots=True)
class GroupFormat:
    """What differs between the senders of this shape."""

    source: str
    fingerprint_prefix: str
    link_fields: Mapping[str, str]
    is_pipeline: Callable[[str], bool]
    # Top-level keys copied into every alert's `group`, beyond the Alertmanager ones.
    extra_group_keys: tuple[str, ...] = ()


_GROUP_STRINGS = ("receiver", "groupKey", "externalURL")


def parse_group(payload: Any, fmt: GroupFormat) -> ParseResult:
    """The readable alerts of one group payload and the rejected ones; PayloadError for a bad group."""
    body = expect_object(payload, "")
    if "alerts" not in body:
        raise PayloadError("alerts is required (an array of alert objects)")
    raw_alerts = expect_list(body["alerts"], "alerts")
    group_status = _status(body, "status", "", required=False)
    group = _group_facts(body, fmt)
    return parse_each(
        raw_alerts, lambda index, raw: _parse_alert(raw, f"alerts[{index}]", group_status, group, fmt)
    )


def _group_facts(body: dict[str, Any], fmt: GroupFormat) -> dict[str, Any]:
    group: dict[str, Any] = {key: optional_str(body, key, "") for key in _GROUP_STRINGS}
    truncated = optional_int(body, "truncatedAlerts", "")
    group["truncatedAlerts"] = truncated or 0
    group["groupLabels"] = string_map(body.get("groupLabels"), "groupLabels", coerce_scalars=True)
    for key in fmt.extra_group_keys:
        value = body.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise PayloadError(f"{key} must be a string or a number, got {json_type(value)}")
        group[key] = value
    return group


def _status(obj: dict[str, Any], key: str, field: str, *, required: bool) -> str:
    status = optional_str(obj, key, field)
    where = f"{field}.{key}" if field else key
    if not status:
        if required:
            raise PayloadError(f"{where} is required (firing or resolved) when the group has no status")
        return ""
    if status not in (STATUS_FIRING, STATUS_RESOLVED):
        raise PayloadError(f"{where} must be firing or resolved, got {status[:40]!r}")
    return status


def _parse_alert(
    raw: Any, field: str, group_status: str, group: dict[str, Any], fmt: GroupFormat
) -> NormalizedAlert:
    obj = expect_object(raw, field)
    status = _status(obj, "status", field, required=not group_status) or group_status
    labels = string_map(obj.get("labels"), f"{field}.labels", coerce_scalars=True)
    alertname = labels.get("alertname", "")
    if not alertname.strip():
        raise PayloadError(f"{field}.labels.alertname is required (a non-empty string)")
    annotations = string_map(obj.get("annotations"), f"{field}.annotations", coerce_scalars=True)
    native = optional_str(obj, "fingerprint", field)
    fingerprint = source_fingerprint(fmt.fingerprint_prefix, native or content_hash(labels))
    starts_at = parse_timestamp(obj.get("startsAt"), f"{field}.startsAt")
    ends_at = parse_timestamp(obj.get("endsAt"), f"{field}.endsAt")
    link_candidates = {name: optional_str(obj, key, field) for key, name in fmt.link_fields.items()}
    link_candidates["runbook"] = annotations.get("runbook_url", "")
    severity_raw = labels.get("severity", "")
    alert = NormalizedAlert(
        source=fmt.source,
        fingerprint=fingerprint,
        status=status,
        alertname=alertname,
        native_fingerprint=native,
        severity=normalize_severity(severity_raw),
        severity_raw=severity_raw,
        summary=annotations.get("summary", ""),
        # Older kubernetes-mixin rules wrote their text into a `message` annotation.
        description=annotations.get("description", "") or annotations.get("message", ""),
        labels=labels,
        annotations=annotations,
        starts_at=starts_at,
        # A firing alert's endsAt is only an expiry estimate, not an end.
        ends_at=ends_at if status == STATUS_RESOLVED else None,
        links=web_links(link_candidates),
        episode=f"{fingerprint}@{iso_z(starts_at)}" if starts_at else "",
        pipeline=fmt.is_pipeline(alertname),
        group={**group, "groupLabels": dict(group["groupLabels"])},
    )
    apply_kubernetes_fields(alert, from_prometheus_labels(labels), (alert.summary, alert.description))
    return alert
