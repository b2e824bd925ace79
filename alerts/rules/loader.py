"""Each organization's compiled rule set, cached per process and per rule-set revision.

The revision lives in the organization's `RuleSettings` row and is bumped in the same transaction as
any rule or silence change, so reading it inside the webhook's transaction gives a consistent
answer: an edit takes effect on the next request, in every process, without a stale window.
"""

from __future__ import annotations

import threading
import uuid

from django.db.models import F
from django.utils import timezone

from alerts.models import Rule, RuleSettings, Silence
from alerts.rules.conditions import parse_condition
from alerts.rules.engine import RuleSet, RuleSpec, SilenceSpec
from tenants.jobs import current_schema

_cache: dict[str, tuple[uuid.UUID, RuleSet]] = {}
_lock = threading.Lock()


def rule_settings() -> RuleSettings:
    settings_row = RuleSettings.objects.order_by("pk").first()
    return settings_row or RuleSettings.objects.create()


def bump_version() -> None:
    """Call inside the transaction that changes rules or silences."""
    row = rule_settings()
    RuleSettings.objects.filter(pk=row.pk).update(version=F("version") + 1, revision=uuid.uuid4())


def spec_from_rule(rule: Rule) -> RuleSpec:
    return RuleSpec(
        id=rule.pk,
        name=rule.name,
        conditions=tuple(parse_condition(c) for c in rule.conditions),
        action=rule.action,
        match_mode=rule.match_mode,
        enabled=rule.enabled,
        target_cluster=rule.target_cluster,
        dedup_window_minutes=rule.dedup_window_minutes,
        max_investigations_per_hour=rule.max_investigations_per_hour,
        notify_channel=rule.notify_channel,
    )


def spec_from_silence(silence: Silence) -> SilenceSpec:
    ends = silence.expired_early_at or silence.ends_at
    return SilenceSpec(
        id=silence.pk,
        conditions=tuple(parse_condition(c) for c in silence.conditions),
        starts_at=silence.starts_at,
        ends_at=ends,
        match_mode=silence.match_mode,
        comment=silence.comment,
    )


def build_rule_set(rules=None, silences=None, default_action: str | None = None) -> RuleSet:
    """A RuleSet from the database (or from given model rows, e.g. an unsaved preview)."""
    if rules is None:
        rules = Rule.objects.filter(enabled=True).order_by("position", "pk")
    if silences is None:
        silences = Silence.objects.filter(ends_at__gt=timezone.now(), expired_early_at__isnull=True)
    if default_action is None:
        default_action = rule_settings().default_action
    return RuleSet(
        [spec_from_rule(r) for r in rules],
        [spec_from_silence(s) for s in silences],
        default_action=default_action,
    )


def current_rule_set() -> RuleSet:
    """The compiled rule set of the organization whose schema is active (cached per version)."""
    schema = current_schema()
    revision = rule_settings().revision
    cached = _cache.get(schema)
    if cached and cached[0] == revision:
        return cached[1]
    rule_set = build_rule_set()
    with _lock:
        _cache[schema] = (revision, rule_set)
    return rule_set
