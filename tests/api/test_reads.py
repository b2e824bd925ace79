"""Read endpoints: signals, investigations, clusters, integrations; pagination, filters, 404s."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

pytestmark = pytest.mark.django_db


def _query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


# --- signals -------------------------------------------------------------------------------------


def test_signals_list_shape_and_order(org, owner_api, make_signal):
    older = make_signal(org, alertname="Older", last_received_at=timezone.now() - timedelta(hours=1))
    newer = make_signal(org, alertname="Newer")
    body = owner_api.get("/api/v1/signals/").json()
    assert body["count"] == 2
    assert [row["id"] for row in body["results"]] == [newer.pk, older.pk]
    assert body["next"] is None and body["previous"] is None
    row = body["results"][0]
    assert row["alertname"] == "Newer"
    assert row["status"] == "firing"
    assert "labels" not in row  # detail only


def test_signals_pagination_links_and_limits(org, owner_api, make_signal):
    for _ in range(5):
        make_signal(org)
    first = owner_api.get("/api/v1/signals/?limit=2&severity=warning").json()
    assert first["count"] == 5 and len(first["results"]) == 2
    assert first["previous"] is None
    assert first["next"].startswith(f"http://{org.domain}/api/v1/signals/?")
    assert _query(first["next"]) == {"limit": "2", "page": "2", "severity": "warning"}
    seen = [row["id"] for row in first["results"]]
    page = first
    while page["next"]:
        page = owner_api.get(page["next"]).json()
        seen += [row["id"] for row in page["results"]]
    assert len(seen) == len(set(seen)) == 5
    assert _query(page["previous"])["page"] == "2"
    beyond = owner_api.get("/api/v1/signals/?page=99").json()
    assert beyond["results"] == [] and beyond["next"] is None


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=201", "limit=abc", "page=0", "page=-1", "page=1.5", "limit=%EF%BC%91"]
)
def test_signals_bad_pagination_is_400(owner_api, query):
    response = owner_api.get(f"/api/v1/signals/?{query}")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert response.json()["error"]["details"]["parameter"] in ("page", "limit")


def test_signals_filters(org, owner_api, make_signal):
    a = make_signal(org, alertname="DiskFull", severity="critical", namespace="payments", cluster="eu")
    b = make_signal(
        org, alertname="Latency", severity="warning", namespace="shop", cluster="us", status="resolved"
    )
    c = make_signal(
        org,
        alertname="Old",
        severity="",
        namespace="batch",
        last_received_at=timezone.now() - timedelta(days=3),
    )

    def ids(query):
        response = owner_api.get(f"/api/v1/signals/?{query}")
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    assert ids("status=firing") == {a.pk, c.pk}
    assert ids("status=resolved") == {b.pk}
    assert ids("severity=critical") == {a.pk}
    assert ids("severity=none") == {c.pk}
    assert ids("cluster=eu") == {a.pk}
    assert ids("namespace=shop") == {b.pk}
    assert ids("q=disk") == {a.pk}
    assert ids("source=generic") == {a.pk, b.pk, c.pk}
    assert ids("since=" + (timezone.now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")) == {a.pk, b.pk}
    assert ids("sort=name")
    first = owner_api.get("/api/v1/signals/?sort=name").json()["results"][0]
    assert first["alertname"] == "DiskFull"


def test_signals_suppressed_hidden_unless_asked(org, owner_api, make_signal):
    hidden = make_signal(org, decision="suppress")
    assert owner_api.get("/api/v1/signals/").json()["count"] == 0
    assert owner_api.get("/api/v1/signals/?suppressed=1").json()["results"][0]["id"] == hidden.pk


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("status=burning", "status"),
        ("severity=loud", "severity"),
        ("source=pager", "source"),
        ("since=yesterday", "since"),
        ("since=2026-13-45T00:00:00Z", "since"),
        ("sort=random", "sort"),
        ("cluster=" + "x" * 300, "cluster"),
        ("namespace=a%00b", "namespace"),
        ("status=", "status"),
        ("since=0001-01-01T00:00:00%2B05:00", "since"),
        ("since=", "since"),
        ("limit=", "limit"),
    ],
)
def test_signals_invalid_filters_are_400_naming_the_parameter(owner_api, query, parameter):
    response = owner_api.get(f"/api/v1/signals/?{query}")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["details"] == {"parameter": parameter}
    assert parameter in error["message"]


@pytest.mark.parametrize("resource", ["signals", "investigations"])
def test_since_with_an_offset_postgresql_cannot_hold_is_converted_not_500(org, owner_api, resource):
    """Found by schemathesis: +20:46 is a valid ISO offset but out of PostgreSQL's range."""
    response = owner_api.get(f"/api/v1/{resource}/?since=1050-08-17T22:40:43.806310%2B20:46")
    assert response.status_code == 200, response.content


def test_signal_detail(org, owner_api, make_signal):
    signal = make_signal(org, labels={"team": "payments"}, description="all the disk")
    body = owner_api.get(f"/api/v1/signals/{signal.pk}/").json()
    assert body["id"] == signal.pk
    assert body["labels"] == {"team": "payments"}
    assert body["description"] == "all the disk"


def test_other_organizations_ids_are_404(
    org, other_org, owner_api, make_signal, make_investigation, make_rule
):
    """Each organization's rows live in its own schema: beta's ids do not exist on alpha's host."""
    theirs = {
        "signals": make_signal(other_org).pk,
        "investigations": make_investigation(other_org).pk,
        "rules": make_rule(other_org).pk,
    }
    for resource, pk in theirs.items():
        response = owner_api.get(f"/api/v1/{resource}/{pk + 1000}/")
        assert response.status_code == 404
        response = owner_api.get(f"/api/v1/{resource}/{pk}/")
        assert response.status_code == 404, resource
        assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("resource", ["signals", "investigations", "rules", "clusters", "integrations"])
def test_unknown_and_huge_ids_are_404(owner_api, resource):
    for pk in (999999, 2**63, 10**30):
        response = owner_api.get(f"/api/v1/{resource}/{pk}/")
        assert response.status_code == 404, (resource, pk)
        assert response.json()["error"]["code"] == "not_found"


# --- investigations ------------------------------------------------------------------------------


def test_investigations_list_filters_and_detail(org, owner_api, make_investigation):
    done = make_investigation(
        org,
        result={"root_cause": {"category": "oom", "summary": "out of memory"}},
        root_cause_category="oom",
        summary="OOMKilled",
        confidence=0.9,
    )
    running = make_investigation(org, status="running", namespace="batch")
    body = owner_api.get("/api/v1/investigations/").json()
    assert [row["id"] for row in body["results"]] == [running.pk, done.pk]
    assert "result" not in body["results"][0]
    assert [r["id"] for r in owner_api.get("/api/v1/investigations/?status=running").json()["results"]] == [
        running.pk
    ]
    assert owner_api.get("/api/v1/investigations/?namespace=batch").json()["count"] == 1
    assert owner_api.get("/api/v1/investigations/?category=oom").json()["count"] == 1
    assert owner_api.get("/api/v1/investigations/?status=bogus").status_code == 400
    detail = owner_api.get(f"/api/v1/investigations/{done.pk}/").json()
    assert detail["result"] == {"root_cause": {"category": "oom", "summary": "out of memory"}}
    assert detail["confidence"] == 0.9
    assert detail["steps"] == []
    assert detail["llm_cost"] == "0.0000"


# --- clusters and integrations -------------------------------------------------------------------


def test_clusters_list_and_detail_never_show_tokens(org, owner_api, in_schema):
    from clusters.services import cluster_create

    with in_schema(org):
        made = cluster_create(name="prod-eu-1", created_by="owner@alpha.test")
    body = owner_api.get("/api/v1/clusters/")
    assert body.status_code == 200
    assert body.json()["results"][0]["name"] == "prod-eu-1"
    assert body.json()["results"][0]["status"] == "pending"
    detail = owner_api.get(f"/api/v1/clusters/{made.cluster.pk}/")
    assert detail.json()["name"] == "prod-eu-1"
    for response in (body, detail):
        text = response.content.decode()
        assert made.token not in text
        assert made.cluster.token_hash not in text
        assert "token" not in text


def test_integrations_list_and_detail_never_show_secrets(org, owner_api, in_schema):
    from alerts.services.integrations import AuthConfig, integration_create

    with in_schema(org):
        made = integration_create(
            name="Prometheus EU",
            source="alertmanager",
            auth=AuthConfig(kind="bearer", secret="s3cret-value-123"),
        )
        integration_create(name="Datadog", source="datadog")
    listing = owner_api.get("/api/v1/integrations/")
    assert [row["name"] for row in listing.json()["results"]] == ["Datadog", "Prometheus EU"]
    assert owner_api.get("/api/v1/integrations/?source=datadog").json()["count"] == 1
    detail = owner_api.get(f"/api/v1/integrations/{made.integration.pk}/")
    assert detail.json()["auth_kind"] == "bearer"
    for response in (listing, detail):
        text = response.content.decode()
        for secret in (
            made.token,
            made.integration.token_hash,
            "s3cret-value-123",
            made.integration.token_hint,
        ):
            assert secret not in text


def test_timestamps_keep_microseconds_so_since_finds_the_row(org, owner_api, make_signal):
    signal = make_signal(org)
    row = owner_api.get("/api/v1/signals/").json()["results"][0]
    assert row["last_received_at"] == signal.last_received_at.isoformat()
    since = row["last_received_at"].replace("+", "%2B")
    assert owner_api.get(f"/api/v1/signals/?since={since}").json()["count"] == 1
