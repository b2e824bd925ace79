"""An investigation reads every alert of the group it started from (same delivery, same sender group)."""

from __future__ import annotations

import copy
import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from alerts.models import Signal
from alerts.selectors import signals_of_group
from alerts.services.integrations import integration_create
from investigations.models import Investigation
from investigations.runner import alert_fields, run_investigation_now
from investigations.services import investigation_for_signal
from tests.investigations.engine.test_pipeline_group import SHOP, reader

pytestmark = pytest.mark.django_db

GROUP_KEY = '{}:{team="orders"}'


def _alert(alertname: str, fingerprint: str, **labels: str) -> dict:
    return {
        "status": "firing",
        "labels": {"alertname": alertname, **labels},
        "annotations": {"summary": alertname},
        "startsAt": "2025-06-02T08:10:00Z",
        "fingerprint": fingerprint,
    }


# The first alert names no namespace; the second names the crashing pod.
GROUP = {
    "version": "4",
    "status": "firing",
    "receiver": "opsworker",
    "groupKey": GROUP_KEY,
    "groupLabels": {"team": "orders"},
    "alerts": [
        _alert("OrdersDispatchStalled", "aaaaaaaaaaaaaaa1", service_name="api", team="orders"),
        _alert("KubePodCrashLooping", "aaaaaaaaaaaaaaa2", namespace="shop", pod="api-7d9f8b6c5-x2x4z"),
        _alert("Watchdog", "aaaaaaaaaaaaaaa3"),
    ],
}


def _post(org, token: str, body: dict) -> list[int]:
    response = Client(HTTP_HOST=org.domain).post(
        f"/hooks/alertmanager/{token}/", data=json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 202, response.content
    return [item["id"] for item in response.json()["signals"]]


@pytest.fixture
def hook(org):
    with schema_context(org.schema):
        return integration_create(name="am", source="alertmanager").token


def test_group_of_a_signal_is_the_rest_of_its_delivery_without_pipeline_alerts(org, other_org, hook):
    ids = _post(org, hook, GROUP)
    with schema_context(org.schema):
        first = Signal.objects.get(pk=ids[0])
        assert [s.alertname for s in signals_of_group(first)] == ["KubePodCrashLooping"]
    with schema_context(other_org.schema):
        assert not Signal.objects.filter(pk__in=ids).exists()


def test_group_of_a_signal_includes_later_deliveries_of_the_same_sender_group_only(org, other_org, hook):
    ids = _post(org, hook, GROUP)
    later = copy.deepcopy(GROUP)
    later["alerts"] = [
        _alert("KubeDeploymentReplicasMismatch", "aaaaaaaaaaaaaaa4", namespace="shop", deployment="api")
    ]
    other_group = copy.deepcopy(later)
    other_group["groupKey"] = '{}:{team="billing"}'
    other_group["alerts"] = [_alert("InvoiceBacklog", "aaaaaaaaaaaaaaa5", namespace="billing")]
    _post(org, hook, later)
    _post(org, hook, other_group)
    with schema_context(org.schema):
        first = Signal.objects.get(pk=ids[0])
        names = [s.alertname for s in signals_of_group(first)]
        assert names == ["KubePodCrashLooping", "KubeDeploymentReplicasMismatch"]
        # Outside the window, the same group key is another incident.
        Signal.objects.filter(alertname="KubeDeploymentReplicasMismatch").update(
            first_received_at=timezone.now() + timedelta(hours=3),
            last_received_at=timezone.now() + timedelta(hours=3),
        )
        assert [s.alertname for s in signals_of_group(first)] == ["KubePodCrashLooping"]
    with schema_context(other_org.schema):
        assert Signal.objects.count() == 0


def test_runner_investigates_the_pod_the_group_names_when_the_first_alert_names_no_namespace(
    org, other_org, hook, monkeypatch
):
    from clusters.services import cluster_create

    ids = _post(org, hook, GROUP)
    asked_for: list[str] = []

    def fake_agent_reader(cluster, **options):
        asked_for.append(cluster.name)
        return reader(SHOP)

    monkeypatch.setattr("investigations.runner.agent_reader", fake_agent_reader)
    with schema_context(org.schema):
        cluster_create(name="prod", created_by="test")
        first = Signal.objects.get(pk=ids[0])
        investigation = investigation_for_signal(first, cluster="prod")
        investigation.save()
        fields = alert_fields(investigation)
        assert [alert["alertname"] for alert in fields["group"]] == ["KubePodCrashLooping"]

        finished = run_investigation_now(investigation.pk)

        assert finished.status == "completed", finished.failure_reason
        target = finished.result["target"]
        assert (target["kind"], target["namespace"], target["name"], target["alert"]) == (
            "Pod",
            "shop",
            "api-7d9f8b6c5-x2x4z",
            "KubePodCrashLooping",
        )
    assert asked_for == ["prod"]
    with schema_context(other_org.schema):
        assert Investigation.objects.count() == 0
        assert Signal.objects.count() == 0


def test_runner_answers_not_found_for_a_resource_that_does_not_exist(org, other_org, monkeypatch):
    from clusters.services import cluster_create
    from investigations.services import investigation_start

    monkeypatch.setattr("investigations.runner.agent_reader", lambda cluster, **options: reader(SHOP))
    with schema_context(org.schema):
        cluster_create(name="prod", created_by="test")
        investigation = investigation_start(cluster="prod", namespace="shop", kind="Deployment", name="ghost")

        finished = run_investigation_now(investigation.pk)

        assert (finished.status, finished.root_cause_category) == ("completed", "unknown")
        assert finished.summary == "not found: looked up Deployment shop/ghost"
        assert finished.result["root_cause"]["evidence"] == []
    with schema_context(other_org.schema):
        assert Investigation.objects.count() == 0
