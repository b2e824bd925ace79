"""Feedback on an investigation's result: one rating per user per investigation, changeable.

Users live in the public schema, so the rater is stored as an id and an email, not a foreign key
across schemas. `feedback_record` is the one write path (the page today, Slack later).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from investigations.models import FeedbackRating, FeedbackSource, InvestigationFeedback

__all__ = ["FeedbackRating", "FeedbackSource", "InvestigationFeedback"]  # re-exported for callers


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
