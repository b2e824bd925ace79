"""Running one investigation inside its organization's schema: the job body.

Takes the investigation (idempotently: a second worker finds it already running), picks the
cluster, runs the pipeline through the cluster's agent, records every step as it starts and ends,
publishes progress live, and stores the result, or the failure with what was collected.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone

from alerts.models import Signal
from alerts.selectors import signals_of_group
from clusters.models import Cluster
from investigations.cluster_reader import agent_reader, reader_errors
from investigations.engine.pipeline import InvestigationFailed, Pipeline, StepRecord
from investigations.extensions import investigation_finished
from investigations.llm.extraction import extract_with_model
from investigations.llm.prompts import build_evidence_payload
from investigations.llm.stage import model_stage
from investigations.models import Investigation, InvestigationStatus, InvestigationStep
from investigations.presentation import render_list_row, render_live_update
from tenants.jobs import current_schema
from tenants.realtime import object_group, org_group, publish_html

logger = logging.getLogger(__name__)


def _claim(investigation_id: int) -> Investigation | None:
    """Take a pending investigation: running, one more attempt, leased to this worker."""
    with transaction.atomic():
        investigation = (
            Investigation.objects.select_for_update(skip_locked=True).filter(pk=investigation_id).first()
        )
        if investigation is None or investigation.status != InvestigationStatus.PENDING:
            return None
        now = timezone.now()
        investigation.status = InvestigationStatus.RUNNING
        investigation.started_at = now
        investigation.attempts += 1
        investigation.lease_expires_at = now + timedelta(seconds=settings.INVESTIGATION_LEASE_SECONDS)
        investigation.save(update_fields=["status", "started_at", "attempts", "lease_expires_at"])
    publish_investigation(investigation)
    return investigation


class Lease:
    """Keeps renewing a running investigation's lease from a thread while this worker runs it.

    The thread has its own database connection (Django's are per thread) and enters the schema
    itself. If a renewal finds the investigation no longer ours (the sweeper handed it to another
    worker after our lease lapsed), `lost` is set and this run's result is not saved.
    """

    def __init__(self, investigation: Investigation) -> None:
        self.schema = current_schema()
        self.pk = investigation.pk
        self.attempt = investigation.attempts
        self.lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{self.pk}", daemon=True)

    def __enter__(self) -> Lease:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def ours(self):
        return Investigation.objects.filter(
            pk=self.pk, status=InvestigationStatus.RUNNING, attempts=self.attempt
        )

    def _run(self) -> None:
        from django.db import connection
        from django_tenants.utils import schema_context

        try:
            while not self._stop.wait(settings.INVESTIGATION_LEASE_RENEW_SECONDS):
                expires = timezone.now() + timedelta(seconds=settings.INVESTIGATION_LEASE_SECONDS)
                try:
                    with schema_context(self.schema):
                        renewed = self.ours().update(lease_expires_at=expires)
                except DatabaseError as error:  # the next renewal may succeed; the lease is 3 renewals long
                    logger.warning(
                        "investigations.lease.renew_failed",
                        extra={"schema": self.schema, "investigation": self.pk, "error": str(error)[:300]},
                    )
                    continue
                if not renewed:
                    self.lost = True
                    logger.warning(
                        "investigations.lease.lost",
                        extra={"schema": self.schema, "investigation": self.pk, "attempt": self.attempt},
                    )
                    return
        finally:
            connection.close()


def choose_cluster(investigation: Investigation) -> Cluster | None:
    if investigation.cluster:
        return Cluster.objects.filter(name=investigation.cluster).first()
    clusters = list(Cluster.objects.all()[:2])
    return clusters[0] if len(clusters) == 1 else None


def signal_fields(signal: Signal) -> dict:
    """One signal as the engine reads an alert (investigations.engine.target)."""
    return {
        "source": signal.source,
        "status": signal.status,
        "alertname": signal.alertname,
        "labels": signal.labels,
        "annotations": signal.annotations,
        "summary": signal.summary,
        "description": signal.description,
        "cluster": signal.cluster,
        "namespace": signal.namespace,
        "pod": signal.pod,
        "container": signal.container,
        "workload": signal.workload,
        "workload_kind": signal.workload_kind,
        "node": signal.node,
        "extraction": signal.extraction,
        "starts_at": signal.starts_at.isoformat() if signal.starts_at else None,
    }


def alert_fields(investigation: Investigation) -> dict:
    """What the pipeline's extract stage reads: the signal's fields and the other alerts delivered with
    it (`group`), or the investigation's explicit target."""
    signal = investigation.signal
    if signal is not None:
        fields = signal_fields(signal)
        fields["group"] = [signal_fields(other) for other in signals_of_group(signal)]
    else:
        fields = {"labels": {}, "namespace": investigation.namespace, "cluster": investigation.cluster}
    # An explicit target (from scratch, or a re-run) wins over what the alert text suggests.
    if investigation.resource_kind and investigation.resource_name and signal is None:
        label = {
            "Pod": "pod",
            "Deployment": "deployment",
            "StatefulSet": "statefulset",
            "DaemonSet": "daemonset",
            "Job": "job_name",
            "CronJob": "cronjob",
            "Service": "service",
            "Ingress": "ingress",
            "Node": "node",
            "HorizontalPodAutoscaler": "horizontalpodautoscaler",
            "PersistentVolumeClaim": "persistentvolumeclaim",
        }.get(investigation.resource_kind)
        if label:
            fields["labels"] = {**fields.get("labels", {}), label: investigation.resource_name}
    if investigation.namespace:
        fields["namespace"] = investigation.namespace
    return fields


def run_investigation_now(investigation_id: int) -> Investigation | None:
    investigation = _claim(investigation_id)
    if investigation is None:
        return None
    cluster = choose_cluster(investigation)
    if cluster is None:
        return _fail(
            investigation,
            f"no cluster named {investigation.cluster!r} is connected to this organization"
            if investigation.cluster
            else "this organization has no single cluster to investigate in; "
            "add one under Clusters or name it in the rule",
        )

    def on_step(step: StepRecord) -> None:
        if lease.lost:
            # The sweeper handed this investigation to a newer attempt: stop, and never write
            # into its step log (the pipeline ends on InvestigationFailed; the result is dropped).
            raise InvestigationFailed("this run lost its lease to a newer attempt")
        InvestigationStep.objects.update_or_create(
            investigation=investigation,
            stage=step.stage,
            defaults={
                "status": step.status,
                "started_at": step.started_at,
                "finished_at": step.finished_at,
                "summary": step.summary[:5000],
                "detail": step.detail,
                "tokens": step.tokens,
            },
        )
        publish_investigation(investigation, step=step)

    read = agent_reader(cluster, wait_seconds=settings.INVESTIGATION_STEP_WAIT_SECONDS)
    fields = alert_fields(investigation)

    def model_hook(ctx, analysis, remaining_seconds: float):
        # Runs only when the organization configured a model and its daily budget allows it;
        # never raises: on any model problem the built-in analyzers' result stands, with the reason.

        return model_stage(
            evidence_payload=build_evidence_payload(ctx, fields),
            findings=analysis.findings,
            reader=read,
            today=timezone.now().date(),
            reader_errors=reader_errors(),
            deadline_seconds=remaining_seconds,
        )

    def extract_hook(alert_fields_: dict):
        return extract_with_model(alert_fields_, today=timezone.now().date())

    lease = Lease(investigation)
    pipeline = Pipeline(
        read,
        fields,
        extract_hook=extract_hook,
        deadline_seconds=settings.INVESTIGATION_DEADLINE_SECONDS,
        on_step=on_step,
        reader_errors=reader_errors(),
        model_hook=model_hook,
    )
    with lease:
        outcome = pipeline.run()
    investigation.result = outcome.result
    investigation.lease_expires_at = None
    investigation.finished_at = timezone.now()
    if outcome.failure:
        investigation.status = InvestigationStatus.FAILED
        investigation.failure_reason = outcome.failure[:500]
    else:
        cause = outcome.result["root_cause"]
        investigation.status = InvestigationStatus.COMPLETED
        investigation.partial = outcome.partial
        investigation.root_cause_category = cause["category"]
        investigation.confidence = cause["confidence"]
        investigation.summary = cause["summary"]
        llm = outcome.result.get("llm") or {}
        investigation.llm_tokens = int(llm.get("tokens") or 0)
        investigation.llm_cost = Decimal(str(llm.get("cost") or 0))
    with transaction.atomic():
        if lease.lost or not list(lease.ours().select_for_update().values_list("pk", flat=True)):
            logger.warning(
                "investigations.result_dropped",
                extra={"schema": lease.schema, "investigation": investigation.pk, "attempt": lease.attempt},
            )
            return None
        investigation.save()
    publish_investigation(investigation)
    investigation_finished(investigation)
    logger.info(
        "investigations.finished",
        extra={
            "investigation": investigation.pk,
            "status": investigation.status,
            "category": investigation.root_cause_category,
            "reason": investigation.failure_reason,
        },
    )
    return investigation


def _fail(investigation: Investigation, reason: str) -> Investigation:
    investigation.status = InvestigationStatus.FAILED
    investigation.failure_reason = reason[:500]
    investigation.finished_at = timezone.now()
    investigation.lease_expires_at = None
    investigation.save(update_fields=["status", "failure_reason", "finished_at", "lease_expires_at"])
    publish_investigation(investigation)
    investigation_finished(investigation)
    return investigation


def publish_investigation(investigation: Investigation, step: StepRecord | None = None) -> None:
    """Live update after commit: the page's changed sections to its group, the list row to the org's.

    Every fragment replaces an element by a stable id, so a socket that sees an event twice, or
    late after the catch-up it got on connect, ends up showing the same page.
    """
    schema = current_schema()
    publish_html(
        object_group(schema, "investigation", investigation.pk),
        render_live_update(investigation, stage=step.stage if step is not None else None),
    )
    if step is None:  # status changes: lists show a row per investigation
        publish_html(org_group(schema), render_list_row(investigation))
