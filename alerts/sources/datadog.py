"""Datadog Webhooks integration: the monitor notification body, as the user's template wrote it.

Expected template (webhook-formats.md §4.3; every key optional except a title)::

    {"id":"$ID","alert_id":"$ALERT_ID","alert_cycle_key":"$ALERT_CYCLE_KEY",
     "aggreg_key":"$AGGREG_KEY","alert_transition":"$ALERT_TRANSITION",
     "alert_type":"$ALERT_TYPE","alert_priority":"$ALERT_PRIORITY","alert_title":"$ALERT_TITLE",
     "alert_status":"$ALERT_STATUS","alert_scope":"$ALERT_SCOPE","alert_query":"$ALERT_QUERY",
     "alert_metric":"$ALERT_METRIC","event_type":"$EVENT_TYPE","title":"$EVENT_TITLE",
     "body":"$EVENT_MSG","text_only_msg":"$TEXT_ONLY_MSG","tags":"$TAGS","hostname":"$HOSTNAME",
     "date":"$DATE","last_updated":"$LAST_UPDATED","link":"$LINK","snapshot":"$SNAPSHOT",
     "org":{"id":"$ORG_ID","name":"$ORG_NAME"}}

Datadog's default payload (`body, last_updated, event_type, title, date, org, id`) works too:
status, scope and priority are then read from the title's leading bracket groups
(``[P2] [Triggered on {kube_namespace:shop,pod_name:api-1}] High error rate``). "Encode as
form" bodies arrive as a flat dict of strings (`org` then a JSON string or absent). A value
Datadog left unsubstituted (``"$ALERT_SCOPE"``) counts as absent.

Status: ``Recovered`` → resolved, every other transition → firing; ``No Data`` transitions
are flagged `pipeline` (the metric stopped reporting). Fingerprint: ``dd:<alert_id>:<scope>``
(scope tags sorted); without a monitor id, a hash of the name and scope. Episode: the alert
cycle key. Severity: `alert_type` (error → critical, warning, info/success → info), else the
priority (P1-P2 critical, P3 warning, P4-P5 info). Tags and scope become labels (scope wins;
a key repeated in tags keeps every value, comma-joined; a tag without a colon has value "").
`tags` may be Datadog's comma-separated `$TAGS` text or a JSON array of tags (hand-written
templates, `$TAGS` rendered as a list).

Test notifications (the monitor editor's "Test Notifications": ``[TEST]`` in the title and no
alert cycle key) are flagged `test` and keyed ``dd-test:…``, so they never join the real
monitor's series or incident; the ingest service never investigates them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

from alerts.sources.base import (
    STATUS_FIRING,
    STATUS_RESOLVED,
    AdapterBase,
    NormalizedAlert,
    ParseResult,
    PayloadError,
)
from alerts.sources.kubernetes_fields import apply_kubernetes_fields
from alerts.sources.normalization import (
    content_hash,
    normalize_severity,
    parse_epoch_millis,
    source_fingerprint,
    web_links,
)
from alerts.sources.validation import expect_object, id_text, json_type, scalar_text

# A `$VARIABLE` (or `$TAGS[key]`) Datadog did not replace: it had no value for this event.
_UNSUBSTITUTED = re.compile(r"\$[A-Z][A-Z0-9_]*(?:\[[^\]]*\])?")
_TRANSITIONS = (
    "Triggered",
    "Re-Triggered",
    "Recovered",
    "Warn",
    "Re-Warn",
    "No Data",
    "Re-No Data",
    "Renotify",
)
_NO_DATA = frozenset({"no data", "re-no data"})
_STATUS_BRACKET = re.compile(
    rf"(?P<transition>{'|'.join(map(re.escape, _TRANSITIONS))})(?:\s+on\s+\{{(?P<scope>.*)\}})?",
    re.IGNORECASE | re.DOTALL,
)
_BRACKET = re.compile(r"\s*\[([^\[\]]{0,4096})\]")
_MAX_BRACKETS = 8
_ANNOTATION_KEYS = (
    "alert_transition",
    "alert_type",
    "alert_priority",
    "alert_status",
    "alert_query",
    "alert_metric",
    "event_type",
    "title",
)
# Datadog tag -> (field, workload kind) in the order they are looked at (controllers before what
# they own, as for Prometheus labels).
_TAG_FIELDS = (
    ("kube_cluster_name", "cluster", ""),
    ("cluster_name", "cluster", ""),
    ("kube_namespace", "namespace", ""),
    ("pod_name", "pod", ""),
    ("kube_container_name", "container", ""),
    ("container_name", "container", ""),
    ("kube_deployment", "workload", "Deployment"),
    ("kube_stateful_set", "workload", "StatefulSet"),
    ("kube_daemon_set", "workload", "DaemonSet"),
    ("kube_cronjob", "workload", "CronJob"),
    ("kube_job", "workload", "Job"),
    ("kube_replica_set", "workload", "ReplicaSet"),
    ("kube_node", "node", ""),
)


class DatadogAdapter(AdapterBase):
    """A Datadog webhook notification (our template, the default one, or its form encoding)."""

    name: ClassVar[str] = "datadog"
    label: ClassVar[str] = "Datadog"

    def parse_partial(self, payload: Any, *, headers: Mapping[str, str]) -> ParseResult:
        """Exactly one alert: Datadog never batches notifications."""
        return ParseResult([_parse(expect_object(payload, ""))])


def _text(body: dict[str, Any], key: str, where: str = "") -> str:
    """The string at `key`; "" when absent, null or left unsubstituted."""
    value = body.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise PayloadError(f"{where}{key} must be a string, got {json_type(value)}")
    return "" if _UNSUBSTITUTED.fullmatch(value.strip()) else value


def _ident(body: dict[str, Any], key: str, where: str = "") -> str:
    """An id sent quoted or not (`"$ALERT_ID"` or `$ALERT_ID`), as text; "" when absent."""
    value = id_text(body.get(key), where + key).strip()
    return "" if _UNSUBSTITUTED.fullmatch(value) else value


def _parse(body: dict[str, Any]) -> NormalizedAlert:
    raw_title = _text(body, "alert_title") or _text(body, "title")
    title = _parse_title(raw_title)
    if not title["name"]:
        raise PayloadError("alert_title (or title) is required: the monitor's name")
    transition = _text(body, "alert_transition") or title["transition"]
    scope = _text(body, "alert_scope") or title["scope"]
    scope_tags, tags = _tag_pairs(scope), _tags(body)
    alert_id = _ident(body, "alert_id")
    canonical_scope = ",".join(sorted({f"{k}:{v}" if v else k for k, v in scope_tags}))
    if alert_id:
        key = f"{alert_id}:{canonical_scope}" if canonical_scope else alert_id
    else:
        key = "title:" + content_hash([title["name"], canonical_scope])
    cycle_key = _ident(body, "alert_cycle_key")
    # A test notification has no cycle key; one with a key is a real alert whose name says TEST.
    test = title["test"] and not cycle_key
    fingerprint = source_fingerprint("dd-test:" if test else "dd:", key)
    status = _status(transition, _text(body, "alert_type"))
    severity, severity_raw = _severity(
        _text(body, "alert_type"), _text(body, "alert_priority") or title["priority"]
    )
    moment = _date(body)
    alert = NormalizedAlert(
        source="datadog",
        fingerprint=fingerprint,
        status=status,
        alertname=title["name"],
        native_fingerprint=alert_id,
        severity=severity,
        severity_raw=severity_raw,
        summary=_text(body, "alert_status"),
        description=_text(body, "text_only_msg") or _strip_markdown_fence(_text(body, "body")),
        labels=_labels(tags, scope_tags),
        annotations={key: value for key in _ANNOTATION_KEYS if (value := _text(body, key))},
        starts_at=moment if status == STATUS_FIRING else None,
        ends_at=moment if status == STATUS_RESOLVED else None,
        links=web_links({"generator": _text(body, "link"), "snapshot": _text(body, "snapshot")}),
        delivery_id=_ident(body, "id"),
        episode=f"{fingerprint}@{cycle_key}" if cycle_key else "",
        pipeline=transition.strip().lower() in _NO_DATA,
        group=_group(body, title["test"]),
        test=test,
    )
    found = _kubernetes_from_tags(scope_tags + tags, _text(body, "hostname"))
    apply_kubernetes_fields(alert, found, (alert.summary, alert.description))
    return alert


def _parse_title(title: str) -> dict[str, Any]:
    """Leading `[...]` groups of a Datadog title: transition, scope, priority, test marker."""
    facts: dict[str, Any] = {"transition": "", "scope": "", "priority": "", "test": False}
    position = 0
    for _ in range(_MAX_BRACKETS):
        match = _BRACKET.match(title, position)
        if match is None:
            break
        position = match.end()
        content = match[1].strip()
        status = _STATUS_BRACKET.fullmatch(content)
        if content.upper() == "TEST":
            facts["test"] = True
        elif re.fullmatch(r"[Pp][1-5]", content):
            facts["priority"] = content.upper()
        elif status and not facts["transition"]:
            facts["transition"] = status["transition"]
            facts["scope"] = status["scope"] or ""
    facts["name"] = title[position:].strip() or title.strip()
    return facts


def _status(transition: str, alert_type: str) -> str:
    if transition:
        return STATUS_RESOLVED if transition.strip().lower() == "recovered" else STATUS_FIRING
    # No transition anywhere: Datadog's "success" alert type is only used for recoveries.
    return STATUS_RESOLVED if alert_type.strip().lower() == "success" else STATUS_FIRING


def _severity(alert_type: str, priority: str) -> tuple[str | None, str]:
    for raw in (alert_type, priority):
        if normalize_severity(raw):
            return normalize_severity(raw), raw
    return None, alert_type or priority


def _date(body: dict[str, Any]) -> datetime | None:
    for key in ("date", "last_updated"):
        value = body.get(key)
        if isinstance(value, str) and _UNSUBSTITUTED.fullmatch(value.strip()):
            continue
        moment = parse_epoch_millis(value, key)
        if moment is not None:
            return moment
    return None


def _tags(body: dict[str, Any]) -> list[tuple[str, str]]:
    """`tags` as (key, value) pairs, from comma-separated text or a JSON array of tags."""
    value = body.get("tags")
    if not isinstance(value, list):
        return _tag_pairs(_text(body, "tags"))
    pairs = []
    for index, item in enumerate(value):
        tag = scalar_text(item)
        if tag is None:
            raise PayloadError(f"tags[{index}] must be a string like key:value, got {json_type(item)}")
        if not _UNSUBSTITUTED.fullmatch(tag.strip()):
            pairs.extend(_tag_pairs(tag))
    return pairs


def _tag_pairs(text: str) -> list[tuple[str, str]]:
    """`kube_namespace:x, monitor, env:prod` as (key, value) pairs, in order."""
    pairs = []
    for tag in text.split(","):
        key, _, value = tag.strip().partition(":")
        if key:
            pairs.append((key, value))
    return pairs


def _labels(tags: list[tuple[str, str]], scope_tags: list[tuple[str, str]]) -> dict[str, str]:
    labels: dict[str, list[str]] = {}
    for key, value in tags:
        values = labels.setdefault(key, [])
        if value not in values:
            values.append(value)
    # The scope names the group that triggered; it is the truth for its keys.
    for key, value in scope_tags:
        labels[key] = [value]
    return {key: ",".join(values) for key, values in labels.items()}


def _kubernetes_from_tags(pairs: list[tuple[str, str]], hostname: str) -> dict[str, str]:
    first: dict[str, str] = {}
    for key, value in pairs:
        if value:
            first.setdefault(key, value)
    found: dict[str, str] = {}
    for tag, field, kind in _TAG_FIELDS:
        if field not in found and first.get(tag):
            found[field] = first[tag]
            if kind:
                found["workload_kind"] = kind
    # `host` is the node only when the alert is about Kubernetes at all; otherwise it is a VM.
    if "node" not in found and any(key.startswith("kube_") or key == "pod_name" for key in first):
        host = first.get("host") or hostname
        if host:
            found["node"] = host
    return found


def _strip_markdown_fence(text: str) -> str:
    # $EVENT_MSG wraps the message in Datadog's `%%%` markdown markers.
    stripped = text.strip()
    if stripped.startswith("%%%") and stripped.endswith("%%%") and len(stripped) >= 6:
        return stripped[3:-3].strip()
    return text


def _group(body: dict[str, Any], test: bool) -> dict[str, Any]:
    org = _org(body.get("org"))
    facts = {
        "org_id": _ident(org, "id", "org."),
        "org_name": _text(org, "name", "org."),
        "aggreg_key": _ident(body, "aggreg_key"),
        "test_notification": test,
    }
    return {key: value for key, value in facts.items() if value}


def _org(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, str):
        # Form encoding flattens the object into JSON text (or a bare variable).
        try:
            value = json.loads(value) if len(value) <= 4096 else None
        except (ValueError, RecursionError):
            value = None
        return value if isinstance(value, dict) else {}
    return expect_object(value, "org")


ADAPTER = DatadogAdapter()
