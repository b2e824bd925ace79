"""Insights selectors: what happened to an organization's alerts and investigations over a period.

Everything is computed inside the organization's schema, for a half-open period [start, end) in UTC:
alerts by their first delivery (`Signal.first_received_at`), investigations by `created_at`, chat
tokens by the message's `created_at`. Formulas (also stated on the page):

* completion rate = completed / (completed + failed); pending and running ones are not finished
* time from alert to result = `finished_at` minus the signal's `first_received_at`, completed
  investigations started by an alert; the median is shown
* feedback accuracy = mean over ratings of accurate 1, partially accurate 0.5, needs improvement 0
* feedback response rate = completed investigations with at least one rating / completed
* engineer time saved = completed investigations times an assumed number of minutes each
"""

from __future__ import annotations

import dataclasses
import statistics
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, Sum
from django.db.models.functions import TruncDate

from alerts.models import Severity, Signal, Source
from investigations.feedback import FeedbackRating, InvestigationFeedback
from investigations.models import ChatMessage, Investigation, InvestigationStatus
from investigations.presentation import category_label

PERIODS = (7, 30, 90)
DEFAULT_PERIOD = 30
MAX_CUSTOM_DAYS = 366
DEFAULT_MINUTES_SAVED = 30
MAX_MINUTES_SAVED = 480
RATING_SCORE = {
    FeedbackRating.ACCURATE: Decimal("1"),
    FeedbackRating.PARTIAL: Decimal("0.5"),
    FeedbackRating.NEEDS_IMPROVEMENT: Decimal("0"),
}
SEVERITY_ORDER = (Severity.CRITICAL, Severity.WARNING, Severity.INFO, "")
NONE_LABEL = "(not set)"


@dataclasses.dataclass(frozen=True)
class Period:
    first_day: date  # inclusive
    last_day: date  # inclusive
    preset: int | None  # 7 / 30 / 90, or None for a custom range

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, datetime.min.time(), tzinfo=UTC)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last_day + timedelta(days=1), datetime.min.time(), tzinfo=UTC)

    @property
    def days(self) -> list[date]:
        return [self.first_day + timedelta(days=i) for i in range((self.last_day - self.first_day).days + 1)]


def period_last(days: int, today: date) -> Period:
    """The last `days` days, today included."""
    return Period(today - timedelta(days=days - 1), today, days)


def period_from_params(params, today: date) -> tuple[Period, str]:
    """The period a query string asks for (`period=7|30|90` or `from`/`to` dates) and an error, if any."""
    raw_from, raw_to = (params.get("from") or "").strip(), (params.get("to") or "").strip()
    if raw_from or raw_to:
        try:
            first = date.fromisoformat(raw_from) if raw_from else None
            last = date.fromisoformat(raw_to) if raw_to else today
        except ValueError:
            return period_last(DEFAULT_PERIOD, today), "Dates must look like 2026-01-31."
        if first is None:
            return period_last(DEFAULT_PERIOD, today), "Choose a start date."
        if last < first:
            return period_last(DEFAULT_PERIOD, today), "The end date is before the start date."
        if (last - first).days + 1 > MAX_CUSTOM_DAYS:
            return period_last(DEFAULT_PERIOD, today), f"Choose at most {MAX_CUSTOM_DAYS} days."
        return Period(first, last, None), ""
    try:
        days = int(params.get("period") or DEFAULT_PERIOD)
    except ValueError:
        days = DEFAULT_PERIOD
    return period_last(days if days in PERIODS else DEFAULT_PERIOD, today), ""


def minutes_saved_from_params(params) -> int:
    try:
        minutes = int(params.get("minutes") or DEFAULT_MINUTES_SAVED)
    except ValueError:
        return DEFAULT_MINUTES_SAVED
    return min(max(minutes, 1), MAX_MINUTES_SAVED)


def _ratio(part: int | Decimal, whole: int) -> float | None:
    return None if not whole else float(Decimal(part) / Decimal(whole))


def _rows(counts: dict[str, int], labels: dict[str, str] | None = None) -> list[dict[str, Any]]:
    labels = labels or {}
    rows = [{"key": k, "label": labels.get(k) or k or NONE_LABEL, "count": n} for k, n in counts.items()]
    return sorted(rows, key=lambda r: (-r["count"], r["label"]))


def _count_by(queryset, field: str) -> dict[str, int]:
    return {row[field] or "": row["n"] for row in queryset.order_by().values(field).annotate(n=Count("pk"))}


def alert_insights(period: Period) -> dict[str, Any]:
    signals = Signal.objects.filter(first_received_at__gte=period.start, first_received_at__lt=period.end)
    severity = _count_by(signals, "severity")
    by_severity = [
        {"key": s, "label": Severity(s).label if s else NONE_LABEL, "count": severity.get(s, 0)}
        for s in SEVERITY_ORDER
        if s or severity.get(s)
    ]
    per_day: dict[date, dict[str, int]] = {day: {} for day in period.days}
    daily = (
        signals.order_by()
        .annotate(day=TruncDate("first_received_at", tzinfo=UTC))
        .values("day", "severity")
        .annotate(n=Count("pk"))
    )
    for row in daily:
        per_day.setdefault(row["day"], {})[row["severity"] or ""] = row["n"]
    by_day = [
        {
            "day": day,
            "total": sum(counts.values()),
            "by_severity": {s or "unset": counts.get(s, 0) for s in SEVERITY_ORDER},
        }
        for day, counts in sorted(per_day.items())
    ]
    return {
        "total": sum(severity.values()),
        "by_severity": by_severity,
        "by_source": _rows(_count_by(signals, "source"), dict(Source.choices)),
        "by_cluster": _rows(_count_by(signals, "cluster")),
        "by_namespace": _rows(_count_by(signals, "namespace")),
        "by_day": by_day,
    }


def investigation_insights(period: Period, *, minutes_saved: int = DEFAULT_MINUTES_SAVED) -> dict[str, Any]:
    investigations = Investigation.objects.filter(created_at__gte=period.start, created_at__lt=period.end)
    status = _count_by(investigations, "status")
    completed = status.get(InvestigationStatus.COMPLETED, 0)
    failed = status.get(InvestigationStatus.FAILED, 0)
    done = investigations.filter(status=InvestigationStatus.COMPLETED)

    durations = [
        (finished - received).total_seconds()
        for finished, received in done.filter(signal__isnull=False, finished_at__isnull=False).values_list(
            "finished_at", "signal__first_received_at"
        )
    ]
    categories = _count_by(done, "root_cause_category")

    feedback = InvestigationFeedback.objects.filter(investigation__in=investigations)
    ratings = _count_by(feedback, "rating")
    rated = sum(ratings.values())
    score = sum((RATING_SCORE[FeedbackRating(k)] * n for k, n in ratings.items()), Decimal("0"))
    responded = done.filter(feedback__isnull=False).distinct().count()

    usage = investigations.aggregate(tokens=Sum("llm_tokens"), cost=Sum("llm_cost"))
    chat = ChatMessage.objects.filter(created_at__gte=period.start, created_at__lt=period.end).aggregate(
        tokens=Sum("tokens"), cost=Sum("cost")
    )
    tokens_investigations, tokens_chat = usage["tokens"] or 0, chat["tokens"] or 0
    cost_investigations = usage["cost"] or Decimal("0")
    cost_chat = chat["cost"] or Decimal("0")
    return {
        "total": sum(status.values()),
        "completed": completed,
        "failed": failed,
        "in_progress": status.get(InvestigationStatus.PENDING, 0)
        + status.get(InvestigationStatus.RUNNING, 0),
        "completion_rate": _ratio(completed, completed + failed),
        "median_seconds": statistics.median(durations) if durations else None,
        "timed": len(durations),
        "categories": [
            {**row, "label": category_label(row["key"]) or NONE_LABEL} for row in _rows(categories)
        ],
        "feedback": {
            "ratings": [
                {"key": value, "label": label, "count": ratings.get(value, 0)}
                for value, label in FeedbackRating.choices
            ],
            "total": rated,
            "accuracy": _ratio(score, rated),
            "responded": responded,
            "response_rate": _ratio(responded, completed),
        },
        "tokens": {
            "investigations": tokens_investigations,
            "chat": tokens_chat,
            "total": tokens_investigations + tokens_chat,
        },
        "cost": {
            "investigations": cost_investigations,
            "chat": cost_chat,
            "total": cost_investigations + cost_chat,
        },
        "time_saved": {"minutes_each": minutes_saved, "minutes": completed * minutes_saved},
    }


def insights_for(period: Period, *, minutes_saved: int = DEFAULT_MINUTES_SAVED) -> dict[str, Any]:
    """Every figure of the dashboard for `period` (call inside the organization's schema)."""
    return {
        "period": period,
        "alerts": alert_insights(period),
        "investigations": investigation_insights(period, minutes_saved=minutes_saved),
    }
