"""Writes and Slack side effects of notifications: connection, hooks for the runner and ingest, sending."""

from __future__ import annotations

import dataclasses
import logging
from datetime import timedelta

import django_rq
from django.db import transaction
from django.utils import timezone
from rq import Retry

from investigations.feedback import feedback_for, feedback_summary
from investigations.models import Investigation, InvestigationStatus
from notifications import slack
from notifications.messages import investigation_message, test_message
from notifications.models import (
    DeliveryKind,
    DeliveryStatus,
    InstallMethod,
    SlackConnection,
    SlackDelivery,
)
from notifications.routing import settings_get, targets_for
from tenants.jobs import current_schema
from tenants.links import host_url
from tenants.models import Organization
from tenants.secret_box import decrypt, encrypt
from tenants.side_effects import after_commit_best_effort

logger = logging.getLogger(__name__)

QUEUE = "notifications"
MAX_ATTEMPTS = 5
# RQ's retry intervals for transient failures (network, Slack 5xx); long rate limits reschedule.
RETRY = Retry(max=4, interval=[10, 30, 120, 600])


class RetryLater(Exception):
    """Some deliveries failed transiently; the job is retried by RQ (the rows say why)."""


# --- connection ------------------------------------------------------------------------------


def connection_get() -> SlackConnection | None:
    return SlackConnection.objects.first()


def connection_token(connection: SlackConnection) -> str:
    return decrypt(connection.bot_token_encrypted)


def connection_save(
    *,
    token: str,
    team_id: str,
    team_name: str,
    bot_user_id: str,
    method: str,
    installed_by: str,
    app_id: str = "",
    scopes: str = "",
    signing_secret: str = "",
) -> SlackConnection:
    """Store (or replace) the organization's Slack installation; the token only encrypted."""
    with transaction.atomic():
        connection, _ = SlackConnection.objects.update_or_create(
            singleton=True,
            defaults={
                "team_id": team_id[:32],
                "team_name": team_name[:200],
                "bot_user_id": bot_user_id[:32],
                "app_id": app_id[:32],
                "scopes": scopes[:500],
                "bot_token_encrypted": encrypt(token),
                "signing_secret_encrypted": encrypt(signing_secret),
                "token_hint": slack.token_hint(token)[:12],
                "method": method,
                "installed_by": installed_by,
                "installed_at": timezone.now(),
            },
        )
    logger.info("notify.slack.connected", extra={"team": team_id, "method": method})
    return connection


def connection_from_pasted_token(
    *, token: str, installed_by: str, signing_secret: str = ""
) -> SlackConnection:
    """Validate a pasted bot token with auth.test, then store it. Raises SlackFailure.

    A pasted token usually belongs to the organization's own Slack app, whose button clicks are
    signed with that app's signing secret: it is stored (encrypted) to verify them.
    """
    token = token.strip()
    if not token.startswith("xoxb-"):
        raise slack.SlackFailure("not_a_bot_token", "paste the Bot User OAuth Token (it starts with xoxb-)")
    data = slack.call(slack.client(token).auth_test)
    return connection_save(
        token=token,
        team_id=data.get("team_id", ""),
        team_name=data.get("team", ""),
        bot_user_id=data.get("user_id", ""),
        method=InstallMethod.PASTED,
        installed_by=installed_by,
        app_id=data.get("app_id", "") or "",
        signing_secret=signing_secret.strip(),
    )


def connection_delete() -> None:
    SlackConnection.objects.all().delete()


# --- hooks for the runner and the ingest path ------------------------------------------------


def _queue():
    # Called from an on_commit hook already, so the queue itself must not defer again.
    return django_rq.get_queue(QUEUE, commit_mode="auto")


def enqueue_after_commit(func: str, schema: str, *args, delay: timedelta | None = None) -> None:
    """After commit, best effort: notifications never fail the write that caused them."""

    def send() -> None:
        queue = _queue()
        if delay:
            queue.enqueue_in(delay, func, schema, *args, retry=RETRY)
        else:
            queue.enqueue(func, schema, *args, retry=RETRY)

    after_commit_best_effort(
        send, event="notify.enqueue_failed", schema=schema, object_id=args[0] if args else None, job=func
    )


def notify_investigation_finished(investigation: Investigation) -> None:
    """After commit: post the result of a completed or failed investigation to its channels."""
    if investigation.status not in (InvestigationStatus.COMPLETED, InvestigationStatus.FAILED):
        return
    if not SlackConnection.objects.exists():
        return
    enqueue_after_commit(
        "notifications.tasks.send_investigation_notifications", current_schema(), investigation.pk
    )


def notify_signal_resolved(signal) -> None:
    """After commit: a resolved alert updates the messages already posted for its investigation."""
    notify_signals_resolved([signal])


def notify_signals_resolved(signals) -> None:
    """The same for a whole payload: one job for every resolved signal that has an investigation."""
    ids = [s.pk for s in signals if s.investigation_id and s.status == "resolved"]
    if not ids or not SlackConnection.objects.exists():
        return
    enqueue_after_commit("notifications.tasks.update_resolved_messages", current_schema(), *ids)


# --- sending ----------------------------------------------------------------------------------


def portal_url(schema: str) -> str:
    from django_tenants.utils import schema_context

    with schema_context("public"):
        organization = Organization.objects.filter(schema_name=schema).first()
        domain = organization.primary_domain if organization else ""
    return host_url(domain) if domain else ""


@dataclasses.dataclass
class SendOutcome:
    sent: int = 0
    failed: int = 0
    retrying: int = 0
    retry_after: float | None = None
    skipped: str = ""


def _feedback_counts(investigation: Investigation) -> dict[str, int]:
    return feedback_summary(feedback_for(investigation))


def _record_failure(delivery: SlackDelivery, failure: slack.SlackFailure, outcome: SendOutcome) -> None:
    final = failure.permanent or delivery.attempts >= MAX_ATTEMPTS
    delivery.status = DeliveryStatus.FAILED if final else DeliveryStatus.RETRYING
    delivery.last_error = str(failure)[:500]
    delivery.updated_at = timezone.now()
    delivery.save(update_fields=["status", "last_error", "attempts", "updated_at"])
    logger.warning(
        "notify.slack.delivery_failed",
        extra={"delivery": delivery.pk, "channel": delivery.channel, "error": failure.code, "final": final},
    )
    if final:
        outcome.failed += 1
    else:
        outcome.retrying += 1
        if failure.retry_after is not None:
            outcome.retry_after = max(outcome.retry_after or 0, failure.retry_after)


def investigation_notifications_send(*, schema: str, investigation_id: int) -> SendOutcome:
    """Post the investigation's message to each routed channel not yet sent; record every outcome."""
    connection = connection_get()
    if connection is None:
        return SendOutcome(skipped="slack not connected")
    investigation = (
        Investigation.objects.select_related("signal__matched_rule").filter(pk=investigation_id).first()
    )
    if investigation is None or investigation.status not in (
        InvestigationStatus.COMPLETED,
        InvestigationStatus.FAILED,
    ):
        return SendOutcome(skipped="not finished")
    targets = targets_for(investigation)
    if not targets:
        return SendOutcome(skipped="no channel configured")
    message = investigation_message(
        investigation,
        schema=schema,
        portal_url=portal_url(schema),
        feedback_counts=_feedback_counts(investigation),
    )
    web = slack.client(connection_token(connection))
    outcome = SendOutcome()
    for target in targets:
        delivery, _ = SlackDelivery.objects.get_or_create(
            kind=DeliveryKind.INVESTIGATION,
            investigation=investigation,
            channel=target.channel,
            defaults={"route": target.route},
        )
        if delivery.status in (DeliveryStatus.SENT, DeliveryStatus.FAILED):
            continue
        delivery.attempts += 1
        try:
            data = slack.call(
                web.chat_postMessage,
                channel=target.channel,
                text=message["text"],
                blocks=message["blocks"],
                unfurl_links=False,
                unfurl_media=False,
            )
        except slack.SlackFailure as failure:
            _record_failure(delivery, failure, outcome)
            continue
        now = timezone.now()
        delivery.status = DeliveryStatus.SENT
        delivery.channel_id = str(data.get("channel", ""))[:32]
        delivery.ts = str(data.get("ts", ""))[:32]
        delivery.last_error = ""
        delivery.sent_at = delivery.updated_at = now
        delivery.save(
            update_fields=["status", "channel_id", "ts", "last_error", "attempts", "sent_at", "updated_at"]
        )
        outcome.sent += 1
    return outcome


def messages_refresh(*, schema: str, investigation_id: int, resolved: bool = False) -> SendOutcome:
    """Re-render and `chat.update` every posted message of the investigation (resolved, feedback)."""
    connection = connection_get()
    investigation = (
        Investigation.objects.select_related("signal__matched_rule").filter(pk=investigation_id).first()
    )
    if connection is None or investigation is None:
        return SendOutcome(skipped="nothing to update")
    deliveries = list(
        investigation.slack_deliveries.filter(status=DeliveryStatus.SENT)
        .exclude(ts="")
        .exclude(channel_id="")
    )
    if not deliveries:
        return SendOutcome(skipped="no posted message")
    message = investigation_message(
        investigation,
        schema=schema,
        portal_url=portal_url(schema),
        feedback_counts=_feedback_counts(investigation),
    )
    web = slack.client(connection_token(connection))
    outcome = SendOutcome()
    for delivery in deliveries:
        try:
            slack.call(
                web.chat_update,
                channel=delivery.channel_id,
                ts=delivery.ts,
                text=message["text"],
                blocks=message["blocks"],
            )
        except slack.SlackFailure as failure:
            delivery.last_error = f"update: {failure}"[:500]
            delivery.save(update_fields=["last_error"])
            if failure.permanent:
                outcome.failed += 1
            else:
                outcome.retrying += 1
            continue
        if resolved:
            delivery.resolved_update_at = timezone.now()
            delivery.save(update_fields=["resolved_update_at"])
        outcome.sent += 1
    return outcome


def test_message_send(*, schema: str, organization_name: str, requested_by: str) -> SlackDelivery:
    """Post the test message to the default channel now; the row records the result."""
    connection = connection_get()
    settings = settings_get()
    channel = (settings.default_channel.split(",")[0] or "").strip()
    delivery = SlackDelivery(kind=DeliveryKind.TEST, channel=channel or "-", route="test", attempts=1)
    if connection is None:
        delivery.status, delivery.last_error = DeliveryStatus.FAILED, "Slack is not connected"
    elif not channel:
        delivery.status, delivery.last_error = DeliveryStatus.FAILED, "set a default channel first"
    else:
        message = test_message(organization_name, portal_url(schema))
        try:
            data = slack.call(
                slack.client(connection_token(connection)).chat_postMessage,
                max_rate_limit_waits=1,
                channel=channel,
                text=message["text"],
                blocks=message["blocks"],
            )
        except slack.SlackFailure as failure:
            delivery.status, delivery.last_error = DeliveryStatus.FAILED, str(failure)[:500]
        else:
            delivery.status = DeliveryStatus.SENT
            delivery.channel_id = str(data.get("channel", ""))[:32]
            delivery.ts = str(data.get("ts", ""))[:32]
            delivery.sent_at = timezone.now()
    delivery.save()
    logger.info("notify.slack.test", extra={"status": delivery.status, "by": requested_by})
    return delivery
