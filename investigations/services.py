"""Writes of investigation-app data."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import Count
from django.template.loader import render_to_string
from django.utils import timezone

from alerts.handoff import InvestigationRequest
from alerts.models import Decision, Signal
from investigations.extensions import investigation_finished
from investigations.models import QUEUES, Investigation, InvestigationStatus, InvestigationStep, PipelineCheck
from investigations.runner import publish_investigation
from tenants.jobs import current_schema, enqueue_in_tenant
from tenants.quotas import INVESTIGATIONS_PER_DAY, organization_here, quota_check_here, quota_remaining
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


def investigation_job_id(schema: str, investigation_id: int, attempt: int) -> str:
    """The RQ job id of one attempt, so the sweeper can tell whether that job is still in Redis."""
    return f"investigation-{schema}-{investigation_id}-{attempt}"


def investigation_enqueue(investigation, *, at_front: bool = False) -> None:
    """Queue the engine job for a pending investigation once the current transaction commits.

    Best effort: with Redis down nothing is raised; the sweeper re-queues it when Redis is back.
    `at_front`: the sweeper's re-queues (a lost job, a lost worker's run) are older than anything
    waiting, so they go first instead of behind an alert storm's backlog.
    """
    _enqueue_attempt(current_schema(), investigation.pk, investigation.attempts, at_front=at_front)


def _enqueue_attempt(schema: str, investigation_id: int, attempts: int, *, at_front: bool) -> None:
    """Queue the job of the attempt after `attempts`, under the id the sweeper looks for."""
    enqueue_in_tenant(
        "investigations",
        "investigations.tasks.run_investigation",
        schema,
        investigation_id,
        job_id=investigation_job_id(schema, investigation_id, attempts + 1),
        at_front=at_front,
    )


def investigations_open_for_signals(requests: list[InvestigationRequest], now) -> list[Investigation]:
    """Open investigations for signals a rule decided to investigate (registered with alerts.handoff).

    Runs inside ingestion's transaction. The policy for rule-started investigations, in order: a
    repeat of the same alert and resource within the rule's dedup window is attached to the earlier
    investigation; the same alert twice in one delivery opens one; a rule's hourly cap and the
    organization's daily quota (`tenants.quotas`, as `investigation_start` checks it) turn the rest
    into `record` with the reason. Each opened one is queued after commit and shown on the list.
    """
    attach = _dedup_and_caps(requests, now)
    starting = [
        r for r in requests if r.signal.decision == Decision.INVESTIGATE and id(r.signal) not in attach
    ]
    # Pending until the engine picks them up; a sweeper finds pending ones whose job was lost.
    investigations = (
        Investigation.objects.bulk_create([_investigation_for(r) for r in starting]) if starting else []
    )
    for request, investigation in zip(starting, investigations, strict=True):
        request.signal.investigation = investigation
        investigation_enqueue(investigation)
        publish_investigation(investigation)  # the list shows it (pending) before a worker takes it
    for request in requests:
        if id(request.signal) in attach:
            request.signal.investigation_id = attach[id(request.signal)]
    Signal.objects.bulk_update([r.signal for r in requests], ["decision", "decision_reason", "investigation"])
    return investigations


def _dedup_and_caps(requests: list[InvestigationRequest], now) -> dict[int, int]:
    """Attach repeats to a recent investigation (dedup window) and hold rules to their hourly cap.

    Returns id(signal) -> investigation id for attached signals; capped ones become `record`.
    Two queries for the whole payload, whatever its size.
    """
    rules = list({r.rule.id: r.rule for r in requests if r.rule is not None}.values())
    widest = max((rule.dedup_window_minutes for rule in rules), default=0)
    recent: dict[tuple[str, str, str, str], list[tuple]] = {}
    if widest:
        rows = (
            Investigation.objects.filter(created_at__gte=now - timedelta(minutes=widest))
            .exclude(status="failed")
            .filter(namespace__in={r.signal.namespace for r in requests})
            .values_list(
                "pk", "created_at", "signal__alertname", "namespace", "resource_kind", "resource_name"
            )
        )
        for pk, created_at, alertname, namespace, kind, name in rows:
            recent.setdefault((alertname or "", namespace, kind, name), []).append((created_at, pk))
    capped_rules = [rule.id for rule in rules if rule.max_investigations_per_hour is not None]
    started: dict[int, int] = {}
    if capped_rules:
        counts = (
            Investigation.objects.filter(
                created_at__gte=now - timedelta(hours=1), signal__matched_rule_id__in=capped_rules
            )
            .values("signal__matched_rule_id")
            .annotate(n=Count("pk"))
        )
        started = {row["signal__matched_rule_id"]: row["n"] for row in counts}
    attach: dict[int, int] = {}
    batch_keys: dict[tuple, Signal] = {}
    organization = organization_here()
    remaining = quota_remaining(organization, INVESTIGATIONS_PER_DAY) if organization is not None else None
    for request in requests:
        signal, rule = request.signal, request.rule
        kind, name = _target(signal)
        key = (signal.alertname, signal.namespace, kind, name)
        if rule is not None and rule.dedup_window_minutes:
            window_start = now - timedelta(minutes=rule.dedup_window_minutes)
            earlier = [pk for created_at, pk in recent.get(key, []) if created_at >= window_start]
            if earlier:
                attach[id(signal)] = max(earlier)
                _reason(
                    signal,
                    f"{signal.decision_reason}; attached to investigation #{max(earlier)} "
                    f"(same alert and resource within {rule.dedup_window_minutes} min)",
                )
                continue
            if key in batch_keys:  # the same alert twice in one payload: one investigation
                _record_instead(
                    signal, f"{signal.decision_reason}; duplicate of another alert in this delivery"
                )
                continue
            batch_keys[key] = signal
        if rule is not None and rule.max_investigations_per_hour is not None:
            if started.get(rule.id, 0) >= rule.max_investigations_per_hour:
                _record_instead(
                    signal,
                    f"rule {rule.name!r} matched, but its cap of {rule.max_investigations_per_hour} "
                    "investigations per hour is reached (recorded instead)",
                )
                continue
            started[rule.id] = started.get(rule.id, 0) + 1
        if remaining is not None:
            if remaining <= 0:
                _record_instead(
                    signal, "the organization's daily investigation quota is reached (recorded instead)"
                )
                continue
            remaining -= 1
    return attach


def _reason(signal: Signal, reason: str) -> None:
    signal.decision_reason = reason[:300]


def _record_instead(signal: Signal, reason: str) -> None:
    signal.decision = Decision.RECORD
    _reason(signal, reason)


def _investigation_for(request: InvestigationRequest) -> Investigation:
    target_cluster = request.rule.target_cluster if request.rule is not None else ""
    return investigation_for_signal(request.signal, cluster=target_cluster or request.cluster)


def investigation_for_signal(
    signal: Signal, *, cluster: str, trigger: str = "rule", requested_by: str = ""
) -> Investigation:
    """The (unsaved) investigation of one signal, as a rule opens it.

    It records the signal's own resource; the runner reads the other alerts delivered with the
    signal (`alerts.selectors.signals_of_group`) when it looks for the target.
    """
    kind, name = _target(signal)
    return Investigation(
        signal=signal,
        trigger=trigger,
        cluster=cluster,
        namespace=signal.namespace,
        resource_kind=kind,
        resource_name=name,
        requested_by=requested_by,
    )


def _target(signal: Signal) -> tuple[str, str]:
    if signal.pod:
        return "Pod", signal.pod
    if signal.workload:
        return signal.workload_kind or "Deployment", signal.workload
    if signal.node:
        return "Node", signal.node
    return "", ""


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


RESUMED_STAGE = "resumed"


def investigations_sweep(*, now=None) -> dict:
    """Re-queue pending investigations whose job was lost; resume (once) running ones whose worker died.

    Pending for longer than `INVESTIGATION_REQUEUE_AFTER_SECONDS` and no job of theirs waiting in
    Redis (it was down at commit, or restarted empty): enqueued again. Running with a lapsed lease
    (the worker stopped renewing it): back to pending with a note in the step log, and enqueued,
    until `INVESTIGATION_MAX_ATTEMPTS` workers were lost; then failed with that reason.
    """
    from datetime import timedelta

    from django.conf import settings

    now = now or timezone.now()
    schema = current_schema()
    waiting = Investigation.objects.filter(
        status=InvestigationStatus.PENDING,
        created_at__lt=now - timedelta(seconds=settings.INVESTIGATION_REQUEUE_AFTER_SECONDS),
    ).values_list("pk", "attempts")[:500]
    requeued = [pk for pk, attempts in waiting if _requeue_unless_queued(schema, pk, attempts)]
    running = Investigation.objects.filter(status=InvestigationStatus.RUNNING)
    resumed, failed = [], []
    for pk in running.filter(lease_expires_at__lt=now).values_list("pk", flat=True)[:500]:
        outcome = _worker_lost(pk, now)
        if outcome == "resumed":
            resumed.append(pk)
        elif outcome == "failed":
            failed.append(pk)
    # Rows started before leases existed have none: the old rule (twice the deadline) fails them.
    failed += list(
        running.filter(
            lease_expires_at__isnull=True,
            started_at__lt=now - timedelta(seconds=settings.INVESTIGATION_DEADLINE_SECONDS * 2),
        ).values_list("pk", flat=True)[:500]
    )
    if failed:
        running.filter(pk__in=failed, lease_expires_at__isnull=True).update(
            status=InvestigationStatus.FAILED,
            finished_at=now,
            failure_reason="the worker running this investigation stopped before finishing; re-run it",
        )
    if requeued or resumed or failed:
        logger.info(
            "investigations.sweep",
            extra={"schema": schema, "requeued": requeued, "resumed": resumed, "failed": failed},
        )
    # A resumed investigation is re-queued too.
    return {"requeued": len(requeued) + len(resumed), "failed": len(failed)}


def _requeue_unless_queued(schema: str, investigation_id: int, attempts: int) -> bool:
    """Enqueue the next attempt's job unless it is still waiting or running in Redis."""
    import django_rq
    from rq.exceptions import NoSuchJobError
    from rq.job import Job, JobStatus

    job_id = investigation_job_id(schema, investigation_id, attempts + 1)
    connection = django_rq.get_connection("investigations")
    try:
        job = Job.fetch(job_id, connection=connection)
    except NoSuchJobError:
        job = None
    if job is not None:
        if job.get_status(refresh=False) in (
            JobStatus.QUEUED,
            JobStatus.STARTED,
            JobStatus.SCHEDULED,
            JobStatus.DEFERRED,
        ):
            return False
        job.delete()  # finished or failed without taking it (e.g. the database was down): run it again
    # Older than anything waiting: it goes first, not behind a backlog.
    _enqueue_attempt(schema, investigation_id, attempts, at_front=True)
    return True


def _worker_lost(investigation_id: int, now) -> str | None:
    """The lease of a running investigation lapsed: resume it once more, or fail it with the reason."""
    from django.conf import settings

    with transaction.atomic():
        investigation = (
            Investigation.objects.select_for_update(skip_locked=True)
            # The lapse is checked again under the lock: the worker may have renewed meanwhile.
            .filter(pk=investigation_id, status=InvestigationStatus.RUNNING, lease_expires_at__lt=now)
            .first()
        )
        if investigation is None:
            return None
        lapsed_at = investigation.lease_expires_at or investigation.started_at
        when = timezone.localtime(lapsed_at).strftime("%H:%M:%S %Z") if lapsed_at else "an unknown time"
        if investigation.attempts >= settings.INVESTIGATION_MAX_ATTEMPTS:
            investigation.status = InvestigationStatus.FAILED
            investigation.finished_at = now
            investigation.lease_expires_at = None
            investigation.failure_reason = (
                f"the worker running this investigation stopped before finishing "
                f"{investigation.attempts} time(s) (the last one stopped renewing its lease at {when}); "
                "it is not retried again: re-run it"
            )[:500]
            investigation.save(update_fields=["status", "finished_at", "lease_expires_at", "failure_reason"])
            outcome = "failed"
        else:
            investigation.status = InvestigationStatus.PENDING
            investigation.lease_expires_at = None
            investigation.save(update_fields=["status", "lease_expires_at"])
            InvestigationStep.objects.update_or_create(
                investigation=investigation,
                stage=RESUMED_STAGE,
                defaults={
                    "status": "ok",
                    "started_at": now,
                    "finished_at": now,
                    "summary": (
                        f"Resumed after a lost worker: the worker running attempt {investigation.attempts} "
                        f"stopped renewing its lease at {when}; started again from the beginning "
                        f"(attempt {investigation.attempts + 1} of {settings.INVESTIGATION_MAX_ATTEMPTS})."
                    ),
                    "detail": {"lost_attempt": investigation.attempts, "lease_lapsed_at": str(lapsed_at)},
                },
            )
            investigation_enqueue(investigation, at_front=True)
            outcome = "resumed"

        publish_investigation(investigation)
    if outcome == "failed":
        investigation_finished(investigation)
    return outcome
