"""Tenant-schema models of the investigations app."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

QUEUES = ("investigations", "notifications", "default")


class InvestigationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"


class Investigation(models.Model):
    """One investigation of a Kubernetes problem (the engine fills it in; see the engine issue)."""

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

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"], name="investigation_status_idx")]

    def __str__(self) -> str:
        return f"investigation {self.pk} [{self.status}]"


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
