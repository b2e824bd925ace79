"""Tenant-schema models of alert ingestion: integrations, raw deliveries and signals."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone


class Source(models.TextChoices):
    ALERTMANAGER = "alertmanager", "Prometheus Alertmanager"
    GRAFANA = "grafana", "Grafana Alerting"
    DATADOG = "datadog", "Datadog"
    CLOUDWATCH = "cloudwatch", "Amazon CloudWatch (via SNS)"
    GENERIC = "generic", "Generic JSON"


class AuthKind(models.TextChoices):
    NONE = "none", "URL token only"
    BEARER = "bearer", "Authorization: Bearer"
    BASIC = "basic", "HTTP basic"
    HEADER = "header", "Custom header"
    HMAC = "hmac", "HMAC-SHA256 signature (Grafana)"


class Integration(models.Model):
    """One configured alert source of the organization, with its secret webhook URL."""

    name = models.CharField(max_length=120)
    source = models.CharField(max_length=20, choices=Source.choices)
    enabled = models.BooleanField(default=True)
    cluster_name = models.CharField(
        max_length=253, blank=True, help_text="Cluster this source watches, when its alerts do not say."
    )
    # The URL token is shown once; only its SHA-256 is stored and looked up.
    token_hash = models.CharField(max_length=64, unique=True)
    token_hint = models.CharField(max_length=8, help_text="First characters, to recognise a URL.")
    token_rotated_at = models.DateTimeField(default=timezone.now)

    auth_kind = models.CharField(max_length=10, choices=AuthKind.choices, default=AuthKind.NONE)
    # bearer: digest of the token; basic: username + digest of the password; header: header name +
    # digest of its value; hmac: header names, secret encrypted (it must be read to verify).
    auth_username = models.CharField(max_length=200, blank=True)
    auth_header = models.CharField(max_length=100, blank=True)
    auth_timestamp_header = models.CharField(max_length=100, blank=True)
    auth_secret_digest = models.CharField(max_length=64, blank=True)
    auth_secret_encrypted = models.TextField(blank=True)
    # CloudWatch: accept SNS raw message delivery (no envelope, hence no signature).
    allow_raw_delivery = models.BooleanField(default=False)
    rate_limit_per_minute = models.PositiveIntegerField(null=True, blank=True)

    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.EmailField(blank=True)
    last_received_at = models.DateTimeField(null=True, blank=True)
    deliveries_total = models.PositiveBigIntegerField(default=0)
    alerts_total = models.PositiveBigIntegerField(default=0)
    rejected_total = models.PositiveBigIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_source_display()})"


class RawPayload(models.Model):
    """One accepted webhook request as received (kept for RAW_PAYLOAD_RETENTION_DAYS)."""

    integration = models.ForeignKey(
        Integration, on_delete=models.SET_NULL, null=True, related_name="payloads"
    )
    source = models.CharField(max_length=20, choices=Source.choices)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    method = models.CharField(max_length=8)
    content_type = models.CharField(max_length=200, blank=True)
    # Request headers without credentials (Authorization, cookies, signature and token headers).
    headers = models.JSONField(default=dict)
    body = models.TextField()
    size_bytes = models.PositiveIntegerField()
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    alert_count = models.PositiveIntegerField(default=0)
    note = models.CharField(max_length=300, blank=True)  # e.g. "SNS subscription confirmed"
    # Alerts of this delivery that could not be stored ([{"index", "reason"}]); the others were.
    # Kept on the delivery rather than the integration: they belong to one request, the
    # integration page already lists recent deliveries, and retention removes them with the body.
    rejected = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.source} delivery {self.pk} at {self.received_at:%Y-%m-%d %H:%M:%S}"


class SignalStatus(models.TextChoices):
    FIRING = "firing", "Firing"
    RESOLVED = "resolved", "Resolved"
    UNKNOWN = "unknown", "No data"


class Severity(models.TextChoices):
    CRITICAL = "critical", "Critical"
    WARNING = "warning", "Warning"
    INFO = "info", "Info"


class Decision(models.TextChoices):
    INVESTIGATE = "investigate", "Investigate"
    RECORD = "record", "Record only"
    SUPPRESS = "suppress", "Suppress"


class Signal(models.Model):
    """One alert episode from one source, deduplicated across re-deliveries."""

    integration = models.ForeignKey(Integration, on_delete=models.SET_NULL, null=True, related_name="signals")
    first_payload = models.ForeignKey(RawPayload, on_delete=models.SET_NULL, null=True, related_name="+")
    source = models.CharField(max_length=20, choices=Source.choices)
    fingerprint = models.CharField(max_length=64, help_text="Stable id of the alert series (hashed).")
    native_fingerprint = models.CharField(max_length=200, blank=True)
    episode = models.CharField(
        max_length=64, blank=True, help_text="Hash of the episode key, when the source has one."
    )
    delivery_id = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=SignalStatus.choices)
    alertname = models.CharField(max_length=500)
    severity = models.CharField(max_length=10, choices=Severity.choices, blank=True)
    severity_raw = models.CharField(max_length=100, blank=True)
    summary = models.TextField(blank=True)
    description = models.TextField(blank=True)
    labels = models.JSONField(default=dict)
    annotations = models.JSONField(default=dict)
    links = models.JSONField(default=dict)
    extraction = models.JSONField(default=dict, help_text="How each Kubernetes field was found.")
    group = models.JSONField(default=dict)
    cluster = models.CharField(max_length=253, blank=True)
    namespace = models.CharField(max_length=253, blank=True)
    pod = models.CharField(max_length=253, blank=True)
    container = models.CharField(max_length=253, blank=True)
    workload = models.CharField(max_length=253, blank=True)
    workload_kind = models.CharField(max_length=40, blank=True)
    node = models.CharField(max_length=253, blank=True)
    pipeline = models.BooleanField(default=False, help_text="About the alerting pipeline itself.")
    test = models.BooleanField(
        default=False, help_text="A sender's test notification (its own series; never investigated)."
    )
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    first_received_at = models.DateTimeField(default=timezone.now)
    last_received_at = models.DateTimeField(default=timezone.now)
    delivery_count = models.PositiveIntegerField(default=1)
    decision = models.CharField(max_length=12, choices=Decision.choices, default=Decision.RECORD)
    decision_reason = models.CharField(max_length=300, blank=True)
    matched_rule = models.ForeignKey(
        "alerts.Rule", on_delete=models.SET_NULL, null=True, blank=True, related_name="signals"
    )
    matched_rule_name = models.CharField(max_length=120, blank=True)  # kept if the rule is deleted
    silence = models.ForeignKey(
        "alerts.Silence", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The investigation this signal started or was attached to (dedup window).
    investigation = models.ForeignKey(
        "investigations.Investigation", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-last_received_at"]
        constraints = [
            # At most one open episode per series: the database backs up the ingest service's lock.
            models.UniqueConstraint(
                fields=["source", "fingerprint"],
                condition=Q(status="firing"),
                name="signal_one_open_per_series",
            ),
        ]
        indexes = [
            models.Index(fields=["source", "fingerprint", "-last_received_at"], name="signal_series_idx"),
            models.Index(fields=["-last_received_at"], name="signal_recent_idx"),
            models.Index(fields=["status", "-last_received_at"], name="signal_status_idx"),
            models.Index(fields=["namespace", "-last_received_at"], name="signal_namespace_idx"),
            models.Index(fields=["delivery_id"], name="signal_delivery_idx", condition=~Q(delivery_id="")),
            models.Index(fields=["matched_rule", "-last_received_at"], name="signal_rule_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.alertname} [{self.status}]"

    @property
    def resource_label(self) -> str:
        """The most specific Kubernetes resource the alert names, e.g. `pod/api-7d9f`."""
        if self.pod:
            return f"pod/{self.pod}"
        if self.workload:
            return f"{(self.workload_kind or 'workload').lower()}/{self.workload}"
        if self.node:
            return f"node/{self.node}"
        return ""


class SnsSubscriptionStatus(models.TextChoices):
    WAITING = "waiting", "Waiting for confirmation"
    CONFIRMED = "confirmed", "Confirmed"
    FAILED = "failed", "Failed"


class SnsSubscription(models.Model):
    """An SNS topic's subscription to a CloudWatch integration, confirmed by a job (with retries)."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="sns_subscriptions")
    topic_arn = models.CharField(max_length=256)
    # The verified SubscriptionConfirmation's URL (an SNS host, Action=ConfirmSubscription); it
    # holds SNS's confirmation token, valid for three days, and is only ever sent back to SNS.
    subscribe_url = models.TextField()
    message_id = models.CharField(max_length=200, blank=True)
    payload = models.ForeignKey(
        RawPayload, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        max_length=10, choices=SnsSubscriptionStatus.choices, default=SnsSubscriptionStatus.WAITING
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    requested_at = models.DateTimeField(default=timezone.now)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "topic_arn"], name="sns_subscription_one_per_topic"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.topic_arn} ({self.status})"


class BenchmarkRow(models.Model):
    """Rows of the benchmark's baseline endpoint (one plain INSERT per alert); see bench/ingest.py."""

    received_at = models.DateTimeField(default=timezone.now)
    alertname = models.CharField(max_length=500)

    def __str__(self) -> str:
        return self.alertname


class RuleSettings(models.Model):
    """Per-organization rule settings (one row): the default action and the rule-set version."""

    # The plain value, not the enum member: a row created in this process must read like a loaded one.
    default_action = models.CharField(max_length=12, choices=Decision.choices, default=Decision.RECORD.value)
    # Changed on every change to rules or silences; compiled rule sets are cached per revision.
    # Random, not a counter: a rolled-back transaction could otherwise reuse a number for other rules.
    revision = models.UUIDField(default=uuid.uuid4)
    version = models.PositiveBigIntegerField(default=1)  # human-friendly change counter

    def __str__(self) -> str:
        return f"rule settings (default {self.default_action}, v{self.version})"


class MatchMode(models.TextChoices):
    ALL = "all", "All conditions"
    ANY = "any", "Any condition"


class Rule(models.Model):
    """Decides what happens to matching signals; rules are evaluated in `position` order."""

    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    enabled = models.BooleanField(default=True)
    position = models.PositiveIntegerField(db_index=True)
    match_mode = models.CharField(max_length=3, choices=MatchMode.choices, default=MatchMode.ALL)
    # [{"field": "namespace", "operator": "regex", "value": "prod-.*"}, ...]; validated by the service.
    conditions = models.JSONField(default=list)
    action = models.CharField(max_length=12, choices=Decision.choices, default=Decision.INVESTIGATE)
    target_cluster = models.CharField(max_length=253, blank=True)
    dedup_window_minutes = models.PositiveIntegerField(default=30)
    max_investigations_per_hour = models.PositiveIntegerField(null=True, blank=True)
    notify_channel = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.EmailField(blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.EmailField(blank=True)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.name


class RuleChange(models.Model):
    """History of rule and silence changes: who, when, and the before/after state."""

    rule = models.ForeignKey(Rule, on_delete=models.SET_NULL, null=True, blank=True, related_name="changes")
    rule_name = models.CharField(max_length=120)
    action = models.CharField(
        max_length=20
    )  # created, updated, deleted, reordered, enabled, disabled, imported
    author = models.EmailField(blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.rule_name} {self.action} by {self.author}"


class Silence(models.Model):
    """Suppresses matching signals between `starts_at` and `ends_at`; expired ones stay as history."""

    match_mode = models.CharField(max_length=3, choices=MatchMode.choices, default=MatchMode.ALL)
    conditions = models.JSONField(default=list)
    starts_at = models.DateTimeField(default=timezone.now)
    ends_at = models.DateTimeField()
    author = models.EmailField()
    comment = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    expired_early_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-starts_at"]
        indexes = [models.Index(fields=["ends_at"], name="silence_ends_idx")]

    def __str__(self) -> str:
        return f"silence {self.pk} until {self.ends_at:%Y-%m-%d %H:%M}"
