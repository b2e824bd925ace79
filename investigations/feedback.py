"""Feedback on an investigation's result: one rating per user per investigation, changeable.

Users live in the public schema, so the rater is stored as an id and an email, not a foreign key
across schemas. `feedback_record` is the one write path (the page today, Slack later).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone


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


COMMENT_MAX = 2000


def feedback_record(
    investigation,
    user_id: int,
    email: str,
    rating: str,
    comment: str = "",
    source: str = FeedbackSource.PAGE,
) -> InvestigationFeedback:
    """Create or change this user's feedback on this investigation."""
    if rating not in FeedbackRating.values:
        raise ValidationError({"rating": "Choose Accurate, Partially accurate or Needs improvement."})
    if source not in FeedbackSource.values:
        raise ValidationError({"source": f"unknown feedback source {source!r}"})
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise ValidationError({"comment": f"Keep the comment under {COMMENT_MAX} characters."})
    now = timezone.now()
    with transaction.atomic():
        feedback, _created = InvestigationFeedback.objects.update_or_create(
            investigation=investigation,
            user_id=user_id,
            defaults={
                "email": email,
                "rating": rating,
                "comment": comment,
                "source": source,
                "updated_at": now,
            },
            create_defaults={
                "email": email,
                "rating": rating,
                "comment": comment,
                "source": source,
                "created_at": now,
                "updated_at": now,
            },
        )
    return feedback


def feedback_for(investigation) -> list[InvestigationFeedback]:
    return list(InvestigationFeedback.objects.filter(investigation=investigation))


def feedback_summary(items: list[InvestigationFeedback]) -> dict[str, int]:
    counts = dict.fromkeys(FeedbackRating.values, 0)
    for item in items:
        counts[item.rating] = counts.get(item.rating, 0) + 1
    return counts
