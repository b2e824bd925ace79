"""Tenant-schema models of the investigations app."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from investigations.taxonomy import CHOICES

QUEUES = ("maintenance", "investigations", "notifications", "default")


class InvestigationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"


class Investigation(models.Model):
    """One investigation of a Kubernetes problem (the engine and `runner.py` fill it in)."""

    signal = models.ForeignKey(
        "alerts.Signal", on_delete=models.SET_NULL, null=True, blank=True, related_name="investigations"
    )
    status = models.CharField(
        max_length=10, choices=InvestigationStatus.choices, default=InvestigationStatus.PENDING
    )
    trigger = models.CharField(max_length=20, default="rule")  # rule | manual | rerun
    cluster = models.CharField(max_length=253, blank=True)
    namespace = models.CharField(max_length=253, blank=True)
    resource_kind = models.CharField(max_length=40, blank=True)
    resource_name = models.CharField(max_length=253, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    failure_reason = models.CharField(max_length=500, blank=True)
    # The result schema of the engine (root_cause, recommendations, evidence, topology, timings, llm).
    result = models.JSONField(null=True, blank=True)
    root_cause_category = models.CharField(max_length=40, blank=True, db_index=True, choices=CHOICES)
    confidence = models.FloatField(null=True, blank=True)
    summary = models.TextField(blank=True)
    partial = models.BooleanField(
        default=False, help_text="Completed with low-confidence or incomplete findings."
    )
    requested_by = models.EmailField(blank=True)
    rerun_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="reruns"
    )
    llm_tokens = models.PositiveIntegerField(default=0)
    llm_cost = models.DecimalField(max_digits=10, decimal_places=4, default=0)
    # A running investigation is leased to the worker running it, which renews the lease while it
    # works; a lapsed lease means the worker is gone and the sweeper re-queues it (once).
    attempts = models.PositiveSmallIntegerField(
        default=0, help_text="How many times a worker has started this investigation."
    )
    lease_expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"], name="investigation_status_idx")]

    def __str__(self) -> str:
        return f"investigation {self.pk} [{self.status}]"

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class InvestigationStep(models.Model):
    """One stage of an investigation: what it asked the cluster, what it found, how long it took."""

    investigation = models.ForeignKey(Investigation, on_delete=models.CASCADE, related_name="steps")
    stage = models.CharField(max_length=20)  # extract | topology | collect | analyze | recommend
    status = models.CharField(max_length=10, default="running")  # running | ok | failed
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    summary = models.TextField(blank=True)
    detail = models.JSONField(default=dict, blank=True)
    tokens = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["started_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["investigation", "stage"], name="investigation_step_once_per_stage"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.stage} of investigation {self.investigation_id} [{self.status}]"

    @property
    def duration_seconds(self) -> float | None:
        return (self.finished_at - self.started_at).total_seconds() if self.finished_at else None


class PipelineCheck(models.Model):
    """A self-test an operator runs from Settings: one job per RQ queue, each reporting back live.

    It proves, on the installation as it runs, that workers listen on every queue, that jobs run
    inside this organization's schema, and that live updates reach the browser.
    """

    requested_by = models.EmailField()
    requested_at = models.DateTimeField(default=timezone.now)
    # queue name -> ISO time the worker ran the job (absent until it has).
    results = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        get_latest_by = "requested_at"

    def __str__(self) -> str:
        return f"pipeline check {self.pk} by {self.requested_by}"

    @property
    def completed(self) -> bool:
        return all(queue in self.results for queue in QUEUES)

    def queue_rows(self) -> list[dict]:
        rows = []
        for queue in QUEUES:
            result = self.results.get(queue)
            rows.append({"queue": queue, "result": result})
        return rows


# --- Clusters and the agent gateway (see investigations/gateway/) ------------------------------


class ClusterTransport(models.TextChoices):
    HTTP = "http", "HTTPS long-poll"
    SQS = "sqs", "Amazon SQS queues"


class ClusterStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    CONNECTED = "connected", "Connected"
    DISCONNECTED = "disconnected", "Disconnected"


def agent_heartbeat_seconds() -> int:
    """How often agents are told to heartbeat (sent in the hello reply)."""
    from django.conf import settings

    return int(getattr(settings, "AGENT_HEARTBEAT_SECONDS", 30))


def agent_offline_after_seconds() -> float:
    """Seconds without any word from the agent after which a cluster counts as disconnected."""
    from django.conf import settings

    missed = int(getattr(settings, "AGENT_MISSED_HEARTBEATS", 3))
    return float(agent_heartbeat_seconds() * max(1, missed))


class Cluster(models.Model):
    """A Kubernetes cluster whose in-cluster agent talks to this organization's gateway."""

    name = models.CharField(max_length=100, unique=True)
    # SHA-256 of the bearer token; the token itself is shown once and never stored.
    token_hash = models.CharField(max_length=64, unique=True)
    token_hint = models.CharField(max_length=12)
    token_rotated_at = models.DateTimeField(null=True, blank=True)
    transport = models.CharField(
        max_length=4, choices=ClusterTransport.choices, default=ClusterTransport.HTTP
    )
    sqs_command_queue_url = models.URLField(max_length=500, blank=True)
    sqs_result_queue_url = models.URLField(max_length=500, blank=True)
    sqs_region = models.CharField(max_length=40, blank=True)
    agent_version = models.CharField(max_length=40, blank=True)
    kubernetes_version = models.CharField(max_length=60, blank=True)
    protocol_version = models.PositiveSmallIntegerField(null=True, blank=True)
    capabilities = models.JSONField(default=dict, blank=True)
    last_stats = models.JSONField(default=dict, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    connected_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.EmailField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def status_at(self, now) -> str:
        if self.last_seen_at is None:
            return ClusterStatus.PENDING
        if (now - self.last_seen_at).total_seconds() > agent_offline_after_seconds():
            return ClusterStatus.DISCONNECTED
        return ClusterStatus.CONNECTED

    @property
    def status(self) -> str:
        return self.status_at(timezone.now())

    @property
    def is_connected(self) -> bool:
        return self.status == ClusterStatus.CONNECTED


class CommandState(models.TextChoices):
    QUEUED = "queued", "Queued"
    DELIVERED = "delivered", "Delivered"
    DONE = "done", "Done"
    EXPIRED = "expired", "Expired"
    REFUSED = "refused", "Refused"


class AgentCommand(models.Model):
    """One read-only command for a cluster's agent and, once answered, its result (durable)."""

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="commands")
    command_id = models.CharField(max_length=128, unique=True)
    op = models.CharField(max_length=10)
    kind = models.CharField(max_length=60)
    namespace = models.CharField(max_length=253, blank=True)
    name = models.CharField(max_length=253, blank=True)
    params = models.JSONField(default=dict, blank=True)
    deadline = models.DateTimeField()
    state = models.CharField(max_length=10, choices=CommandState.choices, default=CommandState.QUEUED)
    deliveries = models.PositiveSmallIntegerField(default=0)
    result = models.JSONField(null=True, blank=True)
    error_code = models.CharField(max_length=20, blank=True)
    error_message = models.TextField(blank=True)
    truncated = models.BooleanField(default=False)
    truncation = models.TextField(blank=True)
    redactions = models.PositiveIntegerField(default=0)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["cluster", "state", "deadline"], name="agentcommand_pending_idx")]

    def __str__(self) -> str:
        return f"{self.op} {self.kind} {self.namespace}/{self.name} [{self.state}]"

    @property
    def finished(self) -> bool:
        return self.state in (CommandState.DONE, CommandState.EXPIRED, CommandState.REFUSED)


class FeedbackRating(models.TextChoices):
    ACCURATE = "accurate", "Accurate"
    PARTIAL = "partial", "Partially accurate"
    NEEDS_IMPROVEMENT = "needs_improvement", "Needs improvement"


class FeedbackSource(models.TextChoices):
    PAGE = "page", "Investigation page"
    SLACK = "slack", "Slack"


class InvestigationFeedback(models.Model):
    investigation = models.ForeignKey(
        "investigations.Investigation", on_delete=models.CASCADE, related_name="feedback"
    )
    user_id = models.BigIntegerField()
    email = models.EmailField()
    rating = models.CharField(max_length=20, choices=FeedbackRating.choices)
    comment = models.TextField(blank=True, max_length=2000)
    source = models.CharField(max_length=10, choices=FeedbackSource.choices, default=FeedbackSource.PAGE)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        app_label = "investigations"
        ordering = ["-updated_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["investigation", "user_id"], name="investigation_feedback_once_per_user"
            )
        ]

    def __str__(self) -> str:
        return f"{self.rating} on investigation {self.investigation_id} by {self.email}"


# Models of the chat, model-settings and Slack sub-packages, kept in their own `models.py`;
# imported here so Django registers them.
from investigations.chat.models import ChatMessage  # noqa: E402, F401
from investigations.llm.models import ModelConfig, ModelUsage  # noqa: E402, F401
from investigations.notify.models import (  # noqa: E402, F401
    NotificationRoute,
    NotificationSettings,
    SlackConnection,
    SlackDelivery,
)
