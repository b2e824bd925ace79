"""The Alerts pages: list (filters, sorting, paging, counts, htmx table) and detail (fields, escaping)."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from alerts.models import Decision, Signal
from tests.alerts.conftest import fixture_bytes

pytestmark = pytest.mark.django_db


def _generic(alertname, **fields):
    return {"alertname": alertname, **fields}


def _post_all(hook, alerts):
    response = hook.post({"alerts": alerts})
    assert response.status_code == 202, response.content
    return [item["id"] for item in response.json()["signals"]]


def _rows(response) -> list[str]:
    """Alert names of the table rows, in order."""
    return re.findall(r'<td class="alertname"><a href="/alerts/\d+/">([^<]*)</a>', response.content.decode())


@pytest.fixture
def seeded(org, make_hook):
    """Three generic alerts with different severities, namespaces and clusters; one resolved."""
    hook = make_hook(org, "generic", cluster_name="prod-eu")
    ids = _post_all(
        hook,
        [
            _generic("DiskFull", severity="critical", namespace="payments", pod="db-0", summary="disk 99%"),
            _generic("HighLatency", severity="warning", namespace="shop", cluster="prod-us", workload="web"),
            _generic("NightlyJob", namespace="batch"),
        ],
    )
    hook.post(_generic("NightlyJob", namespace="batch", status="resolved"))
    return hook, ids


# --- list -------------------------------------------------------------------------------------


def test_alert_list_renders_rows_posted_through_the_webhook(org, other_org, client_for, make_hook):
    hook = make_hook(org, "alertmanager")
    assert hook.post(fixture_bytes("alertmanager", "single_crashloop")).status_code == 202

    body = client_for(org.owner, org).get("/alerts/").content.decode()

    assert "KubePodCrashLooping" in body
    assert "pod/payments-api-7d9f8b6c5-x2x4z" in body
    assert '<span class="badge warn">warning</span>' in body
    assert '<span class="badge danger">firing</span>' in body
    assert "Prometheus Alertmanager" in body
    assert '<div id="alerts-live-notice"' in body
    assert re.search(r'<time data-relative datetime="\d{4}-\d\d-\d\dT', body)
    # the other organization sees none of it
    other = client_for(other_org.owner, other_org).get("/alerts/").content.decode()
    assert "KubePodCrashLooping" not in other
    assert "No alerts yet" in other


def test_alert_list_empty_state_without_any_alert(org, client_for):
    body = client_for(org.owner, org).get("/alerts/").content.decode()
    assert "No alerts yet" in body
    assert "Set up an integration" in body  # the owner may configure
    assert "No alerts match" not in body


def test_alert_list_empty_state_when_filters_exclude_everything(org, other_org, client_for, seeded):
    response = client_for(org.owner, org).get("/alerts/?q=nothing-like-this")
    body = response.content.decode()
    assert "No alerts match these filters" in body
    assert "Clear filters" in body
    assert "No alerts yet" not in body
    assert "No alerts yet" in client_for(other_org.owner, other_org).get("/alerts/?q=x").content.decode()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=resolved", ["NightlyJob"]),
        ("status=firing", ["HighLatency", "DiskFull"]),
        ("severity=critical", ["DiskFull"]),
        ("severity=none", ["NightlyJob"]),
        ("source=generic", ["NightlyJob", "HighLatency", "DiskFull"]),
        ("source=grafana", []),
        ("cluster=prod-us", ["HighLatency"]),
        ("namespace=payments", ["DiskFull"]),
        ("q=disk+99", ["DiskFull"]),
        ("q=db-0", ["DiskFull"]),
    ],
)
def test_alert_list_filters(org, other_org, client_for, seeded, query, expected):
    response = client_for(org.owner, org).get(f"/alerts/?{query}")
    assert response.status_code == 200
    assert _rows(response) == expected
    assert _rows(client_for(other_org.owner, other_org).get(f"/alerts/?{query}")) == []


def test_alert_list_filter_menus_come_from_facets(org, client_for, seeded):
    body = client_for(org.owner, org).get("/alerts/?namespace=shop").content.decode()
    assert '<option value="payments">payments</option>' in body
    assert '<option value="shop" selected>shop</option>' in body
    assert '<option value="prod-us">prod-us</option>' in body
    assert '<option value="prod-eu">prod-eu</option>' in body  # the integration's cluster


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("name", ["DiskFull", "HighLatency", "NightlyJob"]),
        ("-name", ["NightlyJob", "HighLatency", "DiskFull"]),
        ("severity", ["DiskFull", "HighLatency", "NightlyJob"]),
        ("-severity", ["NightlyJob", "HighLatency", "DiskFull"]),
        ("namespace", ["NightlyJob", "DiskFull", "HighLatency"]),
        ("deliveries", ["NightlyJob", "HighLatency", "DiskFull"]),
        ("first", ["NightlyJob", "HighLatency", "DiskFull"]),
        ("-first", ["DiskFull", "HighLatency", "NightlyJob"]),
    ],
)
def test_alert_list_sorts(org, client_for, in_schema, seeded, sort, expected):
    _hook, (disk, latency, nightly) = seeded
    with in_schema(org):  # distinct first-received times, oldest first: DiskFull, HighLatency, NightlyJob
        now = timezone.now()
        for offset, pk in enumerate((disk, latency, nightly)):
            Signal.objects.filter(pk=pk).update(first_received_at=now - timedelta(minutes=10 - offset))
    assert _rows(client_for(org.owner, org).get(f"/alerts/?sort={sort}")) == expected


def test_alert_list_sort_header_reverses_current_column(org, client_for, seeded):
    body = client_for(org.owner, org).get("/alerts/?sort=name&severity=critical").content.decode()
    assert 'href="/alerts/?severity=critical&amp;sort=-name"' in body
    assert 'href="/alerts/?severity=critical&amp;sort=deliveries"' in body
    assert "Alert ▾" in body  # the current column is marked
    # the filter form submits the current sort (the field lives in the swapped table)
    assert '<input type="hidden" name="sort" value="name" form="alert-filters">' in body
    assert "Severity ▾" not in body


def test_alert_list_paginates_and_keeps_filters(org, other_org, client_for, make_hook):
    hook = make_hook(org, "generic")
    _post_all(hook, [_generic(f"Alert{i:02d}", namespace="ns1", severity="warning") for i in range(60)])
    _post_all(hook, [_generic("Other", namespace="ns2")])
    client = client_for(org.owner, org)

    first = client.get("/alerts/?namespace=ns1&sort=name")
    second = client.get("/alerts/?namespace=ns1&sort=name&page=2")

    assert len(_rows(first)) == 50
    assert _rows(first)[0] == "Alert00"
    assert _rows(second) == [f"Alert{i:02d}" for i in range(50, 60)]
    body = first.content.decode()
    assert "page 1 of 2" in body
    assert 'href="/alerts/?namespace=ns1&amp;sort=name&amp;page=2"' in body
    assert 'hx-get="/alerts/table/?namespace=ns1&amp;sort=name&amp;page=2"' in body
    assert "60 alerts match these filters" in body
    assert _rows(client_for(other_org.owner, other_org).get("/alerts/?page=2")) == []


def test_alert_list_page_is_one_query_for_the_rows(org, client_for, make_hook):
    hook = make_hook(org, "generic")
    _post_all(hook, [_generic(f"Alert{i}", namespace="ns", pod=f"p{i}") for i in range(30)])
    client = client_for(org.owner, org)
    client.get("/alerts/")  # warm the session and membership caches

    with CaptureQueriesContext(connection) as queries:
        response = client.get("/alerts/table/")
    assert len(_rows(response)) == 30
    signal_queries = [q["sql"] for q in queries.captured_queries if 'FROM "alerts_signal"' in q["sql"]]
    assert len(signal_queries) == 2  # the count and the page (integration joined in)
    assert any('JOIN "alerts_integration"' in sql for sql in signal_queries)
    assert not any(
        'FROM "alerts_integration"' in q["sql"] and "JOIN" not in q["sql"] for q in queries.captured_queries
    )


def test_alert_list_counts_in_header(org, other_org, client_for, in_schema, seeded):
    _hook, (_disk, latency, _nightly) = seeded
    with in_schema(org):
        Signal.objects.filter(pk=latency).update(last_received_at=timezone.now() - timedelta(days=2))
    body = client_for(org.owner, org).get("/alerts/").content.decode()
    counts = re.sub(r"\s+", " ", body.split('data-testid="alert-counts"')[1].split("</div>")[0])
    assert "<strong>2</strong> firing now" in counts
    assert "<strong>1</strong> critical firing" in counts
    assert "<strong>2</strong> received in the last 24 h" in counts
    other = client_for(other_org.owner, other_org).get("/alerts/").content.decode()
    assert "<strong>0</strong> firing now" in other


def test_alert_table_partial_renders_alone(org, other_org, client_for, seeded):
    response = client_for(org.owner, org).get("/alerts/table/?severity=warning", HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="alert-table"')
    assert "<html" not in body and "<form" not in body
    assert _rows(response) == ["HighLatency"]
    assert response["HX-Push-Url"] == "/alerts/?severity=warning"
    assert _rows(client_for(other_org.owner, other_org).get("/alerts/table/")) == []


def test_alert_table_requires_membership(org, other_org, client_for):
    assert client_for(org.owner, other_org).get("/alerts/table/").status_code == 403


def test_alert_list_hides_suppressed_by_default(org, client_for, in_schema, seeded):
    _hook, (disk, _latency, _nightly) = seeded
    with in_schema(org):
        Signal.objects.filter(pk=disk).update(decision=Decision.SUPPRESS)
    client = client_for(org.owner, org)
    assert "DiskFull" not in _rows(client.get("/alerts/"))
    shown = client.get("/alerts/?suppressed=1")
    assert "DiskFull" in _rows(shown)
    assert "show suppressed" in client.get("/alerts/").content.decode()


def test_alert_list_all_suppressed_is_not_the_no_alerts_state(org, client_for, in_schema, seeded):
    with in_schema(org):
        Signal.objects.update(decision=Decision.SUPPRESS)
    body = client_for(org.owner, org).get("/alerts/").content.decode()
    assert "No alerts match these filters" in body
    assert "Include suppressed alerts" in body


def test_alert_list_viewer_sees_no_setup_button(org, client_for, make_member):
    body = client_for(make_member(org, "viewer"), org).get("/alerts/").content.decode()
    assert "No alerts yet" in body
    assert "Set up an integration" not in body


# --- detail -----------------------------------------------------------------------------------


def test_alert_detail_shows_normalized_fields(org, other_org, client_for, make_hook):
    hook = make_hook(org, "alertmanager")
    response = hook.post(fixture_bytes("alertmanager", "single_crashloop"))
    signal_id = response.json()["signals"][0]["id"]

    page = client_for(org.owner, org).get(f"/alerts/{signal_id}/")
    body = page.content.decode()

    assert page.status_code == 200
    assert "KubePodCrashLooping" in body
    assert "Pod is crash looping." in body
    assert "payments-api-7d9f8b6c5-x2x4z" in body
    assert "from label" in body
    assert "kube-state-metrics" in body  # labels table
    assert 'href="https://runbooks.prometheus-operator.dev/runbooks/kubernetes/kubepodcrashlooping"' in body
    assert "none started by this alert" in body
    assert "&quot;receiver&quot;: &quot;opsworker&quot;" in body  # pretty-printed raw payload
    assert '<details class="raw"' not in body  # small payloads are not folded
    # the other organization gets 404 for this id
    assert client_for(other_org.owner, other_org).get(f"/alerts/{signal_id}/").status_code == 404


def test_alert_detail_lists_its_investigations_and_decision(org, client_for, in_schema, make_hook):
    from investigations.models import Investigation

    hook = make_hook(org, "generic")
    (signal_id,) = _post_all(hook, [_generic("Investigated", namespace="payments")])
    with in_schema(org):
        Signal.objects.filter(pk=signal_id).update(
            decision=Decision.INVESTIGATE, decision_reason="rule <Prod> matched"
        )
        investigation = Investigation.objects.create(
            signal_id=signal_id, status="running", namespace="payments"
        )
    body = client_for(org.owner, org).get(f"/alerts/{signal_id}/").content.decode()
    assert (
        f'<a href="/investigations/{investigation.pk}/">Investigation #{investigation.pk}</a> '
        '<span class="badge">Running</span>' in body
    )
    assert '<span class="badge danger">Investigate</span>' in body
    assert "rule &lt;Prod&gt; matched" in body


def test_alert_detail_unknown_id_is_404(org, client_for):
    assert client_for(org.owner, org).get("/alerts/999999/").status_code == 404


def test_alert_detail_escapes_hostile_html(org, other_org, client_for, make_hook):
    hook = make_hook(org, "alertmanager")
    response = hook.post(fixture_bytes("alertmanager", "hostile_html"))
    assert response.status_code == 202, response.content
    signal_id = response.json()["signals"][0]["id"]
    client = client_for(org.owner, org)

    for path in (f"/alerts/{signal_id}/", "/alerts/", "/alerts/table/"):
        body = client.get(path).content.decode()
        assert "<script>alert" not in body, path
        assert "<iframe" not in body and "<img src=x" not in body and "<svg/onload" not in body, path
        assert 'href="javascript:' not in body.lower() and 'href="data:' not in body.lower(), path
    detail = client.get(f"/alerts/{signal_id}/").content.decode()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in detail
    assert "&lt;iframe" in detail
    assert client_for(other_org.owner, other_org).get(f"/alerts/{signal_id}/").status_code == 404


def test_alert_detail_renders_non_http_link_as_text(org, client_for, in_schema, make_hook):
    hook = make_hook(org, "generic")
    (signal_id,) = _post_all(hook, [_generic("Linky", links={"runbook": "https://wiki.example.com/rb"})])
    with in_schema(org):  # adapters drop other schemes; the page must not trust that
        Signal.objects.filter(pk=signal_id).update(
            links={
                "runbook": "https://wiki.example.com/rb",
                "dashboard": "javascript:alert(1)",
                "panel": "ftp://x/y",
            }
        )
    body = client_for(org.owner, org).get(f"/alerts/{signal_id}/").content.decode()
    assert '<a href="https://wiki.example.com/rb"' in body
    assert 'href="javascript:' not in body
    assert 'href="ftp:' not in body
    assert "javascript:alert(1)</span>" in body
    assert "not an http(s) link" in body


def test_alert_detail_folds_long_raw_payload_and_cuts_long_values(org, client_for, make_hook):
    hook = make_hook(org, "generic")
    long_value = "x" * 5000
    alerts = [_generic(f"Bulk{i}", labels={"blob": long_value if i == 0 else "y" * 100}) for i in range(40)]
    (signal_id, *_rest) = _post_all(hook, alerts)

    body = client_for(org.owner, org).get(f"/alerts/{signal_id}/").content.decode()
    raw = body.split('data-testid="raw-payload"')[1]

    assert '<details class="raw"' in body
    assert "cut for display: 5000 characters" in raw
    assert long_value not in raw
    assert "1 very long value cut for display" in body


def test_alert_detail_non_json_body_is_shown_escaped(org, client_for, in_schema, make_hook):
    hook = make_hook(org, "generic")
    (signal_id,) = _post_all(hook, [_generic("Plain")])
    with in_schema(org):
        signal = Signal.objects.get(pk=signal_id)
        signal.first_payload.body = "not json <b>bold</b>"
        signal.first_payload.save(update_fields=["body"])
    body = client_for(org.owner, org).get(f"/alerts/{signal_id}/").content.decode()
    assert "not json &lt;b&gt;bold&lt;/b&gt;" in body
    assert "not JSON, shown as text" in body


def test_alert_detail_lists_deliveries(org, client_for, make_hook):
    hook = make_hook(org, "alertmanager")
    payload = fixture_bytes("alertmanager", "single_crashloop")
    signal_id = hook.post(payload).json()["signals"][0]["id"]
    hook.post(payload)
    body = client_for(org.owner, org).get(f"/alerts/{signal_id}/").content.decode()
    deliveries = body.split("<h2>Deliveries</h2>")[1]
    assert deliveries.count("<time data-relative") == 2
    assert "2 deliveries counted in total" in deliveries


def test_alert_detail_viewer_may_read(org, client_for, make_member, make_hook):
    hook = make_hook(org, "generic")
    (signal_id,) = _post_all(hook, [_generic("Readable")])
    assert client_for(make_member(org, "viewer"), org).get(f"/alerts/{signal_id}/").status_code == 200


def test_alert_detail_raw_payload_is_the_first_delivery(org, client_for, make_hook):
    hook = make_hook(org, "generic")
    first = {"alertname": "Twice", "summary": "first words", "fingerprint": "twice"}
    signal_id = hook.post(first).json()["signals"][0]["id"]
    hook.post({**first, "summary": "second words"})
    raw = (
        client_for(org.owner, org)
        .get(f"/alerts/{signal_id}/")
        .content.decode()
        .split('data-testid="raw-payload"')[1]
    )
    assert json.dumps("first words")[1:-1] in raw
    assert "second words" not in raw
