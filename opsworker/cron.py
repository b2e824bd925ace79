"""The scheduler's periodic jobs (`python -m opsworker.scheduler`, which loads this module)."""

from django.conf import settings
from rq import cron

from alerts.tasks import alerts_retention_everywhere
from investigations.tasks import investigations_retention_everywhere, sweep_investigations_everywhere
from notifications.tasks import digests_due_everywhere
from opsworker.scheduler_heartbeat import beat
from tenants.audit import audit_prune_everywhere

# Record that the scheduler is alive.
cron.register(beat, queue_name="maintenance", interval=60, name="scheduler-heartbeat")
# Raw webhook bodies and resolved signals past their retention (organization setting or
# OPSWORKER_RAW_PAYLOAD_RETENTION_DAYS / OPSWORKER_SIGNAL_RETENTION_DAYS), every hour.
cron.register(alerts_retention_everywhere, queue_name="default", cron="17 * * * *", name="alerts-retention")
# Finished investigations past their retention (OPSWORKER_INVESTIGATION_RETENTION_DAYS), daily.
cron.register(
    investigations_retention_everywhere,
    queue_name="default",
    cron="29 3 * * *",
    name="investigation-retention",
)
# Pending investigations whose job was lost (e.g. Redis was down at commit or restarted empty) and
# running ones whose worker's lease lapsed, every OPSWORKER_INVESTIGATION_SWEEP_SECONDS (10 s): work
# lost during a Redis outage is queued again within ~20 s of Redis returning.
cron.register(
    sweep_investigations_everywhere,
    queue_name="maintenance",  # served first by workers: an investigations backlog cannot starve it
    interval=settings.INVESTIGATION_SWEEP_SECONDS,
    name="investigation-sweeper",
)
# Each organization's daily Slack digest, once its local time has passed (idempotent per local date).
cron.register(digests_due_everywhere, queue_name="default", cron="*/5 * * * *", name="slack-daily-digest")
# Audit events older than OPSWORKER_AUDIT_RETENTION_DAYS, daily.
cron.register(audit_prune_everywhere, queue_name="default", cron="43 3 * * *", name="audit-retention")
