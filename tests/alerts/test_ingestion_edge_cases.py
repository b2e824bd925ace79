"""Ingestion edge cases through the webhook: partial payloads (one bad alert never costs the
group), Datadog test notifications, and throttling floods of unknown webhook tokens."""

from __future__ import annotations

import json
import secrets

import pytest
from django.test import Client

from alerts.models import Integration, RawPayload, Signal
from investigations.models import Investigation
from tests.alerts.conftest import fixture_bytes

pytestmark = pytest.mark.django_db

FLOOD_ADDRESS = "203.0.113.77"  # TEST-NET-3: its counter is ours alone


@pytest.fixture
def unknown_token_counters():
    """Forget unknown-token counters of the addresses these tests use, before and after."""
    from opsworker.redis_client import shared_redis

    def forget():
        client = shared_redis()
        for key in client.scan_iter("opsworker:unknown-token:*", count=1000):
            client.delete(key)

    forget()
    yield
    forget()


# --- item 15: partial payloads ---------------------------------------------------------------


def test_webhook_alertmanager_group_with_bad_alerts_stores_the_rest(org, other_org, make_hook, in_schema):
    # given a group of four: a number/bool label (kept as text), an object label, an array label, a good one
    hook = make_hook(org, "alertmanager")
    # when it is posted
    response = hook.post(fixture_bytes("alertmanager", "group_one_bad_alert"))
    # then 202, the two readable alerts stored and the two others reported by position
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["accepted"] == 2
    assert [r["index"] for r in body["rejected"]] == [1, 2]
    assert "alerts[1].labels.pod is object" in body["rejected"][0]["reason"]
    assert "alerts[2].labels.zones is array" in body["rejected"][1]["reason"]
    with in_schema(org):
        stored = {s.alertname: s for s in Signal.objects.all()}
        assert set(stored) == {"KubeDeploymentReplicasMismatch", "KubePodCrashLooping"}
        assert stored["KubeDeploymentReplicasMismatch"].labels["replicas"] == "3"
        assert stored["KubeDeploymentReplicasMismatch"].labels["paused"] == "false"
        payload = RawPayload.objects.get()
        assert [r["index"] for r in payload.rejected] == [1, 2]
        integration = Integration.objects.get(pk=hook.integration.pk)
        assert "2 of 4 alerts not stored" in integration.last_error
    with in_schema(other_org):
        assert Signal.objects.count() == 0
        assert RawPayload.objects.count() == 0


def test_webhook_grafana_group_with_bad_alerts_stores_the_rest(org, make_hook, in_schema):
    hook = make_hook(org, "grafana")
    response = hook.post(fixture_bytes("grafana", "group_label_number_and_array"))
    assert response.status_code == 202, response.content
    assert response.json()["accepted"] == 1
    assert [r["index"] for r in response.json()["rejected"]] == [1, 2]
    with in_schema(org):
        signal = Signal.objects.get()
        assert (signal.alertname, signal.labels["slo_target"], signal.labels["paging"]) == (
            "Checkout error rate",
            "99.9",
            "true",
        )


def test_webhook_datadog_tags_as_a_list_are_read_as_tags(org, make_hook, in_schema):
    hook = make_hook(org, "datadog")
    response = hook.post(fixture_bytes("datadog", "tags_as_list"))
    assert response.status_code == 202, response.content
    assert response.json()["rejected"] == []
    with in_schema(org):
        signal = Signal.objects.get()
        assert signal.namespace == "shop"
        assert signal.labels == {"kube_namespace": "shop", "env": "prod"}


def test_webhook_group_with_no_usable_alert_is_400_naming_each(org, make_hook, in_schema):
    hook = make_hook(org, "alertmanager")
    group = {
        "version": "4",
        "status": "firing",
        "alerts": [
            {"labels": {"alertname": "A", "pod": {"name": "x"}}},
            {"labels": {"severity": "warning"}},
        ],
    }
    response = hook.post(group)
    assert response.status_code == 400
    error = response.json()["error"]
    assert "none of the 2 alerts could be stored" in error
    assert "alerts[0].labels.pod is object" in error
    assert "alerts[1].labels.alertname is required" in error
    with in_schema(org):
        assert Signal.objects.count() == 0
        assert RawPayload.objects.count() == 0


def test_integration_page_shows_alerts_not_stored(org, make_hook, client):
    hook = make_hook(org, "alertmanager")
    assert hook.post(fixture_bytes("alertmanager", "group_one_bad_alert")).status_code == 202
    page = Client(HTTP_HOST=org.domain)
    page.force_login(org.owner)
    body = page.get(f"/integrations/{hook.integration.pk}/").content.decode()
    assert 'data-testid="recent-rejections"' in body
    assert "alerts[2].labels.zones is array" in body
    assert "2 not stored" in body


# --- item 18: Datadog test notifications --------------------------------------------------------


def _datadog(title: str, cycle_key: str) -> dict:
    payload = json.loads(fixture_bytes("datadog", "test_notification_template"))
    payload["alert_title"] = payload["title"] = title
    payload["alert_cycle_key"] = cycle_key
    payload["id"] = secrets.token_hex(8)
    return payload


def test_webhook_datadog_test_notification_is_its_own_series_and_never_investigated(
    org, other_org, make_hook, make_rule, in_schema
):
    # given a rule that investigates anything with a namespace, and a real firing alert of a monitor
    make_rule(org)
    hook = make_hook(org, "datadog")
    real = hook.post(
        _datadog("[Triggered on {kube_namespace:shop,pod_name:web-5d7c9-abcde}] Web 5xx rate high", "cyc-1")
    )
    assert real.status_code == 202 and len(real.json()["investigations"]) == 1
    # when the same monitor's "Test Notifications" button sends its test
    test = hook.post(
        _datadog("[TEST] [Triggered on {kube_namespace:shop,pod_name:web-5d7c9-abcde}] Web 5xx rate high", "")
    )
    # then it is a new, separate signal flagged as a test, and starts no investigation
    assert test.status_code == 202, test.content
    assert test.json()["signals"][0]["outcome"] == "new"
    assert test.json()["investigations"] == []
    with in_schema(org):
        real_signal = Signal.objects.get(pk=real.json()["signals"][0]["id"])
        test_signal = Signal.objects.get(pk=test.json()["signals"][0]["id"])
        assert real_signal.fingerprint != test_signal.fingerprint
        assert (real_signal.test, test_signal.test) == (False, True)
        assert (real_signal.delivery_count, real_signal.status) == (1, "firing")
        assert test_signal.decision == "record"
        assert "test notifications are never investigated" in test_signal.decision_reason
        assert Investigation.objects.count() == 1
    with in_schema(other_org):
        assert Signal.objects.count() == 0


def test_alert_pages_show_the_test_flag(org, make_hook, in_schema):
    hook = make_hook(org, "datadog")
    test = hook.post(_datadog("[TEST] [Triggered] Web 5xx rate high", ""))
    signal_id = test.json()["signals"][0]["id"]
    page = Client(HTTP_HOST=org.domain)
    page.force_login(org.owner)
    assert "test notification" in page.get(f"/alerts/{signal_id}/").content.decode()
    assert ">test</span>" in page.get("/alerts/").content.decode()


# --- item 13 (last clause): unknown webhook tokens ------------------------------------------


def test_webhook_unknown_token_flood_gets_429_but_valid_token_is_not_slowed(
    org, make_hook, in_schema, settings, unknown_token_counters
):
    settings.WEBHOOK_UNKNOWN_TOKEN_LIMIT_PER_MINUTE = 5
    hook = make_hook(org, "alertmanager")
    flooder = Client(HTTP_HOST=org.domain, REMOTE_ADDR=FLOOD_ADDRESS)
    # given an address that guesses tokens past the limit
    statuses = [
        flooder.post(
            f"/hooks/alertmanager/{secrets.token_urlsafe(32)}/", b"{}", "application/json"
        ).status_code
        for _ in range(8)
    ]
    # then the first ones are 404 and the rest 429 with Retry-After and a message
    assert statuses[:5] == [404] * 5
    assert statuses[5:] == [429] * 3
    refused = flooder.post(f"/hooks/alertmanager/{secrets.token_urlsafe(32)}/", b"{}", "application/json")
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1
    assert "unknown webhook URLs" in refused.json()["error"]
    # and the same address with a valid token is stored, not throttled
    valid = flooder.post(hook.path, fixture_bytes("alertmanager", "single_crashloop"), "application/json")
    assert valid.status_code == 202, valid.content
    # and another address is not affected
    other = Client(HTTP_HOST=org.domain, REMOTE_ADDR="198.51.100.5")
    assert (
        other.post(f"/hooks/alertmanager/{secrets.token_urlsafe(32)}/", b"{}", "application/json").status_code
        == 404
    )
