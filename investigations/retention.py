"""Retention of finished investigations, inside the current organization's schema.

Deleting an investigation deletes its steps, chat, feedback and Slack message records with it
(cascade); the signals that started it become deletable by the alerts retention afterwards.
Pending and running investigations are never deleted, whatever their age.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from investigations.models import Investigation, InvestigationStatus
from tenants.org_settings import retention_days_here

BATCH = 500  # investigations cascade into several tables; smaller batches keep each delete short


def investigations_prune(*, older_than_days: int | None = None, batch: int = BATCH) -> int:
    """Delete finished investigations created before the retention; returns how many were deleted."""
    days = older_than_days or retention_days_here("investigations", settings.INVESTIGATION_RETENTION_DAYS)
    cutoff = timezone.now() - timedelta(days=days)
    expired = Investigation.objects.filter(
        created_at__lt=cutoff, status__in=[InvestigationStatus.COMPLETED, InvestigationStatus.FAILED]
    )
    deleted = 0
    while True:
        ids = list(expired.values_list("pk", flat=True)[:batch])
        if not ids:
            return deleted
        Investigation.objects.filter(pk__in=ids).delete()
        deleted += len(ids)
