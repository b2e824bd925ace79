"""Tenant-schema models of the investigations app."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

QUEUES = ("investigations", "notifications", "default")


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
