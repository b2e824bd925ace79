"""Insights: every figure checked against known data, the period filter, and organization isolation."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import include, path
from django.utils import timezone
from django_tenants.utils import schema_context

from alerts.models import Signal
from investigations.feedback import InvestigationFeedback
from investigations.insights import insights_for, period_from_params, period_last
from investigations.models import ChatMessage, Investigation
from opsworker.urls import urlpatterns as organization_urlpatterns

insights_urls = path("", include("investigations.insights_urls"))
# The organization URLs plus insights, as the lead includes them (once they do, nothing is added).
urlpatterns = [
    *organization_urlpatterns,
    *(
        []
        if any(getattr(p, "namespace", None) == "insights" for p in organization_urlpatterns)
        else [insights_urls]
    ),
]
pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

_fingerprints = itertools.count()


def today() -> date:
    return timezone.now().date()


def noon(days_ago: int) -> datetime:
    return datetime.combine(today() - timedelta(days=days_ago), datetime.min.time(), tzinfo=UTC) + timedelta(
        hours=12
    )


def signal(days_ago: int, severity: str, source: str, cluster: str, namespace: str) -> Signal:
    return Signal.objects.create(
        source=source,
        fingerprint=f"fp-{next(_fingerprints)}",
        status="firing",
        alertname="KubePodCrashLooping",
        severity=severity,
        cluster=cluster,
        namespace=namespace,
        first_received_at=noon(days_ago),
        last_received_at=noon(days_ago),
    )


def investigation(
    days_ago: int,
    status: str,
    *,
    source_signal: Signal | None = None,
    seconds: int = 0,
    category: str = "",
    tokens: int = 0,
    cost: str = "0",
) -> Investigation:
    created = source_signal.first_received_at if source_signal else noon(days_ago)
    finished = created + timedelta(seconds=seconds) if status in ("completed", "failed") else None
    return Investigation.objects.create(
        signal=source_signal,
        status=status,
        created_at=created,
        started_at=created,
        finished_at=finished,
        root_cause_category=category,
        llm_tokens=tokens,
        llm_cost=Decimal(cost),
    )


def rate(target: Investigation, user_id: int, rating: str) -> None:
    InvestigationFeedback.objects.create(
        investigation=target, user_id=user_id, email=f"u{user_id}@alpha.test", rating=rating
    )


@pytest.fixture
def known_data(org, other_org):
    """Alpha: 7 alerts and 6 investigations in the last 7 days, one more of each 10 days ago."""
    with schema_context(org.schema):
        s1 = signal(1, "critical", "alertmanager", "prod", "shop")
        signal(1, "critical", "alertmanager", "prod", "shop")
        signal(1, "warning", "grafana", "prod", "search")
        s3 = signal(3, "critical", "alertmanager", "staging", "shop")
        signal(3, "info", "datadog", "prod", "")
        s5 = signal(5, "warning", "alertmanager", "prod", "search")
        signal(5, "", "generic", "", "shop")
        s10 = signal(10, "critical", "alertmanager", "prod", "shop")
        i1 = investigation(
            1, "completed", source_signal=s1, seconds=240, category="oom-killed", tokens=1000, cost="0.01"
        )
        i2 = investigation(3, "completed", source_signal=s3, seconds=120, category="oom-killed")
        i3 = investigation(
            5,
            "completed",
            source_signal=s5,
            seconds=600,
            category="service-selector-mismatch",
            tokens=500,
            cost="0.005",
        )
        investigation(2, "completed", category="unknown")  # manual: no alert, so not timed
        investigation(2, "failed", seconds=30)
        investigation(1, "running")
        i7 = investigation(10, "completed", source_signal=s10, seconds=60, category="app-crash")
        rate(i1, 1, "accurate")
        rate(i1, 2, "partial")
        rate(i2, 1, "needs_improvement")
        rate(i3, 1, "partial")
        rate(i7, 1, "accurate")
        ChatMessage.objects.create(
            investigation=i1,
            role="assistant",
            text="x",
            tokens=200,
            cost=Decimal("0.002"),
            created_at=noon(1),
        )
    with schema_context(other_org.schema):
        b1 = signal(1, "critical", "datadog", "beta-cluster", "beta-ns")
        b = investigation(
            1, "completed", source_signal=b1, seconds=9000, category="node-problem", tokens=99999
        )
        rate(b, 1, "needs_improvement")


def test_insights_alert_figures(org, known_data):
    with schema_context(org.schema):
        alerts = insights_for(period_last(7, today()))["alerts"]
    assert alerts["total"] == 7
    assert [(r["label"], r["count"]) for r in alerts["by_severity"]] == [
        ("Critical", 3),
        ("Warning", 2),
        ("Info", 1),
        ("(not set)", 1),
    ]
    assert [(r["key"], r["count"]) for r in alerts["by_source"]] == [
        ("alertmanager", 4),
        ("datadog", 1),
        ("generic", 1),
        ("grafana", 1),
    ]
    assert alerts["by_source"][0]["label"] == "Prometheus Alertmanager"
    assert [(r["label"], r["count"]) for r in alerts["by_cluster"]] == [
        ("prod", 5),
        ("(not set)", 1),
        ("staging", 1),
    ]
    assert [(r["label"], r["count"]) for r in alerts["by_namespace"]] == [
        ("shop", 4),
        ("search", 2),
        ("(not set)", 1),
    ]
    by_day = {d["day"]: (d["total"], d["by_severity"]) for d in alerts["by_day"]}
    assert len(by_day) == 7 and min(by_day) == today() - timedelta(days=6) and max(by_day) == today()
    assert by_day[today() - timedelta(days=1)] == (3, {"critical": 2, "warning": 1, "info": 0, "unset": 0})
    assert by_day[today() - timedelta(days=3)] == (2, {"critical": 1, "warning": 0, "info": 1, "unset": 0})
    assert by_day[today() - timedelta(days=5)] == (2, {"critical": 0, "warning": 1, "info": 0, "unset": 1})
    assert sum(total for total, _ in by_day.values()) == 7


def test_insights_investigation_figures(org, known_data):
    with schema_context(org.schema):
        inv = insights_for(period_last(7, today()))["investigations"]
    assert (inv["total"], inv["completed"], inv["failed"], inv["in_progress"]) == (6, 4, 1, 1)
    assert inv["completion_rate"] == pytest.approx(0.8)  # 4 completed / 5 finished
    assert (inv["median_seconds"], inv["timed"]) == (240, 3)  # median of 240, 120, 600
    assert [(r["key"], r["label"], r["count"]) for r in inv["categories"]] == [
        ("oom-killed", "Out of memory (OOMKilled)", 2),
        ("service-selector-mismatch", "Service selects no pods", 1),
        ("unknown", "Undetermined: the evidence does not support a conclusion", 1),
    ]
    feedback = inv["feedback"]
    assert [(r["key"], r["count"]) for r in feedback["ratings"]] == [
        ("accurate", 1),
        ("partial", 2),
        ("needs_improvement", 1),
    ]
    assert feedback["total"] == 4
    assert feedback["accuracy"] == pytest.approx(0.5)  # (1 + 0.5 + 0.5 + 0) / 4
    assert (feedback["responded"], feedback["response_rate"]) == (3, pytest.approx(0.75))  # 3 of 4 completed
    assert inv["tokens"] == {"investigations": 1500, "chat": 200, "total": 1700}
    assert inv["cost"] == {
        "investigations": Decimal("0.0150"),
        "chat": Decimal("0.002"),
        "total": Decimal("0.017"),
    }
    assert inv["time_saved"] == {"minutes_each": 30, "minutes": 120}


def test_insights_thirty_days_include_older_data(org, known_data):
    with schema_context(org.schema):
        data = insights_for(period_last(30, today()), minutes_saved=45)
    inv = data["investigations"]
    assert data["alerts"]["total"] == 8 and len(data["alerts"]["by_day"]) == 30
    assert (inv["total"], inv["completed"]) == (7, 5)
    assert inv["completion_rate"] == pytest.approx(5 / 6)
    assert inv["median_seconds"] == 180  # median of 60, 120, 240, 600
    assert ("app-crash", 1) in [(r["key"], r["count"]) for r in inv["categories"]]
    assert inv["feedback"]["accuracy"] == pytest.approx(3 / 5)
    assert inv["time_saved"] == {"minutes_each": 45, "minutes": 225}


def test_insights_custom_range_is_inclusive(org, known_data):
    first, last = today() - timedelta(days=3), today() - timedelta(days=1)
    period, error = period_from_params({"from": first.isoformat(), "to": last.isoformat()}, today())
    assert error == "" and (period.first_day, period.last_day, period.preset) == (first, last, None)
    with schema_context(org.schema):
        data = insights_for(period)
    assert data["alerts"]["total"] == 5
    assert (data["investigations"]["total"], data["investigations"]["completed"]) == (5, 3)


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"from": "2026-13-01"}, "Dates must look like 2026-01-31."),
        ({"from": "2026-02-01", "to": "2026-01-01"}, "The end date is before the start date."),
        ({"to": "2026-01-01"}, "Choose a start date."),
        ({"from": "2020-01-01", "to": "2026-01-01"}, "Choose at most 366 days."),
        ({"period": "12"}, ""),
    ],
)
def test_insights_period_params_fall_back_to_30_days(params, error):
    period, message = period_from_params(params, date(2026, 3, 31))
    assert message == error
    assert (period.first_day, period.last_day, period.preset) == (date(2026, 3, 2), date(2026, 3, 31), 30)


def test_insights_other_org_sees_only_its_own(other_org, known_data):
    with schema_context(other_org.schema):
        data = insights_for(period_last(90, today()))
    inv = data["investigations"]
    assert data["alerts"]["total"] == 1
    assert [r["label"] for r in data["alerts"]["by_cluster"]] == ["beta-cluster"]
    assert (inv["total"], inv["completed"], inv["median_seconds"]) == (1, 1, 9000)
    assert inv["tokens"]["total"] == 99999
    assert inv["feedback"]["total"] == 1 and inv["feedback"]["accuracy"] == 0


# -- the page ----------------------------------------------------------------------------------------


def _figure(body: str, name: str) -> str:
    marker = f'data-figure="{name}">'
    start = body.index(marker) + len(marker)
    return body[start : body.index("<", start)]


def test_insights_page_shows_every_figure_and_formula(org, known_data, make_member, client_for):
    viewer = make_member(org, "viewer")
    response = client_for(viewer, org).get("/insights/?period=7")
    body = response.content.decode()
    assert response.status_code == 200
    figures = {
        name: _figure(body, name)
        for name in (
            "alerts",
            "investigations",
            "completion_rate",
            "median_time",
            "accuracy",
            "response_rate",
            "tokens",
            "cost",
            "time_saved",
        )
    }
    assert figures == {
        "alerts": "7",
        "investigations": "6",
        "completion_rate": "80%",
        "median_time": "4 min",
        "accuracy": "50%",
        "response_rate": "75%",
        "tokens": "1,700",
        "cost": "$0.02",
        "time_saved": "2 h",
    }
    assert "Accurate = 1, Partially accurate = 0.5, Needs improvement = 0" in body
    assert "each completed investigation saves an engineer 30 minutes" in body
    assert 'aria-label="Alerts per day, stacked by severity"' in body
    assert 'data-chart="namespace"' in body and "Out of memory (OOMKilled)" in body
    assert "beta-cluster" not in body and "node-problem" not in body


def test_insights_page_minutes_assumption_is_configurable(org, known_data, client_for):
    body = client_for(org.owner, org).get("/insights/?period=7&minutes=45").content.decode()
    assert _figure(body, "time_saved") == "3 h"
    assert "saves an engineer 45 minutes" in body and "(default 30;" in body


def test_insights_page_empty_state(org, client_for):
    body = client_for(org.owner, org).get("/insights/").content.decode()
    assert "No alerts in this period" in body
    assert "No investigation completed in this period" in body
    assert "No feedback in this period" in body
    assert _figure(body, "completion_rate") == "\u2013"


def test_insights_page_refuses_non_members(org, other_org, client_for):
    assert client_for(other_org.owner, org).get("/insights/").status_code == 403
    assert client_for(None, org).get("/insights/").status_code == 302


def test_insights_page_escapes_alert_labels(org, client_for):
    with schema_context(org.schema):
        signal(1, "critical", "generic", "<b>prod</b>", "<script>alert(1)</script>")
    body = client_for(org.owner, org).get("/insights/?period=7").content.decode()
    assert "<script>alert(1)" not in body and "<b>prod</b>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body and "&lt;b&gt;prod&lt;/b&gt;" in body


def test_insights_count_the_newer_categories_with_their_wording(org, other_org):
    newer = {
        "volume-full": "Volume or ephemeral storage full",
        "network-policy-blocked": "NetworkPolicy blocks the traffic",
        "dns-resolution-failed": "Cluster DNS does not resolve",
        "certificate-invalid": "TLS certificate expired or invalid",
        "admission-denied": "Admission policy rejects the pods",
    }
    with schema_context(org.schema):
        for days_ago, category in enumerate(newer, start=1):
            investigation(days_ago, "completed", seconds=60, category=category)
        investigation(1, "completed", seconds=60, category="network-policy-blocked")
    with schema_context(other_org.schema):
        investigation(1, "completed", seconds=60, category="admission-denied")

    with schema_context(org.schema):
        rows = insights_for(period_last(7, today()))["investigations"]["categories"]
    with schema_context(other_org.schema):
        other = insights_for(period_last(7, today()))["investigations"]["categories"]

    assert {(r["key"], r["label"], r["count"]) for r in rows} == {
        (key, label, 2 if key == "network-policy-blocked" else 1) for key, label in newer.items()
    }
    assert [(r["key"], r["count"]) for r in other] == [("admission-denied", 1)]
