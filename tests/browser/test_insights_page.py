"""Acceptance 5 (insights): real Chromium renders the dashboard over a month of seeded data, every
headline figure is on the page, nothing overflows, and the screenshot lands in docs/screenshots/
(with OPSWORKER_REFRESH_SCREENSHOTS=1)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from tests.browser.conftest import screenshot_path, sign_in
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.integration]

NAMESPACES = ("payments", "checkout", "search", "shop", "platform-ingress", "data-pipeline")
CLUSTERS = ("prod-eu-1", "prod-us-1", "staging")
SOURCES = ("alertmanager",) * 6 + ("grafana",) * 2 + ("datadog", "cloudwatch")
SEVERITIES = ("critical",) * 3 + ("warning",) * 5 + ("info",) * 2 + ("",)
CATEGORIES = (
    ("oom-killed", 7),
    ("app-crash", 6),
    ("missing-config-key", 4),
    ("image-pull-error", 3),
    ("dependency-unavailable", 3),
    ("service-selector-mismatch", 2),
    ("readiness-probe-misconfigured", 2),
    ("unknown", 1),
)
RATINGS = ("accurate",) * 6 + ("partial",) * 2 + ("needs_improvement",)


@pytest.fixture
def seeded_month(committed):
    """A month of an SRE team's alerts, investigations, feedback and chat in alpha (removed after)."""
    from alerts.models import Signal
    from investigations.feedback import InvestigationFeedback
    from investigations.models import ChatMessage, Investigation

    org = committed["alpha"]
    rng = random.Random(7)
    now = timezone.now()
    categories = [c for c, weight in CATEGORIES for _ in range(weight)]
    with schema_context(org.organization.schema_name):
        signals = []
        for day in range(29, -1, -1):
            for n in range(rng.randint(1, 7) + (6 if day in (3, 11, 12) else 0)):
                received = now - timedelta(days=day, hours=rng.randint(0, 20), minutes=rng.randint(0, 59))
                received = min(received, now - timedelta(minutes=5))
                signals.append(
                    Signal.objects.create(
                        source=rng.choice(SOURCES),
                        fingerprint=f"insights-{day}-{n}",
                        status="resolved",
                        alertname=rng.choice(("KubePodCrashLooping", "KubeMemoryHigh", "TargetDown")),
                        severity=rng.choice(SEVERITIES),
                        cluster=rng.choice(CLUSTERS),
                        namespace=rng.choice(NAMESPACES),
                        first_received_at=received,
                        last_received_at=received,
                        decision="investigate",
                    )
                )
        investigations = []
        for index, source in enumerate(rng.sample(signals, 38)):
            status = "failed" if index % 13 == 5 else "completed"
            if index == 0:
                status = "running"
            finished = source.first_received_at + timedelta(seconds=rng.randint(70, 420))
            investigations.append(
                Investigation.objects.create(
                    signal=source,
                    status=status,
                    created_at=source.first_received_at,
                    started_at=source.first_received_at + timedelta(seconds=2),
                    finished_at=None if status == "running" else finished,
                    root_cause_category=rng.choice(categories) if status == "completed" else "",
                    llm_tokens=rng.choice((0, 0, 5200, 7400, 9100)),
                    llm_cost=Decimal(rng.choice(("0", "0.021", "0.034"))),
                )
            )
        completed = [i for i in investigations if i.status == "completed"]
        for user_id, target in enumerate(completed[: int(len(completed) * 0.7)], start=1000):
            InvestigationFeedback.objects.create(
                investigation=target,
                user_id=user_id,
                email=f"sre{user_id}@alpha.test",
                rating=rng.choice(RATINGS),
            )
        ChatMessage.objects.create(
            investigation=completed[0],
            role="assistant",
            text="From the evidence.",
            tokens=1800,
            cost=Decimal("0.006"),
        )
    yield org
    with schema_context(org.organization.schema_name):
        Investigation.objects.filter(pk__in=[i.pk for i in investigations]).delete()
        Signal.objects.filter(pk__in=[s.pk for s in signals]).delete()
    from django.db import connections

    connections.close_all()


def test_insights_page_in_chromium(new_page, live_server_url, seeded_month):
    # (new_page first: it is torn down last and closes the connections the ORM used under Playwright)
    from investigations.insights import insights_for, period_last

    org = seeded_month
    with schema_context(org.organization.schema_name):
        expected = insights_for(period_last(30, datetime.now(UTC).date()))
    base = live_server_url.replace("127.0.0.1", org.domain)
    page = new_page()
    # *.localhost resolves to the loopback address in Chromium
    sign_in(page, base, org.owner.email, PASSWORD)
    page.goto(f"{base}/insights/?period=30")
    assert page.locator("h1").inner_text() == "Insights"
    assert page.locator('[data-kpi="alerts"] .kpi-value').inner_text() == str(expected["alerts"]["total"])
    inv = expected["investigations"]
    assert page.locator('[data-kpi="investigations"] .kpi-value').inner_text() == str(inv["total"])
    rate = f"{inv['completion_rate'] * 100:.0f}%"
    assert page.locator('[data-kpi="completion_rate"] .kpi-value').inner_text() == rate
    assert page.locator(".day-chart svg rect").count() >= 30
    assert page.locator('[data-chart="namespace"] .hbar').count() == 6
    # readable at a glance: nothing wider than the window, no KPI value cut off
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.evaluate(
        "[...document.querySelectorAll('.kpi-value')].every(e => e.scrollWidth <= e.clientWidth)"
    )
    page.screenshot(path=str(screenshot_path("insights.png")), full_page=True)
