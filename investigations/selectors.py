"""Reads of investigation-app data; callers are already inside the organization's schema."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db.models import Sum

from investigations.models import Investigation, PipelineCheck


def pipeline_checks_recent(limit: int = 5) -> list[PipelineCheck]:
    return list(PipelineCheck.objects.all()[:limit])


# Usage counters registered with tenants.quotas (investigations/apps.py): (organization, since) -> number.


def investigations_count_since(organization, since: datetime) -> int:
    return Investigation.objects.filter(created_at__gte=since).count()


def investigations_count(organization, since: datetime) -> int:
    return Investigation.objects.count()


def model_cost_since(organization, since: datetime) -> Decimal:
    total = Investigation.objects.filter(created_at__gte=since).aggregate(total=Sum("llm_cost"))["total"]
    return total or Decimal("0")
