"""What a rule would do before it is saved, and why a stored signal was (or would be) decided so.

Both replay stored signals through the same engine the webhook uses.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from django.db.models import Count, Q
from django.utils import timezone

from alerts.models import Rule, Signal
from alerts.rules.engine import Evaluation, RuleSet, RuleSpec, _CompiledRule, subject_from_signal
from alerts.rules.loader import build_rule_set, rule_settings, spec_from_rule

PREVIEW_WINDOW_DAYS = 7
# Bounded so the preview stays interactive; the count says when it is a sample.
PREVIEW_MAX_SIGNALS = 5000


@dataclasses.dataclass
class PreviewSample:
    signal: Signal
    taken_by: str | None  # an earlier rule that would decide this signal first, if any


@dataclasses.dataclass
class Preview:
    considered: int
    matched: int  # signals the draft's conditions match
    decided: int  # of those, how many the draft would actually decide (no earlier rule first)
    taken_by_earlier: dict[str, int]
    samples: list[PreviewSample]
    capped: bool  # True when only the most recent PREVIEW_MAX_SIGNALS were considered
    days: int = PREVIEW_WINDOW_DAYS


def preview_rule(
    draft: RuleSpec, *, position: int | None = None, exclude_rule_id: int | None = None, sample_size: int = 10
) -> Preview:
    """Replay the last 7 days' signals against `draft` placed at `position` (None: at the end)."""
    since = timezone.now() - timedelta(days=PREVIEW_WINDOW_DAYS)
    signals = list(
        Signal.objects.filter(first_received_at__gte=since)
        .select_related("integration")
        .order_by("-first_received_at")[: PREVIEW_MAX_SIGNALS + 1]
    )
    capped = len(signals) > PREVIEW_MAX_SIGNALS
    signals = signals[:PREVIEW_MAX_SIGNALS]
    earlier_rules = Rule.objects.filter(enabled=True).exclude(pk=exclude_rule_id)
    if position is not None:
        earlier_rules = earlier_rules.filter(position__lt=position)
    earlier = RuleSet(
        [spec_from_rule(r) for r in earlier_rules.order_by("position", "pk")], default_action=""
    )
    compiled = _CompiledRule(draft)
    matched = decided = 0
    taken: dict[str, int] = {}
    samples: list[PreviewSample] = []
    now = timezone.now()
    for signal in signals:
        subject = subject_from_signal(signal)
        if not compiled.match(subject):
            continue
        matched += 1
        first = earlier.evaluate(subject, now=now)
        taken_by = first.rule.name if first.rule is not None else None
        if taken_by:
            taken[taken_by] = taken.get(taken_by, 0) + 1
        else:
            decided += 1
        if len(samples) < sample_size:
            samples.append(PreviewSample(signal, taken_by))
    return Preview(len(signals), matched, decided, taken, samples, capped)


def explain_signal(signal: Signal) -> Evaluation:
    """How the current rules and silences would decide `signal` now, with every rule passed over."""
    return build_rule_set().evaluate(subject_from_signal(signal), now=timezone.now(), explain=True)


def rule_match_counts() -> dict[int, tuple[int, int]]:
    """rule id -> (signals it decided in the last 24 h, in the last 7 days), one query."""
    now = timezone.now()
    rows = (
        Signal.objects.filter(matched_rule__isnull=False, first_received_at__gte=now - timedelta(days=7))
        .values("matched_rule_id")
        .annotate(
            day=Count("pk", filter=Q(first_received_at__gte=now - timedelta(hours=24))),
            week=Count("pk"),
        )
    )
    return {row["matched_rule_id"]: (row["day"], row["week"]) for row in rows}


def field_suggestions(limit_signals: int = 2000, max_values: int = 30) -> dict[str, list[str]]:
    """Field → values actually seen in this organization's recent signals (for the editor's datalists).

    Keys are fixed fields and `label:<key>` / `annotation:<key>` (annotation values are not
    suggested: they are long free text).
    """
    recent = list(
        Signal.objects.order_by("-last_received_at").values(
            "source",
            "alertname",
            "severity",
            "status",
            "cluster",
            "namespace",
            "workload",
            "node",
            "labels",
            "annotations",
        )[:limit_signals]
    )
    values: dict[str, dict[str, int]] = {}

    def add(field: str, value) -> None:
        if value in (None, "") or not isinstance(value, str) or len(value) > 200:
            return
        bucket = values.setdefault(field, {})
        bucket[value] = bucket.get(value, 0) + 1

    for row in recent:
        for field in (
            "source",
            "alertname",
            "severity",
            "status",
            "cluster",
            "namespace",
            "workload",
            "node",
        ):
            add(field, row[field])
        for key, value in (row["labels"] or {}).items():
            add(f"label:{key}", value)
        for key in row["annotations"] or {}:
            values.setdefault(f"annotation:{key}", {})
    return {
        field: [value for value, _n in sorted(counts.items(), key=lambda item: -item[1])[:max_values]]
        for field, counts in sorted(values.items())
    }


def default_action() -> str:
    return rule_settings().default_action
