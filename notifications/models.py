"""Tenant-schema models of Slack notifications."""

from __future__ import annotations

import datetime

from django.db import models
from django.db.models import Q
from django.utils import timezone


class InstallMethod(models.TextChoices):
    OAUTH = "oauth", "Add to Slack (OAuth)"
    PASTED = "pasted", "Pasted bot token"


class SlackConnection(models.Model):
    """The organization's Slack workspace installation (at most one row); the bot token is encrypted."""

    team_id = models.CharField(max_length=32)
    team_name = models.CharField(max_length=200, blank=True)
    bot_user_id = models.CharField(max_length=32, blank=True)
    app_id = models.CharField(max_length=32, blank=True)
    scopes = models.CharField(max_length=500, blank=True)
    bot_token_encrypted = models.TextField()
    # Only for a pasted token of the organization's own Slack app (OAuth installs use SLACK_SIGNING_SECRET).
    signing_secret_encrypted = models.TextField(blank=True)
    token_hint = models.CharField(max_length=12, blank=True)
    method = models.CharField(max_length=10, choices=InstallMethod.choices)
    installed_by = models.EmailField(blank=True)
    installed_at = models.DateTimeField(default=timezone.now)
    # The singleton key: a second installation replaces the first instead of adding a row.
    singleton = models.BooleanField(default=True, unique=True, editable=False)

    class Meta:
        db_table = "investigations_slackconnection"
        constraints = [models.CheckConstraint(condition=Q(singleton=True), name="slackconnection_singleton")]

    def __str__(self) -> str:
        return f"Slack {self.team_name or self.team_id} ({self.method})"


class NotificationSettings(models.Model):
    """Organization-wide routing and digest settings (one row)."""

    default_channel = models.CharField(max_length=200, blank=True)
    # Also post to the default channel when a rule or cluster override names other channels.
    always_default = models.BooleanField(default=False)
    digest_enabled = models.BooleanField(default=True)
    digest_channel = models.CharField(max_length=200, blank=True)
    digest_time = models.TimeField(default=datetime.time(9, 0))
    digest_timezone = models.CharField(max_length=64, default="UTC")
    # The local date of the last digest the scheduler claimed: at most one scheduled digest per day.
    digest_last_sent_on = models.DateField(null=True, blank=True)
    updated_by = models.EmailField(blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    singleton = models.BooleanField(default=True, unique=True, editable=False)

    class Meta:
        db_table = "investigations_notificationsettings"
        constraints = [
            models.CheckConstraint(condition=Q(singleton=True), name="notificationsettings_singleton")
        ]

    def __str__(self) -> str:
        return f"notification settings (default {self.default_channel or '-'})"

    @property
    def effective_digest_channel(self) -> str:
        return self.digest_channel or self.default_channel


class NotificationRoute(models.Model):
    """A per-cluster channel override (rules carry their own `notify_channel`)."""

    cluster_name = models.CharField(max_length=253, unique=True)
    channel = models.CharField(max_length=200)
    created_by = models.EmailField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "investigations_notificationroute"
        ordering = ["cluster_name"]

    def __str__(self) -> str:
        return f"{self.cluster_name} → {self.channel}"


class DeliveryKind(models.TextChoices):
    INVESTIGATION = "investigation", "Investigation"
    DIGEST = "digest", "Daily digest"
    TEST = "test", "Test message"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    RETRYING = "retrying", "Retrying"
    FAILED = "failed", "Failed"


class SlackDelivery(models.Model):
    """One message to one channel: what was sent where (channel id + ts for later updates), or why not."""

    kind = models.CharField(max_length=15, choices=DeliveryKind.choices, default=DeliveryKind.INVESTIGATION)
    investigation = models.ForeignKey(
        "investigations.Investigation",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="slack_deliveries",
    )
    digest_date = models.DateField(null=True, blank=True)
    channel = models.CharField(max_length=200, help_text="As configured (name or id).")
    channel_id = models.CharField(max_length=32, blank=True, help_text="As Slack answered; used by updates.")
    ts = models.CharField(max_length=32, blank=True)
    route = models.CharField(max_length=20, blank=True)  # rule | cluster | default | digest | manual | test
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    resolved_update_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "investigations_slackdelivery"
        ordering = ["-created_at", "-pk"]
        constraints = [
            # Retries of the send job find their row again instead of posting twice.
            models.UniqueConstraint(
                fields=["investigation", "channel"],
                condition=Q(kind="investigation"),
                name="slackdelivery_once_per_channel",
            ),
            # The scheduled digest is posted once per local date (manual sends have route "manual").
            models.UniqueConstraint(
                fields=["digest_date"],
                condition=Q(kind="digest", route="digest"),
                name="slackdelivery_one_scheduled_digest",
            ),
        ]
        indexes = [models.Index(fields=["channel_id", "ts"], name="slackdelivery_message_idx")]

    def __str__(self) -> str:
        return f"{self.kind} to {self.channel} [{self.status}]"
