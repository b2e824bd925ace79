"""Retention of raw webhook bodies (signals themselves are kept; they lose only their raw body)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from alerts.models import RawPayload


def raw_payloads_prune(*, older_than_days: int | None = None, batch: int = 5000) -> int:
    """Delete raw payloads older than the retention, in batches; returns how many were deleted."""
    days = older_than_days or _organization_retention_days() or settings.RAW_PAYLOAD_RETENTION_DAYS
    cutoff = timezone.now() - timedelta(days=days)
    deleted = 0
    while True:
        ids = list(RawPayload.objects.filter(received_at__lt=cutoff).values_list("pk", flat=True)[:batch])
        if not ids:
            return deleted
        deleted += RawPayload.objects.filter(pk__in=ids).delete()[0]


def _organization_retention_days() -> int | None:
    """The current organization's own setting (Settings → Organization), if it set one."""
    from tenants.org_settings import retention_days
    from tenants.quotas import organization_here

    organization = organization_here()
    return retention_days(organization, "raw_payloads") if organization is not None else None
