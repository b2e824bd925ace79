"""RQ jobs of notifications (queue `notifications`); each takes the schema name first.

A failure is recorded on the delivery rows and never touches the investigation. Transient failures
raise `RetryLater` so RQ retries with backoff (`services.RETRY`); a rate limit longer than the
inline wait is rescheduled for exactly Slack's `Retry-After`.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from investigations.models import Investigation
from notifications import services
from notifications.digest import digest_send, digests_due
from tenants.jobs import tenant_job

logger = logging.getLogger(__name__)


def _finish(outcome: services.SendOutcome, reschedule: str, schema: str, *args) -> dict:
    if outcome.retrying:
        if outcome.retry_after is not None:
            # Slack said when: come back then, not at RQ's next fixed interval.
            services.enqueue_after_commit(
                reschedule, schema, *args, delay=timedelta(seconds=outcome.retry_after)
            )
            return {"rescheduled_in": outcome.retry_after, "sent": outcome.sent}
        raise services.RetryLater(f"{outcome.retrying} Slack deliveries will be retried")
    return {"sent": outcome.sent, "failed": outcome.failed, "skipped": outcome.skipped}


@tenant_job
def send_investigation_notifications(schema_name: str, investigation_id: int) -> dict:
    outcome = services.investigation_notifications_send(schema=schema_name, investigation_id=investigation_id)
    return _finish(
        outcome, "notifications.tasks.send_investigation_notifications", schema_name, investigation_id
    )


@tenant_job
def update_resolved_messages(schema_name: str, *signal_ids: int) -> dict:
    ids = list(Investigation.objects.filter(signal_id__in=signal_ids).values_list("pk", flat=True))
    total = services.SendOutcome()
    for investigation_id in ids:
        outcome = services.messages_refresh(
            schema=schema_name, investigation_id=investigation_id, resolved=True
        )
        total.sent += outcome.sent
        total.failed += outcome.failed
        total.retrying += outcome.retrying
    if total.retrying:
        raise services.RetryLater(f"{total.retrying} Slack updates will be retried")
    return {"updated": total.sent, "failed": total.failed}


@tenant_job
def refresh_investigation_messages(schema_name: str, investigation_id: int) -> dict:
    """After a feedback click: show the new counts on every posted copy of the message."""
    outcome = services.messages_refresh(schema=schema_name, investigation_id=investigation_id)
    if outcome.retrying:
        raise services.RetryLater("Slack update will be retried")
    return {"updated": outcome.sent}


@tenant_job
def send_digest(schema_name: str, end_iso: str, digest_date_iso: str) -> dict:
    delivery = digest_send(
        schema=schema_name,
        end=datetime.fromisoformat(end_iso),
        digest_date=datetime.fromisoformat(digest_date_iso).date(),
    )
    if delivery.status == "retrying":
        raise services.RetryLater("digest will be retried")
    return {"status": delivery.status, "channel": delivery.channel}


def digests_due_everywhere(now: datetime | None = None) -> int:
    """Scheduler entry point (every 5 minutes): send each organization's digest once its slot passed."""
    return digests_due(now=now)
