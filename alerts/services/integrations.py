"""Creating and changing integrations: URL tokens, extra authentication, enable/disable, and
confirming SNS subscriptions to CloudWatch integrations (from a job, with retries)."""

from __future__ import annotations

import dataclasses
import logging
import re
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from rq import Retry

from alerts import sns
from alerts.models import AuthKind, Integration, RawPayload, SnsSubscription, SnsSubscriptionStatus, Source
from tenants.jobs import current_schema, enqueue_in_tenant
from tenants.secret_box import digest, encrypt

logger = logging.getLogger(__name__)

_HEADER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,99}$")
# Headers a custom-auth header may not be: they carry other meanings through proxies.
_RESERVED_HEADERS = {"host", "content-type", "content-length", "cookie", "transfer-encoding", "connection"}


@dataclasses.dataclass(frozen=True)
class AuthConfig:
    """Extra authentication requested for an integration (all secrets in plain text, not stored)."""

    kind: str = AuthKind.NONE
    secret: str = ""  # bearer token, basic password, header value, or HMAC secret
    username: str = ""  # basic
    header: str = ""  # custom header name, or HMAC signature header
    timestamp_header: str = ""  # HMAC, optional

    def validate(self, source: str) -> None:
        if self.kind not in AuthKind.values:
            raise ValidationError(f"unknown authentication {self.kind!r}")
        if self.kind == AuthKind.NONE:
            return
        if len(self.secret) < 8:
            raise ValidationError("the authentication secret must be at least 8 characters")
        if self.kind == AuthKind.BASIC and (not self.username or ":" in self.username):
            raise ValidationError("basic authentication needs a user name without ':'")
        if self.kind in (AuthKind.HEADER, AuthKind.HMAC):
            for name in filter(None, (self.header, self.timestamp_header)):
                if not _HEADER_NAME.match(name) or name.lower() in _RESERVED_HEADERS:
                    raise ValidationError(f"{name!r} is not a usable header name")
            if self.kind == AuthKind.HEADER and not self.header:
                raise ValidationError("custom-header authentication needs the header's name")
        if source == Source.CLOUDWATCH and self.kind in (AuthKind.HMAC, AuthKind.HEADER, AuthKind.BEARER):
            raise ValidationError(
                "SNS can only add HTTP basic credentials (in the subscription URL); its messages are "
                "always verified by their signature"
            )


@dataclasses.dataclass(frozen=True)
class NewToken:
    integration: Integration
    token: str  # shown once


def _new_token() -> tuple[str, str, str]:
    token = secrets.token_urlsafe(32)  # 32 random bytes
    return token, digest(token), token[:6]


def integration_create(
    *,
    name: str,
    source: str,
    auth: AuthConfig | None = None,
    cluster_name: str = "",
    allow_raw_delivery: bool = False,
    created_by: str = "",
) -> NewToken:
    """Create an integration and return it with its URL token (the only time the token is known)."""
    if source not in Source.values:
        raise ValidationError(f"unknown source {source!r}; choose one of {', '.join(Source.values)}")
    if not name.strip():
        raise ValidationError("name must not be empty")
    auth = auth or AuthConfig()
    auth.validate(source)
    token, token_hash, hint = _new_token()
    integration = Integration(
        name=name.strip()[:120],
        source=source,
        cluster_name=cluster_name.strip(),
        token_hash=token_hash,
        token_hint=hint,
        allow_raw_delivery=allow_raw_delivery and source == Source.CLOUDWATCH,
        created_by=created_by,
    )
    _apply_auth(integration, auth)
    integration.save()
    logger.info("alerts.integration.created", extra={"integration": integration.pk, "source": source})
    return NewToken(integration, token)


def integration_set_auth(*, integration: Integration, auth: AuthConfig) -> Integration:
    auth.validate(integration.source)
    _apply_auth(integration, auth)
    integration.save(
        update_fields=[
            "auth_kind",
            "auth_username",
            "auth_header",
            "auth_timestamp_header",
            "auth_secret_digest",
            "auth_secret_encrypted",
        ]
    )
    return integration


def _apply_auth(integration: Integration, auth: AuthConfig) -> None:
    integration.auth_kind = auth.kind
    integration.auth_username = auth.username if auth.kind == AuthKind.BASIC else ""
    integration.auth_header = auth.header if auth.kind in (AuthKind.HEADER, AuthKind.HMAC) else ""
    if auth.kind == AuthKind.HMAC and not integration.auth_header:
        integration.auth_header = "X-Grafana-Alerting-Signature"
    integration.auth_timestamp_header = auth.timestamp_header if auth.kind == AuthKind.HMAC else ""
    # Compared-only secrets are stored as digests; the HMAC key must be readable to verify with it.
    integration.auth_secret_digest = (
        digest(auth.secret) if auth.kind in (AuthKind.BEARER, AuthKind.BASIC, AuthKind.HEADER) else ""
    )
    integration.auth_secret_encrypted = encrypt(auth.secret) if auth.kind == AuthKind.HMAC else ""


def integration_rotate_token(*, integration: Integration) -> NewToken:
    """Replace the URL token; the old URL stops working at once."""
    token, token_hash, hint = _new_token()
    integration.token_hash, integration.token_hint = token_hash, hint
    integration.token_rotated_at = timezone.now()
    integration.save(update_fields=["token_hash", "token_hint", "token_rotated_at"])
    logger.info("alerts.integration.token_rotated", extra={"integration": integration.pk})
    return NewToken(integration, token)


def integration_set_enabled(*, integration: Integration, enabled: bool) -> Integration:
    integration.enabled = enabled
    integration.save(update_fields=["enabled"])
    return integration


def integration_delete(*, integration: Integration) -> None:
    """Delete the integration; its signals and payloads stay (their integration becomes empty)."""
    with transaction.atomic():
        integration.delete()


# --- SNS subscription confirmation ------------------------------------------------------------


class SnsConfirmationPending(Exception):
    """The SNS host could not confirm yet (no answer, 5xx, 429); raised so RQ retries the job."""


def sns_subscription_request(
    *, integration: Integration, envelope: sns.SnsEnvelope, payload: RawPayload | None
) -> SnsSubscription:
    """Record a verified SubscriptionConfirmation and confirm it from a job after commit.

    One row per (integration, topic): a new confirmation for the same topic (SNS re-sends, or
    the topic was subscribed again) replaces the URL and starts over.
    """
    subscription, _created = SnsSubscription.objects.update_or_create(
        integration=integration,
        topic_arn=envelope.topic_arn[:256],
        defaults={
            "subscribe_url": envelope.subscribe_url or "",
            "message_id": envelope.message_id[:200],
            "payload": payload,
            "status": SnsSubscriptionStatus.WAITING,
            "attempts": 0,
            "last_error": "",
            "requested_at": timezone.now(),
            "confirmed_at": None,
        },
    )
    _enqueue_confirmation(subscription)
    return subscription


def sns_subscription_retry(*, integration: Integration) -> int:
    """Start confirming again every subscription of `integration` that failed, or whose job is
    evidently gone (waiting, with no attempt for longer than the longest retry delay: Redis was
    down when it was enqueued); how many.

    Other waiting ones are left alone: their job is still retrying on its schedule, and a second
    job on the same row would race it for the attempt counter.
    """
    quiet_since = timezone.now() - timedelta(seconds=max(settings.SNS_CONFIRM_RETRY_DELAYS, default=0) + 60)
    stale = Q(status=SnsSubscriptionStatus.WAITING) & (
        Q(last_attempt_at__lt=quiet_since) | Q(last_attempt_at__isnull=True, requested_at__lt=quiet_since)
    )
    waiting = list(integration.sns_subscriptions.filter(Q(status=SnsSubscriptionStatus.FAILED) | stale))
    for subscription in waiting:
        subscription.status, subscription.attempts, subscription.last_error = (
            SnsSubscriptionStatus.WAITING,
            0,
            "",
        )
        subscription.save(update_fields=["status", "attempts", "last_error"])
        _enqueue_confirmation(subscription)
    return len(waiting)


def _enqueue_confirmation(subscription: SnsSubscription) -> None:
    schema = current_schema()
    delays = list(settings.SNS_CONFIRM_RETRY_DELAYS)
    retry = Retry(max=len(delays), interval=delays) if delays else None

    # After commit and best effort (a Redis failure is logged as tenants.job.enqueue_failed); the
    # row stays "waiting" and the admin's retry button enqueues it again.
    enqueue_in_tenant(
        "default", "alerts.tasks.sns_subscription_confirm", schema, subscription.pk, retry=retry
    )


def sns_subscription_confirm_attempt(*, subscription_id: int) -> str:
    """One confirmation attempt (the job's body): the resulting status.

    Raises SnsConfirmationPending while a retryable failure has retries left, so RQ runs the
    job again after the next configured delay; the last attempt records `failed` instead.
    """
    subscription = SnsSubscription.objects.filter(pk=subscription_id).select_related("integration").first()
    if subscription is None or subscription.status == SnsSubscriptionStatus.CONFIRMED:
        return "gone" if subscription is None else subscription.status
    result = sns.confirm_subscribe_url(subscription.subscribe_url, endpoint=settings.SNS_ENDPOINT_URL)
    subscription.attempts += 1
    subscription.last_attempt_at = timezone.now()
    retry_left = subscription.attempts <= len(settings.SNS_CONFIRM_RETRY_DELAYS)
    if result.confirmed:
        subscription.status, subscription.last_error = SnsSubscriptionStatus.CONFIRMED, ""
        subscription.confirmed_at = subscription.last_attempt_at
    elif result.retryable and retry_left:
        subscription.status = SnsSubscriptionStatus.WAITING
        subscription.last_error = result.detail[:500]
    else:
        subscription.status, subscription.last_error = SnsSubscriptionStatus.FAILED, result.detail[:500]
    subscription.save(update_fields=["status", "attempts", "last_attempt_at", "last_error", "confirmed_at"])
    logger.info(
        "alerts.sns.confirm_attempt",
        extra={
            "integration": subscription.integration_id,
            "subscription": subscription.pk,
            "attempt": subscription.attempts,
            "outcome": subscription.status,
            "detail": result.detail[:200],
        },
    )
    if subscription.status == SnsSubscriptionStatus.WAITING:
        raise SnsConfirmationPending(f"attempt {subscription.attempts}: {result.detail}")
    return subscription.status
