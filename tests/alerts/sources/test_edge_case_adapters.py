"""Adapter-level edge cases: Datadog tags as a list and test notifications, CloudWatch cluster and
namespace dimensions outside Container Insights, Grafana legacy series tags."""

from __future__ import annotations

import json

import pytest

from alerts.sources import PayloadError
from alerts.sources.cloudwatch import ADAPTER as CLOUDWATCH
from alerts.sources.datadog import ADAPTER as DATADOG
from alerts.sources.grafana import ADAPTER as GRAFANA
from tests.alerts.sources.fixture_cases import FIXTURES, load_json


def _datadog(**fields: object) -> dict:
    base = {
        "id": "1",
        "alert_id": "80000007",
        "alert_transition": "Triggered",
        "alert_title": "[Triggered on {kube_namespace:shop}] Web 5xx rate high",
        "alert_scope": "kube_namespace:shop",
        "alert_cycle_key": "cycle-1",
    }
    return {**base, **fields}


def test_datadog_test_notification_has_its_own_fingerprint():
    [real] = DATADOG.parse(_datadog(), headers={})
    [test] = DATADOG.parse(
        _datadog(
            alert_title="[TEST] [Triggered on {kube_namespace:shop}] Web 5xx rate high", alert_cycle_key=""
        ),
        headers={},
    )
    assert (real.test, test.test) == (False, True)
    assert real.fingerprint.startswith("dd:") and test.fingerprint.startswith("dd-test:")
    assert real.fingerprint.removeprefix("dd:") == test.fingerprint.removeprefix("dd-test:")


def test_datadog_test_marker_with_a_cycle_key_is_a_real_alert():
    # A monitor whose own name starts with "[TEST]" still sends real alerts with a cycle key.
    [alert] = DATADOG.parse(_datadog(alert_title="[TEST] staging canary"), headers={})
    assert not alert.test
    assert alert.fingerprint.startswith("dd:")


def test_datadog_tags_list_keeps_every_tag():
    [alert] = DATADOG.parse(_datadog(tags=["env:prod", "team:web", "kube_namespace:shop", 7]), headers={})
    assert alert.labels == {"env": "prod", "team": "web", "kube_namespace": "shop", "7": ""}


def test_datadog_tags_list_with_an_object_names_the_item():
    with pytest.raises(PayloadError) as info:
        DATADOG.parse(_datadog(tags=["env:prod", {"team": "web"}]), headers={})
    assert "tags[1] must be a string" in str(info.value)


def _alarm_envelope(namespace: str, dimensions: list[dict]) -> dict:
    envelope = load_json(FIXTURES / "cloudwatch" / "custom_slo_cluster_namespace.json")
    message = json.loads(envelope["Message"])
    message["Trigger"]["Namespace"] = namespace
    message["Trigger"]["Dimensions"] = dimensions
    envelope["Message"] = json.dumps(message)
    return envelope


def test_cloudwatch_cluster_and_namespace_dimensions_read_in_any_metric_namespace():
    envelope = _alarm_envelope(
        "Custom/Checkout",
        [{"name": "ClusterName", "value": "prod-eks"}, {"name": "Namespace", "value": "shop"}],
    )
    [alert] = CLOUDWATCH.parse(envelope, headers={})
    assert (alert.cluster, alert.namespace) == ("prod-eks", "shop")
    assert alert.extraction["cluster"] == alert.extraction["namespace"] == "label"


def test_cloudwatch_ecs_cluster_is_not_a_kubernetes_cluster():
    envelope = _alarm_envelope("AWS/ECS", [{"name": "ClusterName", "value": "orders-ecs"}])
    [alert] = CLOUDWATCH.parse(envelope, headers={})
    assert alert.cluster == ""


def test_cloudwatch_pod_dimensions_still_need_container_insights():
    envelope = _alarm_envelope("Custom/Checkout", [{"name": "PodName", "value": "api"}])
    [alert] = CLOUDWATCH.parse(envelope, headers={})
    assert alert.workload == ""


def _legacy(**fields: object) -> dict:
    base = {"ruleId": 1, "ruleName": "Restarts", "state": "alerting", "title": "[Alerting] Restarts"}
    return {**base, **fields}


def test_grafana_legacy_tags_are_read_like_labels():
    [alert] = GRAFANA.parse(_legacy(tags={"namespace": "orders", "pod": "worker-1"}), headers={})
    assert (alert.namespace, alert.pod) == ("orders", "worker-1")
    assert alert.extraction["pod"] == "label"


def test_grafana_legacy_series_tags_give_kubernetes_fields_when_they_agree():
    matches = [
        {"value": 6, "metric": "a", "tags": {"namespace": "orders", "pod": "worker-1"}},
        {"value": 7, "metric": "b", "tags": {"namespace": "orders", "pod": "worker-2"}},
    ]
    [alert] = GRAFANA.parse(_legacy(evalMatches=matches, tags={"team": "orders"}), headers={})
    assert alert.namespace == "orders"
    assert alert.pod == ""  # two pods: the alert is not about one of them
    assert alert.labels == {"team": "orders", "namespace": "orders"}


def test_grafana_legacy_rule_tags_win_over_series_tags():
    matches = [{"value": 6, "metric": "a", "tags": {"namespace": "series-ns"}}]
    [alert] = GRAFANA.parse(_legacy(evalMatches=matches, tags={"namespace": "rule-ns"}), headers={})
    assert alert.namespace == "rule-ns"


def test_fixture_folder_holds_the_new_cases():
    for path in (
        "alertmanager/group_one_bad_alert",
        "grafana/group_label_number_and_array",
        "grafana/legacy_eval_match_tags",
        "datadog/test_notification_template",
        "cloudwatch/custom_slo_cluster_namespace",
    ):
        assert (FIXTURES / f"{path}.expected.json").exists(), path
