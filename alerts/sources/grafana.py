"""Grafana Alerting webhook contact point (default payload, `version` "1") and legacy alerting.

Unified alerting sends an Alertmanager-shaped group plus Grafana's links; each alert becomes
one normalized alert keyed by ``grafana:<fingerprint>``. `DatasourceNoData`/`DatasourceError`
are flagged `pipeline`: the query failed, the rule they stand for is in the `rulename` label.

Legacy dashboard alerting (Grafana ≤ 10: `ruleName`, `state`, `evalMatches`, `ruleUrl`) sends
one notification per rule; it becomes one alert keyed by ``grafana-legacy:<ruleId>`` with
`state` alerting→firing, ok→resolved, no_data→firing (pipeline), paused/pending→unknown, and
its `tags` as labels. The series' own labels (`pod`, `namespace`, ...) arrive as the tags of each
`evalMatches` entry: a tag every matching series agrees on is added to the labels (the rule's
tags win), so Kubernetes fields are read from it. A custom payload template (Grafana 12) is not
understood.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from alerts.sources.alert_groups import GroupFormat, parse_group
from alerts.sources.base import (
    STATUS_FIRING,
    STATUS_RESOLVED,
    STATUS_UNKNOWN,
    AdapterBase,
    NormalizedAlert,
    ParseResult,
    PayloadError,
)
from alerts.sources.kubernetes_fields import apply_kubernetes_fields, from_prometheus_labels
from alerts.sources.normalization import content_hash, normalize_severity, source_fingerprint, web_links
from alerts.sources.validation import (
    expect_object,
    id_text,
    json_type,
    optional_list,
    optional_str,
    required_str,
    string_map,
)

PIPELINE_ALERTNAMES = frozenset({"DatasourceNoData", "DatasourceError"})

_FORMAT = GroupFormat(
    source="grafana",
    fingerprint_prefix="grafana:",
    link_fields={
        "generatorURL": "generator",
        "dashboardURL": "dashboard",
        "panelURL": "panel",
        "silenceURL": "silence",
        "imageURL": "image",
    },
    is_pipeline=PIPELINE_ALERTNAMES.__contains__,
    extra_group_keys=("orgId",),
)

_LEGACY_STATES = {
    "alerting": (STATUS_FIRING, False),
    "ok": (STATUS_RESOLVED, False),
    "no_data": (STATUS_FIRING, True),
    "paused": (STATUS_UNKNOWN, False),
    "pending": (STATUS_UNKNOWN, False),
}


class GrafanaAdapter(AdapterBase):
    """Grafana's webhook body (unified alerting or legacy) to normalized alerts."""

    name: ClassVar[str] = "grafana"
    label: ClassVar[str] = "Grafana Alerting"

    def parse_partial(self, payload: Any, *, headers: Mapping[str, str]) -> ParseResult:
        """Unified group when `alerts` is present, else the legacy body; PayloadError otherwise."""
        body = expect_object(payload, "")
        if "alerts" in body:
            version = body.get("version")
            if version is not None and version != "1":
                shown = repr(version[:20]) if isinstance(version, str) else json_type(version)
                raise PayloadError(f'version must be "1" (Grafana webhook format), got {shown}')
            return parse_group(body, _FORMAT)
        if "ruleName" in body or "evalMatches" in body or "state" in body:
            return ParseResult([_parse_legacy(body)])
        raise PayloadError(
            "alerts is required: expected Grafana's default webhook body "
            "(or a legacy one with ruleName and state)"
        )


def _parse_legacy(body: dict[str, Any]) -> NormalizedAlert:
    state = required_str(body, "state", "")
    if state not in _LEGACY_STATES:
        raise PayloadError(f"state must be one of {', '.join(_LEGACY_STATES)}, got {state[:40]!r}")
    status, pipeline = _LEGACY_STATES[state]
    rule_name = required_str(body, "ruleName", "")
    rule_id = id_text(body.get("ruleId"), "ruleId")
    labels = string_map(body.get("tags"), "tags", coerce_scalars=True)
    group = _legacy_group(body)
    for key, value in _agreed_tags(group["evalMatches"]).items():
        labels.setdefault(key, value)
    severity_raw = labels.get("severity", "")
    alert = NormalizedAlert(
        source="grafana",
        fingerprint=source_fingerprint("grafana-legacy:", rule_id or content_hash(rule_name)),
        status=status,
        alertname=rule_name,
        native_fingerprint=rule_id,
        severity=normalize_severity(severity_raw),
        severity_raw=severity_raw,
        summary=optional_str(body, "title", ""),
        description=optional_str(body, "message", ""),
        labels=labels,
        links=web_links(
            {"generator": optional_str(body, "ruleUrl", ""), "image": optional_str(body, "imageUrl", "")}
        ),
        pipeline=pipeline,
        group=group,
    )
    apply_kubernetes_fields(alert, from_prometheus_labels(labels), (alert.summary, alert.description))
    return alert


def _legacy_group(body: dict[str, Any]) -> dict[str, Any]:
    group: dict[str, Any] = {"legacy": True}
    for key in ("dashboardId", "panelId", "orgId"):
        if body.get(key) is not None:
            group[key] = id_text(body.get(key), key)
    matches = []
    for index, raw in enumerate(optional_list(body, "evalMatches", "")):
        field = f"evalMatches[{index}]"
        match = expect_object(raw, field)
        value = match.get("value")
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise PayloadError(f"{field}.value must be a number or null, got {json_type(value)}")
        matches.append(
            {
                "metric": optional_str(match, "metric", field),
                "value": value,
                "tags": string_map(match.get("tags"), f"{field}.tags", coerce_scalars=True),
            }
        )
    group["evalMatches"] = matches
    return group


def _agreed_tags(matches: list[dict[str, Any]]) -> dict[str, str]:
    """Tags with one value across every match that carries them (several pods: no pod)."""
    values: dict[str, set[str]] = {}
    for match in matches:
        for key, value in match["tags"].items():
            if value:
                values.setdefault(key, set()).add(value)
    return {key: next(iter(seen)) for key, seen in values.items() if len(seen) == 1}


ADAPTER = GrafanaAdapter()
