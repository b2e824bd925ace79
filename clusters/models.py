"""Tenant-schema models of the clusters app: registered clusters and the commands sent to their agents.

The tables keep the names they had when these models lived in the investigations app
(`db_table`), so moving them (migration `clusters/0001`) changed Django's state, not the database.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class ClusterTransport(models.TextChoices):
    HTTP = "http", "HTTPS long-poll"
    SQS = "sqs", "Amazon SQS queues"


class ClusterStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    CONNECTED = "connected", "Connected"
    DISCONNECTED = "disconnected", "Disconnected"


def agent_heartbeat_seconds() -> int:
    """How often agents are told to heartbeat (sent in the hello reply)."""
    return int(getattr(settings, "AGENT_HEARTBEAT_SECONDS", 30))


def agent_offline_after_seconds() -> float:
    """Seconds without any word from the agent after which a cluster counts as disconnected."""
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
        db_table = "investigations_cluster"
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
        db_table = "investigations_agentcommand"
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["cluster", "state", "deadline"], name="agentcommand_pending_idx")]

    def __str__(self) -> str:
        return f"{self.op} {self.kind} {self.namespace}/{self.name} [{self.state}]"

    @property
    def finished(self) -> bool:
        return self.state in (CommandState.DONE, CommandState.EXPIRED, CommandState.REFUSED)
