"""Retention of signals, raw payloads and investigations: what is deleted, what is always kept,
whose setting applies, and that another organization's data is never touched."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from alerts.models import RawPayload, Signal
from alerts.retention import signals_prune
from investigations.feedback import feedback_record
from investigations.models import ChatMessage, Investigation, InvestigationStep
from investigations.retention import investigations_prune
from tenants.org_settings import settings_for

pytestmark = pytest.mark.django_db


def _ago(days: float):
    return timezone.now() - timedelta(days=days)


def _signal(status: str, last_received_days_ago: float, name: str) -> Signal:
    when = _ago(last_received_days_ago)
    return Signal.objects.create(
        source="generic",
        fingerprint=uuid.uuid4().hex,
        status=status,
        alertname=name,
        first_received_at=when,
        last_received_at=when,
    )


def test_signal_retention_keeps_firing_recent_and_investigated_signals(org, other_org, settings):
    settings.SIGNAL_RETENTION_DAYS = 30
    with schema_context(org.schema):
        old_resolved = _signal("resolved", 31, "OldResolved")
        old_unknown = _signal("unknown", 40, "OldNoData")
        old_firing = _signal("firing", 90, "StillFiring")
        recent_resolved = _signal("resolved", 29, "Recent")
        investigated = _signal("resolved", 60, "Investigated")
        Investigation.objects.create(signal=investigated, status="completed")
    with schema_context(other_org.schema):
        beta_old = _signal("resolved", 31, "BetaOld")

    with schema_context(org.schema):
        assert signals_prune() == 2
        left = set(Signal.objects.values_list("pk", flat=True))
    assert old_resolved.pk not in left and old_unknown.pk not in left
    assert {old_firing.pk, recent_resolved.pk, investigated.pk} <= left
    with schema_context(other_org.schema):
        assert Signal.objects.filter(pk=beta_old.pk).exists()  # pruning alpha never touches beta


def test_signal_retention_uses_the_organizations_own_setting(org, other_org, settings):
    settings.SIGNAL_RETENTION_DAYS = 180
    row = settings_for(org.organization)
    row.signal_retention_days = 7
    row.save()
    with schema_context(org.schema):
        alpha_old = _signal("resolved", 8, "AlphaWeekOld")
    with schema_context(other_org.schema):
        beta_old = _signal("resolved", 8, "BetaWeekOld")

    with schema_context(org.schema):
        assert signals_prune() == 1
        assert not Signal.objects.filter(pk=alpha_old.pk).exists()
    with schema_context(other_org.schema):
        assert signals_prune() == 0  # beta keeps the installation default of 180 days
        assert Signal.objects.filter(pk=beta_old.pk).exists()


def test_raw_payloads_of_a_pruned_signal_follow_their_own_retention(org, settings):
    settings.SIGNAL_RETENTION_DAYS = 30
    settings.RAW_PAYLOAD_RETENTION_DAYS = 60
    with schema_context(org.schema):
        payload = RawPayload.objects.create(source="generic", method="POST", body="{}", size_bytes=2)
        signal = _signal("resolved", 31, "Old")
        signal.first_payload = payload
        signal.save(update_fields=["first_payload"])
        assert signals_prune() == 1
        # The payload is not cascaded away with the signal (it has its own, here longer, retention).
        assert RawPayload.objects.filter(pk=payload.pk).exists()


def test_investigation_retention_deletes_finished_ones_with_their_records(org, other_org, settings):
    settings.INVESTIGATION_RETENTION_DAYS = 90
    with schema_context(org.schema):
        old_done = Investigation.objects.create(status="completed", created_at=_ago(91))
        old_failed = Investigation.objects.create(status="failed", created_at=_ago(200))
        old_running = Investigation.objects.create(status="running", created_at=_ago(200))
        old_pending = Investigation.objects.create(status="pending", created_at=_ago(200))
        recent = Investigation.objects.create(status="completed", created_at=_ago(89))
        InvestigationStep.objects.create(investigation=old_done, stage="collect", status="ok")
        feedback_record(old_done, user_id=org.owner.pk, email=org.owner.email, rating="accurate")
        ChatMessage.objects.create(investigation=old_done, role="user", text="why?")
        signal = _signal("firing", 0, "Started it")
        old_done.signal = signal
        old_done.save(update_fields=["signal"])
    with schema_context(other_org.schema):
        beta_old = Investigation.objects.create(status="completed", created_at=_ago(91))

    with schema_context(org.schema):
        assert investigations_prune() == 2
        left = set(Investigation.objects.values_list("pk", flat=True))
        assert left >= {old_running.pk, old_pending.pk, recent.pk}
        assert old_done.pk not in left and old_failed.pk not in left
        assert not InvestigationStep.objects.filter(investigation_id=old_done.pk).exists()
        assert not ChatMessage.objects.filter(investigation_id=old_done.pk).exists()
        assert Signal.objects.filter(pk=signal.pk).exists()  # the signal has its own retention
    with schema_context(other_org.schema):
        assert Investigation.objects.filter(pk=beta_old.pk).exists()


def test_investigation_retention_uses_the_organizations_own_setting(org, other_org, settings):
    settings.INVESTIGATION_RETENTION_DAYS = 365
    row = settings_for(org.organization)
    row.investigation_retention_days = 30
    row.save()
    with schema_context(org.schema):
        Investigation.objects.create(status="completed", created_at=_ago(31))
    with schema_context(other_org.schema):
        Investigation.objects.create(status="completed", created_at=_ago(31))
    with schema_context(org.schema):
        assert investigations_prune() == 1
    with schema_context(other_org.schema):
        assert investigations_prune() == 0
