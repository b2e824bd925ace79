"""Writes of rules, silences and rule settings. Every change is recorded in RuleChange with its
before/after state and bumps the rule-set version in the same transaction."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import yaml
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from alerts.models import Decision, Rule, RuleChange, Silence
from alerts.rules.conditions import ConditionError, parse_condition
from alerts.rules.engine import rule_spec_from_dict
from alerts.rules.loader import bump_version, rule_settings

EXPORT_VERSION = 1
# A rule's editable fields: what export writes, import and the API accept.
RULE_FIELDS = (
    "name",
    "description",
    "enabled",
    "match_mode",
    "conditions",
    "action",
    "target_cluster",
    "dedup_window_minutes",
    "max_investigations_per_hour",
    "notify_channel",
)


def rule_snapshot(rule: Rule) -> dict[str, Any]:
    """The rule as plain data (history entries, YAML export, duplicate)."""
    data = {field: getattr(rule, field) for field in RULE_FIELDS}
    data["position"] = rule.position
    return data


def _validated(data: Mapping[str, Any], where: str = "rule") -> dict[str, Any]:
    """Normalize and validate rule data; raises ValidationError naming the problem."""
    try:
        spec = rule_spec_from_dict(
            {**data, "match": data.get("match_mode", data.get("match", "all"))}, where=where
        )
    except ConditionError as error:
        raise ValidationError(str(error)) from None
    return {
        "name": spec.name,
        "description": str(data.get("description") or "")[:5000],
        "enabled": spec.enabled,
        "match_mode": spec.match_mode,
        "conditions": [c.as_dict() for c in spec.conditions],
        "action": spec.action,
        "target_cluster": spec.target_cluster,
        "dedup_window_minutes": spec.dedup_window_minutes,
        "max_investigations_per_hour": spec.max_investigations_per_hour,
        "notify_channel": spec.notify_channel,
    }


def _record(rule: Rule | None, name: str, action: str, author: str, before=None, after=None) -> None:
    RuleChange.objects.create(
        rule=rule, rule_name=name[:120], action=action, author=author, before=before, after=after
    )


def _next_position() -> int:
    return (Rule.objects.aggregate(top=Max("position"))["top"] or 0) + 1


def rule_create(*, data: Mapping[str, Any], author: str, position: int | None = None) -> Rule:
    clean = _validated(data)
    with transaction.atomic():
        rule = Rule.objects.create(
            **clean, position=position or _next_position(), created_by=author, updated_by=author
        )
        _record(rule, rule.name, "created", author, after=rule_snapshot(rule))
        bump_version()
    return rule


def rule_update(*, rule: Rule, data: Mapping[str, Any], author: str) -> Rule:
    clean = _validated(data)
    with transaction.atomic():
        before = rule_snapshot(rule)
        for field, value in clean.items():
            setattr(rule, field, value)
        rule.updated_by, rule.updated_at = author, timezone.now()
        rule.save()
        after = rule_snapshot(rule)
        if after != before:
            _record(rule, rule.name, "updated", author, before=before, after=after)
            bump_version()
    return rule


def rule_set_enabled(*, rule: Rule, enabled: bool, author: str) -> Rule:
    with transaction.atomic():
        if rule.enabled != enabled:
            before = rule_snapshot(rule)
            rule.enabled, rule.updated_by, rule.updated_at = enabled, author, timezone.now()
            rule.save(update_fields=["enabled", "updated_by", "updated_at"])
            _record(
                rule, rule.name, "enabled" if enabled else "disabled", author, before, rule_snapshot(rule)
            )
            bump_version()
    return rule


def rule_delete(*, rule: Rule, author: str) -> None:
    with transaction.atomic():
        _record(None, rule.name, "deleted", author, before=rule_snapshot(rule))
        rule.delete()
        _renumber()
        bump_version()


def rule_duplicate(*, rule: Rule, author: str) -> Rule:
    data = rule_snapshot(rule)
    data["name"] = f"{rule.name} (copy)"[:120]
    data["enabled"] = False  # a copy starts off, so it cannot change decisions until reviewed
    with transaction.atomic():
        Rule.objects.filter(position__gt=rule.position).update(position=F("position") + 1)
        return rule_create(data=data, author=author, position=rule.position + 1)


def rule_move(*, rule: Rule, to_index: int, author: str) -> None:
    """Move `rule` to 0-based `to_index` in evaluation order (clamped) and renumber 1..n."""
    with transaction.atomic():
        ordered = list(Rule.objects.select_for_update().order_by("position", "pk"))
        before = [r.name for r in ordered]
        ordered = [r for r in ordered if r.pk != rule.pk]
        to_index = max(0, min(to_index, len(ordered)))
        ordered.insert(to_index, rule)
        for index, item in enumerate(ordered, start=1):
            item.position = index
        Rule.objects.bulk_update(ordered, ["position"])
        after = [r.name for r in ordered]
        if after != before:
            _record(rule, rule.name, "reordered", author, {"order": before}, {"order": after})
            bump_version()


def _renumber() -> None:
    ordered = list(Rule.objects.order_by("position", "pk"))
    for index, item in enumerate(ordered, start=1):
        item.position = index
    Rule.objects.bulk_update(ordered, ["position"])


def default_action_set(*, action: str, author: str) -> None:
    if action not in Decision.values:
        raise ValidationError(f"default action must be one of {', '.join(Decision.values)}")
    with transaction.atomic():
        settings_row = rule_settings()
        if settings_row.default_action != action:
            _record(
                None,
                "(default action)",
                "updated",
                author,
                {"default_action": settings_row.default_action},
                {"default_action": action},
            )
            settings_row.default_action = action
            settings_row.save(update_fields=["default_action"])
            bump_version()


# --- silences ---------------------------------------------------------------------------------


def silence_create(
    *, conditions: list[Mapping[str, Any]], match_mode: str, starts_at, ends_at, author: str, comment: str
) -> Silence:
    if not comment.strip():
        raise ValidationError("say why you silence these alerts (the comment is shown to everyone)")
    if ends_at <= starts_at:
        raise ValidationError("a silence must end after it starts")
    if not conditions:
        raise ValidationError("a silence needs at least one condition (it would silence everything)")
    try:
        parsed = [parse_condition(c, f"condition {i + 1}").as_dict() for i, c in enumerate(conditions)]
    except ConditionError as error:
        raise ValidationError(str(error)) from None
    if match_mode not in ("all", "any"):
        raise ValidationError("match must be 'all' or 'any'")
    with transaction.atomic():
        silence = Silence.objects.create(
            conditions=parsed,
            match_mode=match_mode,
            starts_at=starts_at,
            ends_at=ends_at,
            author=author,
            comment=comment.strip(),
        )
        _record(
            None,
            f"silence #{silence.pk}",
            "created",
            author,
            after={
                "conditions": parsed,
                "comment": comment,
                "starts_at": starts_at.isoformat(),
                "ends_at": ends_at.isoformat(),
            },
        )
        bump_version()
    return silence


def silence_expire(*, silence: Silence, author: str) -> Silence:
    with transaction.atomic():
        if silence.expired_early_at is None and silence.ends_at > timezone.now():
            silence.expired_early_at = timezone.now()
            silence.save(update_fields=["expired_early_at"])
            _record(None, f"silence #{silence.pk}", "expired", author)
            bump_version()
    return silence


# --- rules as code ----------------------------------------------------------------------------


def rules_export_yaml() -> str:
    rules = []
    for rule in Rule.objects.order_by("position", "pk"):
        data = rule_snapshot(rule)
        data.pop("position")
        data["match"] = data.pop("match_mode")
        rules.append({key: value for key, value in data.items() if value not in ("", None) or key == "name"})
    document = {"version": EXPORT_VERSION, "default_action": rule_settings().default_action, "rules": rules}
    header = "# OpsWorker alert rules, evaluated top to bottom; the first match decides.\n"
    return header + yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=110)


@dataclasses.dataclass(frozen=True)
class ImportResult:
    created: int
    removed: int


def rules_import_yaml(*, text: str, author: str) -> ImportResult:
    """Replace all rules with the file's, or change nothing and say what is wrong (every problem)."""
    if len(text) > 1_000_000:
        raise ValidationError("the file is larger than 1 MB")
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ValidationError(f"not valid YAML{where}: {getattr(error, 'problem', error)}") from None
    if not isinstance(document, dict) or not isinstance(document.get("rules"), list):
        raise ValidationError("the file must be a mapping with a 'rules' list (as exported)")
    if document.get("version", EXPORT_VERSION) != EXPORT_VERSION:
        raise ValidationError(f"unsupported version {document.get('version')!r}; this server reads version 1")
    default_action = document.get("default_action", "record")
    problems, cleaned = [], []
    if default_action not in Decision.values:
        problems.append(f"default_action must be one of {', '.join(Decision.values)}")
    for index, raw in enumerate(document["rules"], start=1):
        try:
            cleaned.append(_validated(raw if isinstance(raw, dict) else {}, where=f"rule {index}"))
        except ValidationError as error:
            problems.extend(error.messages)
    names = [c["name"] for c in cleaned]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        problems.append(f"rule names must be unique; repeated: {', '.join(duplicates)}")
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        removed = Rule.objects.count()
        old = [rule_snapshot(r) for r in Rule.objects.order_by("position")]
        Rule.objects.all().delete()
        for position, clean in enumerate(cleaned, start=1):
            Rule.objects.create(**clean, position=position, created_by=author, updated_by=author)
        settings_row = rule_settings()
        settings_row.default_action = default_action
        settings_row.save(update_fields=["default_action"])
        _record(
            None,
            "(all rules)",
            "imported",
            author,
            {"rules": old},
            {"rules": cleaned, "default_action": default_action},
        )
        bump_version()
    return ImportResult(created=len(cleaned), removed=removed)
