"""Realistic sample payloads, one per source, for the integrations page's "send a test alert".

Each is shaped exactly like what the sender would POST (CloudWatch: the bare alarm, since a test
cannot carry an SNS signature), names a made-up pod so Kubernetes extraction shows, and carries
the label `opsworker_test: "true"` plus a per-test id so every test is a new alert.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from alerts.models import Source

TEST_LABEL = "opsworker_test"
ALERTNAME = "OpsWorkerTestAlert"
SUMMARY = "Test alert sent from OpsWorker: the integration works. No action needed."
NAMESPACE = "opsworker-test"
POD = "sample-app-5f7c9d8b6-t3st1"
CONTAINER = "sample-app"


def _rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def sample_payload(source: str, *, test_id: str, sent_at: datetime, cluster: str = "") -> Any:
    """The payload `source` would send for a test alert; `test_id` makes the series unique."""
    builder = {
        Source.ALERTMANAGER: _alertmanager,
        Source.GRAFANA: _grafana,
        Source.DATADOG: _datadog,
        Source.CLOUDWATCH: _cloudwatch,
        Source.GENERIC: _generic,
    }[source]
    return builder(test_id, sent_at, cluster)


def _labels(test_id: str, cluster: str) -> dict[str, str]:
    labels = {
        "alertname": ALERTNAME,
        "severity": "warning",
        "cluster": cluster,
        "namespace": NAMESPACE,
        "pod": POD,
        "container": CONTAINER,
        TEST_LABEL: "true",
        "opsworker_test_id": test_id,
    }
    return {key: value for key, value in labels.items() if value}


def _alertmanager(test_id: str, sent_at: datetime, cluster: str) -> dict[str, Any]:
    labels = _labels(test_id, cluster)
    return {
        "receiver": "opsworker",
        "status": "firing",
        "alerts": [
            {
                "status": "firing",
                "labels": labels,
                "annotations": {
                    "summary": SUMMARY,
                    "description": f"Pod {NAMESPACE}/{POD} is a sample; this alert checks the webhook path.",
                },
                "startsAt": _rfc3339(sent_at),
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "",
                "fingerprint": f"opsworker-test-{test_id}",
            }
        ],
        "groupLabels": {"alertname": ALERTNAME},
        "commonLabels": labels,
        "commonAnnotations": {"summary": SUMMARY},
        "externalURL": "",
        "version": "4",
        "groupKey": f'{{}}:{{alertname="{ALERTNAME}"}}',
        "truncatedAlerts": 0,
    }


def _grafana(test_id: str, sent_at: datetime, cluster: str) -> dict[str, Any]:
    labels = {**_labels(test_id, cluster), "grafana_folder": "OpsWorker"}
    return {
        "receiver": "opsworker",
        "status": "firing",
        "orgId": 1,
        "alerts": [
            {
                "status": "firing",
                "labels": labels,
                "annotations": {"summary": SUMMARY},
                "startsAt": _rfc3339(sent_at),
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "",
                "fingerprint": f"opsworker-test-{test_id}",
                "silenceURL": "",
                "dashboardURL": "",
                "panelURL": "",
                "values": {"A": 1},
                "valueString": "[ var='A' value=1 ]",
                "orgId": 1,
            }
        ],
        "groupLabels": {"alertname": ALERTNAME},
        "commonLabels": labels,
        "commonAnnotations": {"summary": SUMMARY},
        "externalURL": "",
        "version": "1",
        "groupKey": f'{{}}:{{alertname="{ALERTNAME}"}}',
        "truncatedAlerts": 0,
        "title": f"[FIRING:1] {ALERTNAME}",
        "state": "alerting",
        "message": SUMMARY,
    }


def _datadog(test_id: str, sent_at: datetime, cluster: str) -> dict[str, Any]:
    millis = str(int(sent_at.timestamp() * 1000))
    scope = f"kube_namespace:{NAMESPACE},pod_name:{POD}"
    title = f"[P3] [Triggered on {{{scope}}}] {ALERTNAME}"
    return {
        "id": f"opsworker-test-{test_id}",
        "alert_id": f"opsworker-test-{test_id}",
        "alert_cycle_key": f"opsworker-test-{test_id}",
        "aggreg_key": "",
        "alert_transition": "Triggered",
        "alert_type": "warning",
        "alert_priority": "P3",
        "alert_title": title,
        "alert_status": SUMMARY,
        "alert_scope": scope,
        "alert_query": "",
        "alert_metric": "",
        "event_type": "query_alert_monitor",
        "title": title,
        "body": SUMMARY,
        "text_only_msg": SUMMARY,
        "tags": ",".join(
            filter(
                None,
                (
                    f"kube_cluster_name:{cluster}" if cluster else "",
                    f"kube_namespace:{NAMESPACE}",
                    f"pod_name:{POD}",
                    f"kube_container_name:{CONTAINER}",
                    f"{TEST_LABEL}:true",
                    f"opsworker_test_id:{test_id}",
                ),
            )
        ),
        "hostname": "",
        "date": millis,
        "last_updated": millis,
        "link": "",
        "snapshot": "",
        "org": {"id": "0", "name": "OpsWorker test"},
    }


def _cloudwatch(test_id: str, sent_at: datetime, cluster: str) -> dict[str, Any]:
    name = f"opsworker-test-{test_id}"
    return {
        "AlarmName": name,
        "AlarmDescription": f"Severity: Warning. {SUMMARY}",
        "AWSAccountId": "000000000000",
        "NewStateValue": "ALARM",
        "NewStateReason": "Test alarm sent from OpsWorker.",
        "StateChangeTime": sent_at.strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
        "Region": "EU (Ireland)",
        "AlarmArn": f"arn:aws:cloudwatch:eu-west-1:000000000000:alarm:{name}",
        "OldStateValue": "OK",
        "Trigger": {
            "MetricName": "pod_cpu_utilization_over_pod_limit",
            "Namespace": "ContainerInsights",
            "StatisticType": "Statistic",
            "Statistic": "AVERAGE",
            "Unit": None,
            "Dimensions": [
                *([{"value": cluster, "name": "ClusterName"}] if cluster else []),
                {"value": NAMESPACE, "name": "Namespace"},
                {"value": POD, "name": "PodName"},
            ],
            "Period": 60,
            "EvaluationPeriods": 1,
            "ComparisonOperator": "GreaterThanThreshold",
            "Threshold": 80.0,
            "TreatMissingData": "missing",
        },
    }


def _generic(test_id: str, sent_at: datetime, cluster: str) -> dict[str, Any]:
    alert = {
        "alertname": ALERTNAME,
        "status": "firing",
        "severity": "warning",
        "summary": SUMMARY,
        "description": f"Pod {NAMESPACE}/{POD} is a sample; this alert checks the webhook path.",
        "labels": {TEST_LABEL: "true", "opsworker_test_id": test_id},
        "cluster": cluster,
        "namespace": NAMESPACE,
        "pod": POD,
        "container": CONTAINER,
        "starts_at": _rfc3339(sent_at),
        "fingerprint": f"opsworker-test-{test_id}",
    }
    return {key: value for key, value in alert.items() if value}
