"""Readable differences between two snapshots of a rule (for the history page)."""

from __future__ import annotations

import dataclasses
from typing import Any

from alerts.rules.conditions import ConditionError, field_label, parse_condition

_LABELS = {
    "name": "Name",
    "description": "Description",
    "enabled": "Enabled",
    "match_mode": "Match",
    "action": "Action",
    "target_cluster": "Target cluster",
    "dedup_window_minutes": "Dedup window (min)",
    "max_investigations_per_hour": "Max investigations / hour",
    "notify_channel": "Notification channel",
    "position": "Position",
    "default_action": "Default action",
    "order": "Evaluation order",
}


@dataclasses.dataclass(frozen=True)
class FieldChange:
    label: str
    before: str
    after: str


def describe_conditions(conditions: list[dict[str, Any]] | None) -> list[str]:
    lines = []
    for raw in conditions or []:
        try:
            condition = parse_condition(raw)
        except ConditionError:
            lines.append(str(raw))
            continue
        lines.append(condition.describe().replace(condition.field, field_label(condition.field), 1))
    return lines


def _show(value: Any) -> str:
    if value in (None, ""):
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return " → ".join(map(str, value))
    return str(value)


def diff_snapshots(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[FieldChange]:
    """Field-by-field changes; conditions are compared as readable lines (added/removed)."""
    before, after = before or {}, after or {}
    changes: list[FieldChange] = []
    for key in dict.fromkeys([*before, *after]):
        if key in ("conditions", "rules"):
            continue
        if before.get(key) != after.get(key):
            changes.append(FieldChange(_LABELS.get(key, key), _show(before.get(key)), _show(after.get(key))))
    old, new = describe_conditions(before.get("conditions")), describe_conditions(after.get("conditions"))
    for line in old:
        if line not in new:
            changes.append(FieldChange("Condition removed", line, "—"))
    for line in new:
        if line not in old:
            changes.append(FieldChange("Condition added", "—", line))
    if "rules" in before or "rules" in after:
        changes.append(
            FieldChange(
                "Rules", f"{len(before.get('rules') or [])} rules", f"{len(after.get('rules') or [])} rules"
            )
        )
    return changes
