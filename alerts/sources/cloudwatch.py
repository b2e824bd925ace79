"""Amazon CloudWatch alarms delivered by SNS to an HTTPS subscription.

`parse()` gets the SNS `Notification` envelope (already signature-checked by the webhook) whose
`Message` is the alarm as a JSON string, or the bare alarm when the topic uses raw message
delivery. Subscription and unsubscribe confirmations are the webhook's business, not ours.

* Status: ``ALARM`` → firing, ``OK`` → resolved, ``INSUFFICIENT_DATA`` → unknown (kept, never
  acted on). The alarm's `StateChangeTime` is `starts_at` of an ALARM and `ends_at` of an OK;
  the episode of an ALARM (or INSUFFICIENT_DATA) is the alarm and that time.
* Fingerprint ``cw:<AlarmArn>`` (else account, region and name); `delivery_id` is the SNS
  `MessageId` (kept by SNS across retries), or the `x-amz-sns-message-id` header when raw.
* Dimensions become labels; metric-math alarms contribute every metric's dimensions.
  ClusterName → cluster and Namespace → namespace in any metric namespace (custom SLO metrics
  published with those dimensions, for example), except ECS's (an ECS cluster is not a
  Kubernetes one). Container Insights metrics also give FullPodName → pod, PodName → workload
  (it is the owning controller's name), NodeName → node, ContainerName → container.
* Severity is unknown unless the alarm description says ``severity: <word>``; CloudWatch has
  none of its own and we never invent one.
* A `Message` that is not an alarm (plain text, or JSON from another AWS service) still becomes
  one firing alert named after the SNS `Subject` (else the EventBridge `detail-type`, else its
  first line), keyed by topic, subject and text, with the message as its description: someone
  chose to send it to this topic, and rules decide what follows. It never resolves.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import quote

from alerts.sources.base import (
    STATUS_FIRING,
    STATUS_RESOLVED,
    STATUS_UNKNOWN,
    AdapterBase,
    NormalizedAlert,
    ParseResult,
    PayloadError,
)
from alerts.sources.kubernetes_fields import apply_kubernetes_fields
from alerts.sources.normalization import (
    content_hash,
    iso_z,
    normalize_severity,
    parse_timestamp,
    source_fingerprint,
    web_links,
)
from alerts.sources.validation import (
    child,
    expect_object,
    optional_list,
    optional_str,
    required_str,
)

_STATES = {"ALARM": STATUS_FIRING, "OK": STATUS_RESOLVED, "INSUFFICIENT_DATA": STATUS_UNKNOWN}
_ALARM_KEYS = ("AlarmName", "AlarmArn", "NewStateValue")
_CONFIRMATIONS = ("SubscriptionConfirmation", "UnsubscribeConfirmation")
_CONTAINER_INSIGHTS_DIMENSIONS = {
    "ClusterName": "cluster",
    "Namespace": "namespace",
    "FullPodName": "pod",
    "PodName": "workload",
    "NodeName": "node",
    "ContainerName": "container",
}
# Read whatever the metric namespace: the names say Kubernetes cluster and namespace.
_KUBERNETES_DIMENSIONS = {"ClusterName": "cluster", "Namespace": "namespace"}
# Metric namespaces whose ClusterName is an ECS cluster, not a Kubernetes one.
_NOT_KUBERNETES_NAMESPACES = ("AWS/ECS", "ECS/ContainerInsights")
_ARN = re.compile(r"arn:(?P<partition>aws[a-z-]*):cloudwatch:(?P<region>[a-z]{2}(?:-[a-z]+)+-\d):")
_DESCRIBED_SEVERITY = re.compile(r"\bseverity\s*[:=]\s*[\"']?([A-Za-z0-9_-]{1,32})", re.IGNORECASE)
_MAX_MESSAGE = 262_144  # SNS's own limit: anything longer did not come from SNS


class CloudWatchAdapter(AdapterBase):
    """A CloudWatch alarm state change from an SNS envelope (or raw delivery) to one alert."""

    name: ClassVar[str] = "cloudwatch"
    label: ClassVar[str] = "Amazon CloudWatch (SNS)"

    def parse_partial(self, payload: Any, *, headers: Mapping[str, str]) -> ParseResult:
        """One alert per SNS message; PayloadError naming the field for anything malformed."""
        return ParseResult(_parse_message(payload, headers))


def _parse_message(payload: Any, headers: Mapping[str, str]) -> list[NormalizedAlert]:
    body = expect_object(payload, "")
    if "Type" not in body:
        if not any(key in body for key in _ALARM_KEYS):
            raise PayloadError("Type is required: expected an SNS notification or a CloudWatch alarm")
        return [_parse_alarm(body, "", delivery_id=_header(headers, "x-amz-sns-message-id"), envelope={})]
    kind = optional_str(body, "Type", "")
    if kind in _CONFIRMATIONS:
        raise PayloadError(f"Type {kind} is an SNS subscription message, not a notification")
    if kind != "Notification":
        raise PayloadError(f"Type must be Notification, got {kind[:40]!r}")
    message = optional_str(body, "Message", "")
    if not message.strip():
        raise PayloadError("Message is required (the alarm as a JSON string)")
    delivery_id = optional_str(body, "MessageId", "")
    alarm = _decode(message)
    if isinstance(alarm, dict) and any(key in alarm for key in _ALARM_KEYS):
        return [_parse_alarm(alarm, "Message", delivery_id=delivery_id, envelope=body)]
    return [_parse_text_notification(body, message, delivery_id, alarm)]


def _header(headers: Mapping[str, str], name: str) -> str:
    # Mappings from tests and WSGI differ in case; Django's request.headers does not care.
    for key, value in headers.items():
        if key.lower() == name and isinstance(value, str):
            return value
    return ""


def _decode(message: str) -> Any:
    if len(message) > _MAX_MESSAGE or not message.lstrip().startswith("{"):
        return None
    try:
        return json.loads(message)
    except (ValueError, RecursionError):
        return None


def _parse_alarm(
    alarm: dict[str, Any], field: str, *, delivery_id: str, envelope: dict[str, Any]
) -> NormalizedAlert:
    name = required_str(alarm, "AlarmName", field)
    state = required_str(alarm, "NewStateValue", field)
    if state not in _STATES:
        where = child(field, "NewStateValue")
        raise PayloadError(f"{where} must be ALARM, OK or INSUFFICIENT_DATA, got {state[:40]!r}")
    status = _STATES[state]
    arn = optional_str(alarm, "AlarmArn", field)
    account = optional_str(alarm, "AWSAccountId", field)
    region = optional_str(alarm, "Region", field)
    changed = parse_timestamp(alarm.get("StateChangeTime"), child(field, "StateChangeTime"))
    fingerprint = source_fingerprint("cw:", arn or f"{account}:{region}:{name}")
    description = optional_str(alarm, "AlarmDescription", field)
    severity_raw = _described_severity(description)
    metrics = _metrics(alarm, field)
    labels: dict[str, str] = {}
    for _, dimensions in metrics:
        for key, value in dimensions:
            labels.setdefault(key, value)
    alert = NormalizedAlert(
        source="cloudwatch",
        fingerprint=fingerprint,
        status=status,
        alertname=name,
        native_fingerprint=arn,
        severity=normalize_severity(severity_raw),
        severity_raw=severity_raw,
        summary=description,
        description=optional_str(alarm, "NewStateReason", field),
        labels=labels,
        annotations=_annotations(alarm, field, metrics),
        starts_at=changed if status == STATUS_FIRING else None,
        ends_at=changed if status == STATUS_RESOLVED else None,
        links=web_links({"console": _console_link(arn, name)}),
        delivery_id=delivery_id,
        # An OK carries no episode: it closes whichever one is open.
        episode=f"{fingerprint}@{iso_z(changed)}" if changed and status != STATUS_RESOLVED else "",
        group=_envelope_facts(envelope),
    )
    found: dict[str, str] = {}
    for namespace, dimensions in metrics:
        names = _dimension_fields(namespace)
        for key, value in dimensions:
            target = names.get(key)
            if target and value:
                found.setdefault(target, value)
    apply_kubernetes_fields(alert, found, (alert.summary, alert.description))
    return alert


def _dimension_fields(metric_namespace: str) -> dict[str, str]:
    """Dimension name → Kubernetes field for metrics of this CloudWatch namespace."""
    if metric_namespace.startswith(_NOT_KUBERNETES_NAMESPACES):
        return {}
    if metric_namespace.startswith("ContainerInsights"):
        return _CONTAINER_INSIGHTS_DIMENSIONS
    return _KUBERNETES_DIMENSIONS


def _metrics(alarm: dict[str, Any], field: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """(metric namespace, dimensions) of the alarm's metric or of each metric-math input."""
    if alarm.get("Trigger") is None:
        return []
    trigger_field = child(field, "Trigger")
    trigger = expect_object(alarm["Trigger"], trigger_field)
    metrics = [(optional_str(trigger, "Namespace", trigger_field), _dimensions(trigger, trigger_field))]
    for index, raw in enumerate(optional_list(trigger, "Metrics", trigger_field)):
        metric_field = f"{trigger_field}.Metrics[{index}]"
        item = expect_object(raw, metric_field)
        if item.get("MetricStat") is None:
            continue
        stat = expect_object(item["MetricStat"], f"{metric_field}.MetricStat")
        metric = expect_object(stat.get("Metric"), f"{metric_field}.MetricStat.Metric")
        metric_path = f"{metric_field}.MetricStat.Metric"
        metrics.append((optional_str(metric, "Namespace", metric_path), _dimensions(metric, metric_path)))
    return metrics


def _dimensions(obj: dict[str, Any], field: str) -> list[tuple[str, str]]:
    dimensions = []
    for index, raw in enumerate(optional_list(obj, "Dimensions", field)):
        where = f"{field}.Dimensions[{index}]"
        item = expect_object(raw, where)
        # SNS writes name/value; the CloudWatch API (and people copying from it) Name/Value.
        name_key = "name" if "name" in item else "Name"
        value_key = "value" if "value" in item else "Value"
        name = required_str(item, name_key, where)
        dimensions.append((name, optional_str(item, value_key, where)))
    return dimensions


def _annotations(alarm: dict[str, Any], field: str, metrics: list[tuple[str, Any]]) -> dict[str, str]:
    annotations = {
        "new_state_value": optional_str(alarm, "NewStateValue", field),
        "old_state_value": optional_str(alarm, "OldStateValue", field),
        "new_state_reason": optional_str(alarm, "NewStateReason", field),
        "region": optional_str(alarm, "Region", field),
        "aws_account_id": optional_str(alarm, "AWSAccountId", field),
    }
    trigger = alarm.get("Trigger") or {}
    annotations["metric_namespace"] = optional_str(trigger, "Namespace", child(field, "Trigger"))
    annotations["metric_name"] = optional_str(trigger, "MetricName", child(field, "Trigger"))
    if not annotations["metric_namespace"]:
        # Metric math: the namespaces of its inputs.
        annotations["metric_namespace"] = ",".join(dict.fromkeys(ns for ns, _ in metrics if ns))
    return {key: value for key, value in annotations.items() if value}


def _described_severity(description: str) -> str:
    match = _DESCRIBED_SEVERITY.search(description[:8192])
    return match[1] if match else ""


def _console_link(arn: str, name: str) -> str:
    match = _ARN.match(arn)
    if match is None or match["partition"] != "aws":
        return ""
    region = match["region"]
    return (
        f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}"
        f"#alarmsV2:alarm/{quote(name.encode('utf-8', 'surrogatepass'), safe='')}"
    )


def _envelope_facts(envelope: dict[str, Any]) -> dict[str, Any]:
    facts = {key: optional_str(envelope, key, "") for key in ("TopicArn", "Subject", "Timestamp")}
    return {key: value for key, value in facts.items() if value}


def _parse_text_notification(
    envelope: dict[str, Any], message: str, delivery_id: str, decoded: Any
) -> NormalizedAlert:
    subject = optional_str(envelope, "Subject", "")
    topic = optional_str(envelope, "TopicArn", "")
    # EventBridge events name themselves; plain text is named by its first line.
    event_type = decoded.get("detail-type") if isinstance(decoded, dict) else None
    first_line = message.strip().splitlines()[0][:200]
    name = subject.strip() or (event_type if isinstance(event_type, str) else "") or first_line
    alert = NormalizedAlert(
        source="cloudwatch",
        fingerprint=source_fingerprint("sns:", content_hash([topic, subject, message])),
        status=STATUS_FIRING,
        alertname=name,
        summary=subject,
        description=message,
        delivery_id=delivery_id,
        group=_envelope_facts(envelope),
    )
    apply_kubernetes_fields(alert, {}, (subject, message))
    return alert


ADAPTER = CloudWatchAdapter()
