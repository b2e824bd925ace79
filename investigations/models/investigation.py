"""Investigations, their steps and feedback, and the pipeline self-check."""

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
