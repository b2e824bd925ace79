"""Writes of investigation-app data."""

from __future__ import annotations

import logging

from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from investigations.models import QUEUES, PipelineCheck
from tenants.jobs import current_schema, enqueue_in_tenant
from tenants.realtime import org_group, publish_html

logger = logging.getLogger(__name__)


def pipeline_check_start(*, requested_by: str) -> PipelineCheck:
    """Record a pipeline check and, once committed, enqueue one job on every queue."""
    schema = current_schema()
    with transaction.atomic():
        check = PipelineCheck.objects.create(requested_by=requested_by)
        for queue in QUEUES:
            enqueue_in_tenant(queue, "investigations.tasks.pipeline_check_report", schema, check.pk, queue)
    return check


def pipeline_check_record(*, check_id: int, queue: str, worker: str) -> PipelineCheck | None:
    """Called by the job inside the organization's schema: mark `queue` done and tell the browser."""
    with transaction.atomic():
        check = PipelineCheck.objects.select_for_update().filter(pk=check_id).first()
        if check is None:
            return None
        check.results[queue] = {"ran_at": timezone.now().isoformat(), "worker": worker}
        check.save(update_fields=["results"])
        publish_html(org_group(current_schema()), pipeline_check_fragment(check))
    return check


def pipeline_check_fragment(check: PipelineCheck) -> str:
    """The same partial the Settings page includes, marked for an out-of-band swap."""
    return render_to_string("investigations/partials/_pipeline_check.html", {"check": check, "oob": True})
