"""The webhook endpoint: acceptance per source, every rejection branch, idempotency, tenancy."""

import base64
import hashlib
import hmac
import json
import time

import pytest
from django.test import override_settings

from alerts.models import AuthKind, Integration, RawPayload, Signal
from alerts.services.integrations import AuthConfig
from investigations.models import Investigation
from tests.alerts.conftest import fixture_bytes

pytestmark = pytest.mark.django_db

CRASHLOOP = fixture_bytes("alertmanager", "single_crashloop")
GRAFANA_FIRING = "single_firing"


def _signal_count(in_schema, org):
    with in_schema(org):
        return Signal.objects.count()


# --- acceptance -------------------------------------------------------------------------------


def test_webhook_alertmanager_accepts_and_stores(org, make_hook, make_rule, in_schema):
    make_rule(org)
    hook = make_hook(org, "alertmanager")
    response = hook.post(CRASHLOOP)
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["accepted"] == 1
    assert body["signals"][0]["alertname"] == "KubePodCrashLooping"
    assert body["signals"][0]["status"] == "firing"
    with in_schema(org):
        signal = Signal.objects.get(pk=body["signals"][0]["id"])
        assert (signal.namespace, signal.pod, signal.severity) == (
            "payments",
            "payments-api-7d9f8b6c5-x2x4z",
            "warning",
        )
        assert signal.first_payload.body == CRASHLOOP.decode()
        assert RawPayload.objects.count() == 1
        investigation = Investigation.objects.get(pk=body["investigations"][0])
        assert (investigation.status, investigation.namespace, investigation.resource_kind) == (
            "pending",
            "payments",
            "Pod",
        )
        integration = Integration.objects.get(pk=hook.integration.pk)
        assert (integration.deliveries_total, integration.alerts_total) == (1, 1)


def test_webhook_grafana_accepts_put(org, make_hook, in_schema):
    hook = make_hook(org, "grafana")
    response = hook.post(fixture_bytes("grafana", GRAFANA_FIRING), method="put")
    assert response.status_code == 202, response.content
    with in_schema(org):
        assert Signal.objects.filter(source="grafana").count() == response.json()["accepted"] >= 1


@pytest.mark.parametrize("source", ["alertmanager", "grafana", "datadog", "generic"])
def test_webhook_accepts_every_valid_fixture(org, make_hook, source):
    from pathlib import Path

    hook = make_hook(org, source)
    folder = Path(__file__).parent / "sources" / "fixtures" / source
    accepted = 0
    for path in sorted(folder.glob("*.json")):
        if path.name.endswith(".expected.json"):
            continue
        expected = json.loads((folder / f"{path.stem}.expected.json").read_text())
        response = hook.post(path.read_bytes())
        if "error" in expected:
            assert response.status_code == 400, (path.name, response.content)
            assert response.json()["error"]
        else:
            assert response.status_code == 202, (path.name, response.content)
            assert response.json()["accepted"] == len(expected["alerts"]), path.name
            accepted += 1
    assert accepted >= 5


def test_webhook_datadog_form_encoded(org, make_hook, in_schema):
    hook = make_hook(org, "datadog")
    form = (
        "alert_id=42&alert_title=%5BTriggered%5D+High+latency&alert_transition=Triggered&alert_type=error"
        "&tags=kube_namespace%3Ashop%2Cpod_name%3Aweb-1&id=9001&date=1700000000000"
    )
    response = hook.post(form, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 202, response.content
    with in_schema(org):
        signal = Signal.objects.get()
        assert (signal.namespace, signal.pod, signal.severity) == ("shop", "web-1", "critical")


# --- idempotency ------------------------------------------------------------------------------


def test_webhook_redelivery_creates_nothing_new(org, make_hook, make_rule, in_schema):
    make_rule(org)
    hook = make_hook(org, "alertmanager")
    first = hook.post(CRASHLOOP).json()
    second = hook.post(CRASHLOOP).json()
    assert second["signals"][0]["id"] == first["signals"][0]["id"]
    assert second["signals"][0]["outcome"] == "duplicate"
    assert second["investigations"] == []
    with in_schema(org):
        signal = Signal.objects.get()
        assert signal.delivery_count == 2
        assert Investigation.objects.count() == 1
        assert RawPayload.objects.count() == 2  # every accepted request is kept as received


def test_webhook_resolved_closes_open_signal_and_redelivery_is_quiet(org, make_hook, in_schema):
    hook = make_hook(org, "alertmanager")
    firing = json.loads(CRASHLOOP)
    hook.post(firing)
    resolved = json.loads(CRASHLOOP)
    resolved["status"] = "resolved"
    resolved["alerts"][0]["status"] = "resolved"
    resolved["alerts"][0]["endsAt"] = "2026-11-27T01:00:00.123456789Z"
    answer = hook.post(resolved).json()
    assert answer["signals"][0]["outcome"] == "resolved"
    again = hook.post(resolved).json()
    assert again["signals"][0]["outcome"] == "duplicate"
    late_firing = hook.post(firing).json()  # a late re-send of the same (now resolved) episode
    assert late_firing["signals"][0]["outcome"] == "duplicate"
    with in_schema(org):
        signal = Signal.objects.get()
        assert signal.status == "resolved"
        assert signal.ends_at.isoformat().startswith("2026-11-27T01:00:00.123456")
        assert signal.delivery_count == 4


def test_webhook_new_episode_after_resolve_is_a_new_signal(org, make_hook, in_schema):
    hook = make_hook(org, "alertmanager")
    firing = json.loads(CRASHLOOP)
    hook.post(firing)
    resolved = json.loads(CRASHLOOP)
    resolved["alerts"][0]["status"] = "resolved"
    hook.post(resolved)
    refire = json.loads(CRASHLOOP)
    refire["alerts"][0]["startsAt"] = "2030-01-01T00:00:00Z"
    assert hook.post(refire).json()["signals"][0]["outcome"] == "new"
    with in_schema(org):
        assert Signal.objects.count() == 2
        assert Signal.objects.filter(status="firing").count() == 1


# --- tenancy ----------------------------------------------------------------------------------


def test_webhook_token_of_other_org_gets_404_and_writes_nothing(org, other_org, make_hook, in_schema):
    hook = make_hook(org, "alertmanager")
    response = hook.post(CRASHLOOP, host=other_org.domain)
    assert response.status_code == 404
    assert _signal_count(in_schema, org) == 0
    assert _signal_count(in_schema, other_org) == 0
    with in_schema(other_org):
        assert RawPayload.objects.count() == 0


def test_webhook_signals_visible_only_to_own_org(org, other_org, make_hook, client_for):
    make_hook(org, "alertmanager").post(CRASHLOOP)
    assert "KubePodCrashLooping" in client_for(org.owner, org).get("/alerts/").content.decode()
    assert (
        "KubePodCrashLooping" not in client_for(other_org.owner, other_org).get("/alerts/").content.decode()
    )


# --- rejections: one test per branch ----------------------------------------------------------


def test_webhook_405_for_get(org, make_hook):
    response = make_hook(org, "alertmanager").post(b"", method="get")
    assert response.status_code == 405
    assert response["Allow"] == "POST, PUT"


def test_webhook_404_unknown_token(org, make_hook):
    hook = make_hook(org, "alertmanager")
    hook.token = "x" * 43
    response = hook.post(CRASHLOOP)
    assert response.status_code == 404
    assert "unknown webhook URL" in response.json()["error"]


def test_webhook_404_disabled_same_answer_as_unknown(org, make_hook, in_schema):
    hook = make_hook(org, "alertmanager")
    with in_schema(org):
        Integration.objects.filter(pk=hook.integration.pk).update(enabled=False)
    disabled = hook.post(CRASHLOOP)
    hook.token = "y" * 43
    unknown = hook.post(CRASHLOOP)
    assert disabled.status_code == unknown.status_code == 404
    assert disabled.json() == unknown.json()


def test_webhook_404_wrong_source_in_url(org, make_hook):
    hook = make_hook(org, "alertmanager")
    from django.test import Client

    response = Client(HTTP_HOST=org.domain).post(
        f"/hooks/grafana/{hook.token}/", data=CRASHLOOP, content_type="application/json"
    )
    assert response.status_code == 404


def test_webhook_404_suspended_org(org, make_hook):
    from tenants.models import Organization

    hook = make_hook(org, "alertmanager")
    Organization.objects.filter(pk=org.organization.pk).update(is_active=False)
    assert hook.post(CRASHLOOP).status_code == 404


@override_settings(WEBHOOK_MAX_BYTES=2048)
def test_webhook_413_oversized(org, make_hook, in_schema):
    hook = make_hook(org, "alertmanager")
    response = hook.post(b'{"x": "' + b"a" * 4096 + b'"}')
    assert response.status_code == 413
    assert "limit is 2048 bytes" in response.json()["error"]
    assert _signal_count(in_schema, org) == 0


SOURCES = ["alertmanager", "grafana", "datadog", "cloudwatch", "generic"]


@pytest.mark.parametrize("source", SOURCES)
def test_webhook_413_two_mib_string_with_default_limit(org, make_hook, in_schema, source):
    response = make_hook(org, source).post(b'{"alertname": "' + b"a" * (2 * 1024 * 1024) + b'"}')
    assert response.status_code == 413
    assert _signal_count(in_schema, org) == 0


@pytest.mark.parametrize("source", SOURCES)
def test_webhook_400_fifty_thousand_deep_nesting_every_source(org, make_hook, in_schema, source):
    response = make_hook(org, source).post(b'{"alerts": ' + b"[" * 50000 + b"]" * 50000 + b"}")
    assert response.status_code == 400
    assert "nesting" in response.json()["error"]
    assert _signal_count(in_schema, org) == 0


@pytest.mark.parametrize("source", SOURCES)
def test_webhook_400_truncated_json_every_source(org, make_hook, source):
    response = make_hook(org, source).post(b'{"alerts": [{"labels": {"alertname": "x"')
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["error"]


@pytest.mark.parametrize("source", ["alertmanager", "grafana", "datadog", "generic"])
def test_webhook_html_and_script_stored_verbatim_and_escaped_on_page(
    org, make_hook, in_schema, client_for, source
):
    hostile = "<script>alert('x')</script><img src=x onerror=alert(1)>"
    bodies = {
        "alertmanager": {
            "version": "4",
            "status": "firing",
            "alerts": [
                {
                    "status": "firing",
                    "labels": {"alertname": hostile, "namespace": "shop"},
                    "annotations": {"summary": hostile},
                    "startsAt": "2026-11-27T00:00:00Z",
                    "fingerprint": "abcdef0123456789",
                }
            ],
        },
        "grafana": {
            "version": "1",
            "status": "firing",
            "alerts": [
                {
                    "status": "firing",
                    "labels": {"alertname": hostile},
                    "annotations": {"summary": hostile},
                    "startsAt": "2026-11-27T00:00:00+02:00",
                    "fingerprint": "0123456789abcdef",
                }
            ],
        },
        "datadog": {
            "alert_id": "7",
            "alert_title": hostile,
            "alert_transition": "Triggered",
            "id": "1",
            "tags": "kube_namespace:shop",
            "body": hostile,
        },
        "generic": {"alertname": hostile, "summary": hostile, "namespace": "shop"},
    }
    response = make_hook(org, source).post(bodies[source])
    assert response.status_code == 202, response.content
    with in_schema(org):
        signal = Signal.objects.get()
        assert hostile in signal.alertname + signal.summary
    page = client_for(org.owner, org).get(f"/alerts/{signal.pk}/").content.decode()
    assert "<script>alert(" not in page and "<img src=x" not in page
    assert "&lt;script&gt;" in page


def test_webhook_415_wrong_content_type(org, make_hook):
    response = make_hook(org, "alertmanager").post(CRASHLOOP, content_type="image/png")
    assert response.status_code == 415
    assert "image/png" in response.json()["error"]


def test_webhook_400_truncated_json(org, make_hook):
    response = make_hook(org, "alertmanager").post(CRASHLOOP[:100])
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["error"]


def test_webhook_400_deep_nesting_before_parsing(org, make_hook):
    response = make_hook(org, "alertmanager").post(b"[" * 50000 + b"]" * 50000)
    assert response.status_code == 400
    assert "nesting" in response.json()["error"]


def test_webhook_400_names_the_bad_field(org, make_hook, in_schema):
    payload = json.loads(CRASHLOOP)
    payload["alerts"][0]["labels"] = "not an object"
    response = make_hook(org, "alertmanager").post(payload)
    assert response.status_code == 400
    assert "alerts[0].labels" in response.json()["error"]
    assert _signal_count(in_schema, org) == 0


def test_webhook_401_bearer_missing_and_wrong(org, make_hook):
    hook = make_hook(org, "alertmanager", auth=AuthConfig(kind=AuthKind.BEARER, secret="s3cret-token-1"))
    assert hook.post(CRASHLOOP).status_code == 401
    assert hook.post(CRASHLOOP, HTTP_AUTHORIZATION="Bearer nope-nope").status_code == 401
    assert hook.post(CRASHLOOP, HTTP_AUTHORIZATION="Bearer s3cret-token-1").status_code == 202


def test_webhook_401_basic_has_challenge(org, make_hook):
    hook = make_hook(
        org, "cloudwatch", auth=AuthConfig(kind=AuthKind.BASIC, username="sns", secret="pa55word!")
    )
    response = hook.post(b"{}", content_type="text/plain")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Basic realm=")
    good = "Basic " + base64.b64encode(b"sns:pa55word!").decode()
    assert hook.post(b"{}", content_type="text/plain", HTTP_AUTHORIZATION=good).status_code != 401


def test_webhook_401_custom_header(org, make_hook):
    hook = make_hook(
        org, "datadog", auth=AuthConfig(kind=AuthKind.HEADER, header="X-Webhook-Token", secret="dd-secret-1")
    )
    body = fixture_bytes("datadog", "template_triggered")
    assert hook.post(body).status_code == 401
    assert hook.post(body, HTTP_X_WEBHOOK_TOKEN="wrong-value").status_code == 401
    response = hook.post(body, HTTP_X_WEBHOOK_TOKEN="dd-secret-1")
    assert response.status_code == 202


def test_webhook_401_grafana_hmac_and_timestamp(org, make_hook):
    auth = AuthConfig(
        kind=AuthKind.HMAC,
        secret="grafana-hmac-secret",
        header="X-Grafana-Alerting-Signature",
        timestamp_header="X-Grafana-Alerting-Timestamp",
    )
    hook = make_hook(org, "grafana", auth=auth)
    body = json.dumps(json.loads(CRASHLOOP) | {"version": "1"}).encode()
    stamp = str(int(time.time()))
    signature = hmac.new(b"grafana-hmac-secret", stamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    ok = hook.post(body, HTTP_X_GRAFANA_ALERTING_SIGNATURE=signature, HTTP_X_GRAFANA_ALERTING_TIMESTAMP=stamp)
    assert ok.status_code == 202, ok.content
    tampered = hook.post(
        body + b" ", HTTP_X_GRAFANA_ALERTING_SIGNATURE=signature, HTTP_X_GRAFANA_ALERTING_TIMESTAMP=stamp
    )
    assert tampered.status_code == 401
    old = str(int(time.time()) - 3600)
    old_signature = hmac.new(b"grafana-hmac-secret", old.encode() + b":" + body, hashlib.sha256).hexdigest()
    replay = hook.post(
        body, HTTP_X_GRAFANA_ALERTING_SIGNATURE=old_signature, HTTP_X_GRAFANA_ALERTING_TIMESTAMP=old
    )
    assert replay.status_code == 401
    assert "5 minutes" in replay.json()["error"]


def test_webhook_429_with_retry_after(org, make_hook, in_schema):
    hook = make_hook(org, "alertmanager")
    with in_schema(org):
        Integration.objects.filter(pk=hook.integration.pk).update(rate_limit_per_minute=2)
    import django_rq

    django_rq.get_connection("default").flushdb()
    statuses = [hook.post(CRASHLOOP).status_code for _ in range(3)]
    assert statuses == [202, 202, 429]
    limited = hook.post(CRASHLOOP)
    assert 1 <= int(limited["Retry-After"]) <= 61
    with in_schema(org):
        assert Integration.objects.get(pk=hook.integration.pk).rejected_total == 2


def test_webhook_token_never_in_stored_headers_or_errors(org, make_hook, in_schema):
    hook = make_hook(org, "alertmanager", auth=AuthConfig(kind=AuthKind.BEARER, secret="s3cret-token-1"))
    hook.post(CRASHLOOP, HTTP_AUTHORIZATION="Bearer s3cret-token-1", HTTP_COOKIE="a=b")
    with in_schema(org):
        stored = RawPayload.objects.get().headers
    lowered = {name.lower() for name in stored}
    assert "authorization" not in lowered and "cookie" not in lowered
    assert hook.token not in json.dumps(stored)


def test_webhook_no_5xx_for_any_fixture_at_any_endpoint(org, make_hook):
    from pathlib import Path

    hooks = {
        source: make_hook(org, source)
        for source in ("alertmanager", "grafana", "datadog", "cloudwatch", "generic")
    }
    bodies = [p.read_bytes() for p in (Path(__file__).parent / "sources" / "fixtures").rglob("*.json")]
    bodies += [b"", b"null", b"[]", b"{}", b"\xff\xfe", b'{"alerts": [null, 1, "x", []]}', b'{"a":' * 70]
    for hook in hooks.values():
        for body in bodies:
            for content_type in ("application/json", "text/plain", "application/x-www-form-urlencoded"):
                status = hook.post(body, content_type=content_type).status_code
                assert status < 500, (hook.integration.source, body[:80], content_type, status)
