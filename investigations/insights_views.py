"""The insights dashboard: a period chooser, headline figures, and charts drawn server-side as SVG.

Charts are plain inline SVG computed here (no JavaScript library); every figure is also in a table.
"""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from investigations.insights import (
    DEFAULT_MINUTES_SAVED,
    DEFAULT_PERIOD,
    PERIODS,
    insights_for,
    minutes_saved_from_params,
    period_from_params,
)
from tenants.permissions import require
from tenants.roles import Capability

NO_VALUE = "\u2013"  # an en dash for "no figure yet"
TIMES = "\u00d7"

# Day series geometry (SVG user units; the SVG scales to the card's width).
CHART_W, CHART_H = 760, 200
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 40, 8, 10, 24
SERIES = (("critical", "Critical"), ("warning", "Warning"), ("info", "Info"), ("unset", "No severity"))
MAX_BARS = 12


def percent(ratio: float | None) -> str:
    return NO_VALUE if ratio is None else f"{ratio * 100:.0f}%"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return NO_VALUE
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, rest = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {rest} s" if rest else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def hours(minutes: int) -> str:
    return f"{minutes / 60:.1f} h" if minutes % 60 else f"{minutes // 60} h"


def money(value: Decimal) -> str:
    return f"${value:.2f}" if value >= Decimal("0.01") or not value else f"${value:.4f}"


def bars(rows: list[dict[str, Any]], *, limit: int = MAX_BARS) -> dict[str, Any]:
    """Horizontal bars: the top `limit` rows scaled to the largest, the rest summed as "others"."""
    shown = rows[:limit]
    rest = sum(r["count"] for r in rows[limit:])
    largest = max((r["count"] for r in shown), default=0) or 1
    return {
        "rows": [{**r, "width": round(r["count"] / largest * 100, 1)} for r in shown],
        "others": rest,
        "others_count": len(rows) - len(shown),
        "total": sum(r["count"] for r in rows),
    }


def _nice_ceiling(value: int) -> int:
    if value <= 4:
        return max(value, 1)
    magnitude = 10 ** int(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return int(step * magnitude)
    return value


def day_series(by_day: list[dict[str, Any]]) -> dict[str, Any]:
    """Stacked bars per day by severity, with y grid lines and at most ~10 date labels."""
    plot_w, plot_h = CHART_W - PAD_LEFT - PAD_RIGHT, CHART_H - PAD_TOP - PAD_BOTTOM
    top = _nice_ceiling(max((d["total"] for d in by_day), default=0))
    slot = plot_w / max(len(by_day), 1)
    width = max(slot * 0.72, 1.0)
    every = max(1, math.ceil(len(by_day) / 10))
    columns = []
    for index, day in enumerate(by_day):
        x = PAD_LEFT + index * slot + (slot - width) / 2
        y = PAD_TOP + plot_h
        segments = []
        for key, label in SERIES:
            count = day["by_severity"].get(key, 0)
            if not count:
                continue
            height = count / top * plot_h
            y -= height
            segments.append(
                {"key": key, "label": label, "count": count, "y": round(y, 2), "h": round(height, 2)}
            )
        columns.append(
            {
                "day": day["day"],
                "total": day["total"],
                "x": round(x, 2),
                "w": round(width, 2),
                "cx": round(x + width / 2, 2),
                "segments": segments,
                "label": _short_date(day["day"]) if index % every == 0 else "",
            }
        )
    grid = [
        {"value": value, "y": round(PAD_TOP + plot_h - value / top * plot_h, 2)}
        for value in sorted({0, top // 2 if top >= 2 else 0, top})
    ]
    return {
        "columns": columns,
        "grid": grid,
        "width": CHART_W,
        "height": CHART_H,
        "left": PAD_LEFT,
        "right": CHART_W - PAD_RIGHT,
        "baseline": PAD_TOP + plot_h,
        "label_y": CHART_H - 6,
        "series": [{"key": k, "label": label} for k, label in SERIES],
    }


def _short_date(day: date) -> str:
    return f"{day:%b} {day.day}"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _kpis(data: dict[str, Any]) -> list[dict[str, str]]:
    alerts, inv = data["alerts"], data["investigations"]
    feedback, saved = inv["feedback"], inv["time_saved"]
    return [
        {
            "key": "alerts",
            "label": "Alerts",
            "value": str(alerts["total"]),
            "detail": "first received in the period",
        },
        {
            "key": "investigations",
            "label": "Investigations",
            "value": str(inv["total"]),
            "detail": f"{inv['completed']} completed · {inv['failed']} failed · "
            f"{inv['in_progress']} in progress",
        },
        {
            "key": "completion_rate",
            "label": "Completion rate",
            "value": percent(inv["completion_rate"]),
            "detail": "completed ÷ (completed + failed)",
        },
        {
            "key": "median_time",
            "label": "Median time to result",
            "value": duration(inv["median_seconds"]),
            "detail": f"alert received → result, over {_plural(inv['timed'], 'investigation')}",
        },
        {
            "key": "accuracy",
            "label": "Feedback accuracy",
            "value": percent(feedback["accuracy"]),
            "detail": f"{_plural(feedback['total'], 'rating')}: accurate 1, partial ½, needs improvement 0",
        },
        {
            "key": "response_rate",
            "label": "Feedback response rate",
            "value": percent(feedback["response_rate"]),
            "detail": f"{feedback['responded']} of {inv['completed']} completed rated",
        },
        {
            "key": "time_saved",
            "label": "Engineer time saved (estimate)",
            "value": hours(saved["minutes"]),
            "detail": f"{inv['completed']} completed {TIMES} {saved['minutes_each']} min each",
        },
        {
            "key": "model",
            "label": "Model tokens · cost",
            "value": f"{inv['tokens']['total']:,} · {money(inv['cost']['total'])}",
            "detail": f"investigations {inv['tokens']['investigations']:,} · chat {inv['tokens']['chat']:,}",
        },
    ]


@require(Capability.VIEW)
@require_safe
def insights(request: HttpRequest) -> HttpResponse:
    today = timezone.now().date()
    period, error = period_from_params(request.GET, today)
    minutes = minutes_saved_from_params(request.GET)
    data = insights_for(period, minutes_saved=minutes)
    alerts, inv = data["alerts"], data["investigations"]
    context = {
        "section": "insights",
        "period": period,
        "period_error": error,
        "presets": PERIODS,
        "default_period": DEFAULT_PERIOD,
        "minutes": minutes,
        "default_minutes": DEFAULT_MINUTES_SAVED,
        "alerts": alerts,
        "inv": inv,
        "kpis": _kpis(data),
        "days": day_series(alerts["by_day"]),
        "charts": {
            "severity": bars(alerts["by_severity"]),
            "source": bars(alerts["by_source"]),
            "cluster": bars(alerts["by_cluster"]),
            "namespace": bars(alerts["by_namespace"]),
            "categories": bars(inv["categories"]),
            "ratings": bars(inv["feedback"]["ratings"]),
        },
        "cost": {k: money(v) for k, v in inv["cost"].items()},
    }
    return render(request, "investigations/insights.html", context)
