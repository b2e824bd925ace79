"""Reads of investigation-app data; callers are already inside the organization's schema."""

from __future__ import annotations

from investigations.models import PipelineCheck


def pipeline_checks_recent(limit: int = 5) -> list[PipelineCheck]:
    return list(PipelineCheck.objects.all()[:limit])
