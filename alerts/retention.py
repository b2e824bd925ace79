"""Retention of raw webhook bodies and of resolved signals, inside the current organization's schema.

Each kind is kept for the organization's own setting (Settings → Organization) or else the
installation's default. Deletion goes in batches so one run never holds a long lock on a busy table.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from alerts.models import RawPayload, Signal, SignalStatus
from tenants.org_settings import retention_days_here


def raw_payloads_prune(*, older_than_days: int | None = None, batch: int = 5000) -> int:
    """Delete raw payloads older than the retention, in batches; returns how many were deleted.

    The signals stay; they only lose the raw body (their detail page says so)."""
    days = older_than_days or retention_days_here("raw_payloads", settings.RAW_PAYLOAD_RETENTION_DAYS)
    cutoff = timezone.now() - timedelta(days=days)
    return _delete_in_batches(RawPayload.objects.filter(received_at__lt=cutoff), batch)


def signals_prune(*, older_than_days: int | None = None, batch: int = 5000) -> int:
    """Delete resolved signals last received before the retention; returns how many were deleted.

    A firing signal is an open episode (a re-delivery must find it), and a signal that a kept
    investigation started from is that investigation's context: both are kept whatever their age.
    """
    days = older_than_days or retention_days_here("signals", settings.SIGNAL_RETENTION_DAYS)
    cutoff = timezone.now() - timedelta(days=days)
    expired = (
        Signal.objects.filter(last_received_at__lt=cutoff)
        .exclude(status=SignalStatus.FIRING)
        .filter(investigations__isnull=True)
    )
    return _delete_in_batches(expired, batch)


def _delete_in_batches(queryset, batch: int) -> int:
    model = queryset.model
    deleted = 0
    while True:
        ids = list(queryset.values_list("pk", flat=True)[:batch])
        if not ids:
            return deleted
        model.objects.filter(pk__in=ids).delete()
        deleted += len(ids)
