"""The daily digest: what changed in the last 24 hours against the 24 hours before.

Computed from the organization's own rows: signals (alert episodes, pipeline self-alerts excluded)
received in the window, investigations finished in it, feedback given in it. "New" alert types had
no alert in the previous window; "rising" ones grew and at least doubled or grew by 3 or more. Accuracy
weights accurate 1, partially accurate 0.5, needs improvement 0.
"""

from __future__ import annotations

import dataclasses
import logging
import zoneinfo
from collections import Counter
from datetime import date, datetime, timedelta
from datetime import time as dtime

from django.db.models import Count, Q
from django.utils import timezone
from django_tenants.utils import schema_context

from alerts.models import Signal
from investigations.feedback import InvestigationFeedback
from investigations.models import Investigation, InvestigationStatus
from notifications import slack
from notifications.messages import escape
from notifications.models import (
    DeliveryKind,
    DeliveryStatus,
    NotificationSettings,
    SlackConnection,
    SlackDelivery,
)
from notifications.routing import settings_get, split_channels
from notifications.services import (
    MAX_ATTEMPTS,
    connection_get,
    connection_token,
    enqueue_after_commit,
    portal_url,
)
from tenants.models import Organization

logger = logging.getLogger(__name__)

WINDOW = timedelta(hours=24)
TOP = 8
WEIGHTS = {"accurate": 1.0, "partial": 0.5, "needs_improvement": 0.0}


@dataclasses.dataclass
class Row:
    name: str
    count: int
    previous: int

    @property
    def change(self) -> int:
        return self.count - self.previous

    @property
    def trend(self) -> str:
        if self.previous == 0 and self.count:
            return "new"
        if self.count > self.previous:
            return "up"
        if self.count < self.previous:
            return "down"
        return "same"


@dataclasses.dataclass
class Digest:
    start: datetime
    end: datetime
    total: int
    previous_total: int
    by_severity: list[Row]
    by_namespace: list[Row]
    new_types: list[Row]
    rising_types: list[Row]
    quiet_types: list[Row]
    investigations_completed: int
    investigations_failed: int
    previous_completed: int
    root_causes: list[tuple[str, int]]
    feedback_count: int
    accuracy: float | None
    previous_accuracy: float | None
    insights_url: str = ""

    @property
    def change(self) -> int:
        return self.total - self.previous_total

    @property
    def change_percent(self) -> int | None:
        if self.previous_total == 0:
            return None
        return round(100 * self.change / self.previous_total)

    @property
    def accuracy_percent(self) -> int | None:
        return None if self.accuracy is None else round(self.accuracy * 100)


def _rows(queryset, field: str, start: datetime) -> list[Row]:
    grouped = queryset.values(field).annotate(
        current=Count("pk", filter=Q(first_received_at__gte=start)),
        previous=Count("pk", filter=Q(first_received_at__lt=start)),
    )
    rows = [Row(item[field] or "(none)", item["current"], item["previous"]) for item in grouped]
    return sorted(rows, key=lambda r: (-r.count, -r.previous, r.name))


def is_rising(row: Row) -> bool:
    return (
        row.previous > 0 and row.count > row.previous and (row.count >= 2 * row.previous or row.change >= 3)
    )


def _accuracy(ratings: list[str]) -> float | None:
    scored = [WEIGHTS[r] for r in ratings if r in WEIGHTS]
    return sum(scored) / len(scored) if scored else None


def digest_compute(*, end: datetime, insights_url: str = "") -> Digest:
    """The digest of the 24 hours before `end` (run inside the organization's schema)."""
    start, previous_start = end - WINDOW, end - 2 * WINDOW
    signals = Signal.objects.filter(
        first_received_at__gte=previous_start, first_received_at__lt=end, pipeline=False
    )
    severity = _rows(signals, "severity", start)
    namespaces = [r for r in _rows(signals, "namespace", start) if r.count or r.previous]
    types = _rows(signals, "alertname", start)
    finished = Investigation.objects.filter(finished_at__gte=previous_start, finished_at__lt=end)
    completed_now = finished.filter(status=InvestigationStatus.COMPLETED, finished_at__gte=start)
    causes = Counter(
        completed_now.exclude(root_cause_category="").values_list("root_cause_category", flat=True)
    )
    feedback = InvestigationFeedback.objects.filter(updated_at__gte=previous_start, updated_at__lt=end)
    current_ratings = [r for r, at in feedback.values_list("rating", "updated_at") if at >= start]
    previous_ratings = [r for r, at in feedback.values_list("rating", "updated_at") if at < start]
    return Digest(
        start=start,
        end=end,
        total=sum(r.count for r in types),
        previous_total=sum(r.previous for r in types),
        by_severity=severity,
        by_namespace=namespaces[:TOP],
        new_types=[r for r in types if r.trend == "new"][:TOP],
        rising_types=[r for r in types if is_rising(r)][:TOP],
        quiet_types=[r for r in types if r.previous and not r.count][:TOP],
        investigations_completed=completed_now.count(),
        investigations_failed=finished.filter(
            status=InvestigationStatus.FAILED, finished_at__gte=start
        ).count(),
        previous_completed=finished.filter(
            status=InvestigationStatus.COMPLETED, finished_at__lt=start
        ).count(),
        root_causes=causes.most_common(5),
        feedback_count=len(current_ratings),
        accuracy=_accuracy(current_ratings),
        previous_accuracy=_accuracy(previous_ratings),
        insights_url=insights_url,
    )


def _signed(value: int) -> str:
    return f"+{value}" if value > 0 else str(value)


def _row_text(row: Row) -> str:
    return f"{escape(row.name, 120)}: {row.previous} → *{row.count}*"


def digest_message(digest: Digest, organization_name: str = "") -> dict:
    """Block Kit for the digest: changes first, then the breakdowns."""
    percent = f" ({_signed(digest.change_percent)}%)" if digest.change_percent is not None else ""
    headline = (
        f"*{digest.total}* alerts in the last 24 h, {_signed(digest.change)}{percent} vs the day before"
    )
    blocks: list[dict] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": f"Daily digest {organization_name}".strip()[:150]},
        },
        {"type": "section", "text": {"type": "mrkdwn", "text": headline}},
    ]
    changes = []
    if digest.new_types:
        changes.append("*New alert types*\n" + "\n".join(f"• {_row_text(r)}" for r in digest.new_types))
    if digest.rising_types:
        changes.append("*Rising*\n" + "\n".join(f"• {_row_text(r)}" for r in digest.rising_types))
    if digest.quiet_types:
        changes.append("*Gone quiet*\n" + "\n".join(f"• {_row_text(r)}" for r in digest.quiet_types))
    for text in changes or ["No new or rising alert types."]:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text[:2900]}})
    severity = " · ".join(f"{escape(r.name, 30)} {r.count} ({_signed(r.change)})" for r in digest.by_severity)
    namespaces = " · ".join(
        f"{escape(r.name, 60)} {r.count} ({_signed(r.change)})" for r in digest.by_namespace
    )
    fields = []
    if severity:
        fields.append(f"*By severity*\n{severity}")
    if namespaces:
        fields.append(f"*By namespace*\n{namespaces}")
    for text in fields:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text[:2900]}})
    investigations = (
        f"*Investigations:* {digest.investigations_completed} completed "
        f"({_signed(digest.investigations_completed - digest.previous_completed)}), "
        f"{digest.investigations_failed} failed"
    )
    if digest.root_causes:
        investigations += "\n*Top root causes:* " + ", ".join(
            f"`{escape(c, 60)}` {n}" for c, n in digest.root_causes
        )
    if digest.accuracy is not None:
        investigations += (
            f"\n*Feedback accuracy:* {digest.accuracy_percent}% of {digest.feedback_count} ratings"
        )
        if digest.previous_accuracy is not None:
            investigations += f" (was {round(digest.previous_accuracy * 100)}%)"
    blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": investigations}})
    if digest.insights_url:
        blocks.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": f"<{digest.insights_url}|Open insights>"}],
            }
        )
    return {"text": f"Daily digest: {digest.total} alerts ({_signed(digest.change)})", "blocks": blocks}


def local_zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def slot_for(settings: NotificationSettings, now: datetime) -> tuple[date, datetime]:
    """(local date, the digest's moment today in the organization's zone) for `now`."""
    zone = local_zone(settings.digest_timezone)
    local = now.astimezone(zone)
    slot = datetime.combine(local.date(), settings.digest_time or dtime(9, 0), tzinfo=zone)
    return local.date(), slot


def insights_url(schema: str) -> str:
    base = portal_url(schema)
    return f"{base}/insights/" if base else ""


def digest_send(*, schema: str, end: datetime, digest_date: date, manual: bool = False) -> SlackDelivery:
    """Compute the digest ending at `end` and post it to the digest channel; the row records it."""
    settings = settings_get()
    channels = split_channels(settings.effective_digest_channel)
    channel = channels[0] if channels else ""
    if manual:
        delivery = SlackDelivery(
            kind=DeliveryKind.DIGEST, digest_date=digest_date, channel=channel or "-", route="manual"
        )
    else:
        delivery, _ = SlackDelivery.objects.get_or_create(
            kind=DeliveryKind.DIGEST,
            digest_date=digest_date,
            route="digest",
            defaults={"channel": channel or "-"},
        )
        if delivery.status == DeliveryStatus.SENT:
            return delivery
    delivery.attempts += 1
    delivery.updated_at = timezone.now()
    connection = connection_get()
    if connection is None or not channel:
        delivery.status = DeliveryStatus.FAILED
        delivery.last_error = (
            "Slack is not connected" if connection is None else "no digest or default channel"
        )
        delivery.save()
        return delivery
    with schema_context("public"):
        organization = Organization.objects.filter(schema_name=schema).first()
    digest = digest_compute(end=end, insights_url=insights_url(schema))
    message = digest_message(digest, organization.name if organization else "")
    try:
        data = slack.call(
            slack.client(connection_token(connection)).chat_postMessage,
            channel=channel,
            text=message["text"],
            blocks=message["blocks"],
            unfurl_links=False,
        )
    except slack.SlackFailure as failure:
        final = manual or failure.permanent or delivery.attempts >= MAX_ATTEMPTS
        delivery.status = DeliveryStatus.FAILED if final else DeliveryStatus.RETRYING
        delivery.last_error = str(failure)[:500]
        delivery.save()
        logger.warning("notify.digest.failed", extra={"schema": schema, "error": failure.code})
        return delivery
    delivery.status = DeliveryStatus.SENT
    delivery.channel_id = str(data.get("channel", ""))[:32]
    delivery.ts = str(data.get("ts", ""))[:32]
    delivery.last_error = ""
    delivery.sent_at = timezone.now()
    delivery.save()
    return delivery


def digests_due(*, now: datetime | None = None) -> int:
    """Claim and enqueue today's digest for every organization whose local slot has passed."""
    now = now or timezone.now()
    with schema_context("public"):
        schemas = list(
            Organization.objects.filter(is_active=True)
            .exclude(schema_name="public")
            .values_list("schema_name", flat=True)
        )
    enqueued = 0
    for schema in schemas:
        with schema_context(schema):
            settings = NotificationSettings.objects.filter(singleton=True).first()
            if settings is None or not settings.digest_enabled or not settings.effective_digest_channel:
                continue
            if not SlackConnection.objects.exists():
                continue
            today, slot = slot_for(settings, now)
            if now < slot or settings.digest_last_sent_on == today:
                continue
            # The conditional update is the claim: two overlapping scheduler runs cannot both win.
            claimed = (
                NotificationSettings.objects.filter(pk=settings.pk)
                .exclude(digest_last_sent_on=today)
                .update(digest_last_sent_on=today)
            )
            if not claimed:
                continue
            enqueue_after_commit(
                "notifications.tasks.send_digest", schema, slot.isoformat(), today.isoformat()
            )
            enqueued += 1
    logger.info("notify.digest.due", extra={"enqueued": enqueued})
    return enqueued
