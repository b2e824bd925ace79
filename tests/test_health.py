"""/healthz, /readyz and /metrics answer on any host, and /readyz names what is down."""

import json

import pytest
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db


def test_healthz_alive_on_any_host():
    response = Client(HTTP_HOST="10.1.2.3").get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "alive"}


def test_readyz_ready_when_database_and_redis_answer():
    response = Client(HTTP_HOST="10.1.2.3").get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["failed"] == []
    assert body["checks"]["database"]["ok"] and body["checks"]["redis"]["ok"]


@override_settings(REDIS_URL="redis://127.0.0.1:1/0")
def test_readyz_503_names_redis_when_unreachable():
    response = Client().get("/readyz")
    assert response.status_code == 503
    body = json.loads(response.content)
    assert body["status"] == "not ready"
    assert body["failed"] == ["redis"]
    assert "Connection refused" in body["checks"]["redis"]["error"] or body["checks"]["redis"]["error"]
    assert body["checks"]["database"]["ok"]


def test_metrics_in_prometheus_text_format(org, client_for):
    client_for(org.owner, org).get("/alerts/")
    response = Client(HTTP_HOST="10.1.2.3").get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    text = response.content.decode()
    assert 'opsworker_http_requests_total{method="GET",route="alerts:list",status="2xx"}' in text
    assert 'opsworker_queue_jobs{queue="investigations"}' in text
    assert 'opsworker_workers{queue="default"}' in text
    assert "opsworker_redis_up 1.0" in text


def test_metrics_show_the_scheduler_heartbeat_once_it_beat():
    import django_rq

    from opsworker.scheduler_heartbeat import KEY, beat

    django_rq.get_connection("default").delete(KEY)
    before = Client(HTTP_HOST="10.1.2.3").get("/metrics").content.decode()
    assert "opsworker_scheduler_last_beat_timestamp_seconds " not in before
    when = beat()
    after = Client(HTTP_HOST="10.1.2.3").get("/metrics").content.decode()
    line = next(
        x for x in after.splitlines() if x.startswith("opsworker_scheduler_last_beat_timestamp_seconds ")
    )
    assert float(line.split()[1]) == pytest.approx(when)
