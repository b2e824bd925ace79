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


# --- investigations ---------------------------------------------------------------------------


def investigation_enqueue(investigation) -> None:
    """Queue the engine job for a pending investigation once the current transaction commits."""
    enqueue_in_tenant(
        "investigations", "investigations.tasks.run_investigation", current_schema(), investigation.pk
    )


def investigation_start(
    *,
    cluster: str,
    namespace: str,
    kind: str = "",
    name: str = "",
    signal=None,
    requested_by: str = "",
    trigger: str = "manual",
    rerun_of=None,
):
    """Create a pending investigation (from a signal's page, from scratch, or a re-run) and queue it."""
    from investigations.models import Investigation
    from tenants.quotas import INVESTIGATIONS_PER_DAY, quota_check_here

    quota_check_here(INVESTIGATIONS_PER_DAY)  # QuotaExceeded (a ValidationError) says which and why
    with transaction.atomic():
        investigation = Investigation.objects.create(
            signal=signal,
            trigger=trigger,
            cluster=cluster[:253],
            namespace=namespace[:253],
            resource_kind=kind[:40],
            resource_name=name[:253],
            requested_by=requested_by,
            rerun_of=rerun_of,
        )
        investigation_enqueue(investigation)
        from investigations.runner import publish_investigation

        publish_investigation(investigation)  # the list shows it (pending) before a worker takes it
    return investigation


def investigation_rerun(*, investigation, requested_by: str):
    return investigation_start(
        cluster=investigation.cluster,
        namespace=investigation.namespace,
        kind=investigation.resource_kind,
        name=investigation.resource_name,
        signal=investigation.signal,
        requested_by=requested_by,
        trigger="rerun",
        rerun_of=investigation,
    )


def investigations_sweep(
    *, pending_after_seconds: int = 120, running_after_seconds: int | None = None
) -> dict:
    """Re-queue pending investigations whose job was lost; fail running ones whose worker died."""
    from datetime import timedelta

    from django.conf import settings

    from investigations.models import Investigation, InvestigationStatus

    now = timezone.now()
    running_after_seconds = running_after_seconds or settings.INVESTIGATION_DEADLINE_SECONDS * 2
    stale = list(
        Investigation.objects.filter(
            status=InvestigationStatus.PENDING, created_at__lt=now - timedelta(seconds=pending_after_seconds)
        ).values_list("pk", flat=True)[:500]
    )
    for pk in stale:
        enqueue_in_tenant("investigations", "investigations.tasks.run_investigation", current_schema(), pk)
    dead = Investigation.objects.filter(
        status=InvestigationStatus.RUNNING, started_at__lt=now - timedelta(seconds=running_after_seconds)
    ).update(
        status=InvestigationStatus.FAILED,
        finished_at=now,
        failure_reason="the worker running this investigation stopped before finishing; re-run it",
    )
    if stale or dead:
        logger.info("investigations.sweep", extra={"requeued": len(stale), "failed": dead})
    return {"requeued": len(stale), "failed": dead}
