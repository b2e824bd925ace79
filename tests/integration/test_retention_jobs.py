"""Retention through the scheduler's entry points and a real `rqworker`: each organization's job
runs in its own schema with its own settings, and a suspended organization's data is left alone."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from alerts.models import Signal
from alerts.tasks import alerts_retention_everywhere
from investigations.models import Investigation
from investigations.tasks import investigations_retention_everywhere
from tenants.org_settings import settings_for

pytestmark = pytest.mark.integration


def _old_signal(name: str) -> int:
    when = timezone.now() - timedelta(days=10)
    return Signal.objects.create(
        source="generic",
        fingerprint=uuid.uuid4().hex,
        status="resolved",
        alertname=name,
        first_received_at=when,
        last_received_at=when,
    ).pk


def test_retention_jobs_run_per_organization_with_its_own_settings(committed, run_worker, clean_queues):
    alpha, beta = committed["alpha"], committed["beta"]
    row = settings_for(alpha.organization)
    before = (row.signal_retention_days, row.investigation_retention_days)
    row.signal_retention_days, row.investigation_retention_days = 7, 7
    row.save()
    created: dict[str, tuple[int, int]] = {}
    try:
        for fixture in (alpha, beta):
            with schema_context(fixture.schema):
                investigation = Investigation.objects.create(
                    status="completed", created_at=timezone.now() - timedelta(days=10)
                )
                created[fixture.schema] = (_old_signal("TenDaysOld"), investigation.pk)

        assert alerts_retention_everywhere() >= 2
        assert investigations_retention_everywhere() >= 2
        worker = run_worker(queues=("default",))
        assert worker.returncode == 0, worker.stderr[-2000:]

        alpha_signal, alpha_investigation = created[alpha.schema]
        beta_signal, beta_investigation = created[beta.schema]
        with schema_context(alpha.schema):
            assert not Signal.objects.filter(pk=alpha_signal).exists()
            assert not Investigation.objects.filter(pk=alpha_investigation).exists()
        # Beta keeps the installation defaults (180 and 365 days): its ten-day-old rows stay.
        with schema_context(beta.schema):
            assert Signal.objects.filter(pk=beta_signal).exists()
            assert Investigation.objects.filter(pk=beta_investigation).exists()
    finally:
        row.signal_retention_days, row.investigation_retention_days = before
        row.save()
        for schema, (signal_pk, investigation_pk) in created.items():
            with schema_context(schema):
                Investigation.objects.filter(pk=investigation_pk).delete()
                Signal.objects.filter(pk=signal_pk).delete()
