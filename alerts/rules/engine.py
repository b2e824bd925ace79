"""Evaluation: active silences first, then rules in order; the first matching rule decides.

Pure: works on plain data (RuleSpec, SilenceSpec, subject dicts), so the webhook, the editor's
preview, "test against a signal" and the benchmark all run exactly the same code.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from alerts.rules.conditions import Condition, ConditionError, Predicate, compile_condition, parse_condition

ACTIONS = ("investigate", "record", "suppress")
DEFAULT_DEDUP_WINDOW_MINUTES = 30
MATCH_ALL = "all"
MATCH_ANY = "any"


@dataclasses.dataclass(frozen=True)
class RuleSpec:
    """A rule as the engine needs it (built from the model, a YAML file or a form)."""

    id: int | None
    name: str
    conditions: tuple[Condition, ...]
    action: str
    match_mode: str = MATCH_ALL
    enabled: bool = True
    target_cluster: str = ""
    dedup_window_minutes: int = 0
    max_investigations_per_hour: int | None = None
    notify_channel: str = ""


@dataclasses.dataclass(frozen=True)
class SilenceSpec:
    id: int | None
    conditions: tuple[Condition, ...]
    starts_at: datetime
    ends_at: datetime
    match_mode: str = MATCH_ALL
    comment: str = ""

    def active_at(self, when: datetime) -> bool:
        return self.starts_at <= when < self.ends_at


@dataclasses.dataclass(frozen=True)
class Evaluation:
    """The decision for one subject and why."""

    action: str
    rule: RuleSpec | None
    silence: SilenceSpec | None
    reason: str
    # For each enabled rule before the deciding one: (rule name, why it did not match).
    passed_over: tuple[tuple[str, str], ...] = ()


class _CompiledRule:
    __slots__ = ("predicates", "spec")

    def __init__(self, spec: RuleSpec):
        self.spec = spec
        self.predicates: list[tuple[Condition, Predicate]] = [
            (c, compile_condition(c)) for c in spec.conditions
        ]

    def match(self, subject: Mapping[str, Any]) -> bool:
        if not self.predicates:
            return True  # a rule without conditions matches everything (a catch-all)
        if self.spec.match_mode == MATCH_ANY:
            return any(predicate(subject) for _c, predicate in self.predicates)
        return all(predicate(subject) for _c, predicate in self.predicates)

    def why_not(self, subject: Mapping[str, Any]) -> str:
        failed = [c for c, predicate in self.predicates if not predicate(subject)]
        if self.spec.match_mode == MATCH_ANY:
            return "no condition matched"
        return "; ".join(f"not ({c.describe()})" for c in failed[:3]) or "did not match"


class RuleSet:
    """Compiled silences and enabled rules of one organization, in evaluation order."""

    def __init__(
        self, rules: Iterable[RuleSpec], silences: Iterable[SilenceSpec] = (), default_action: str = "record"
    ):
        self.rules = [_CompiledRule(rule) for rule in rules if rule.enabled]
        self.silences = [
            (s, _CompiledRule(RuleSpec(s.id, "silence", s.conditions, "suppress", s.match_mode)))
            for s in silences
        ]
        self.default_action = default_action

    def evaluate(self, subject: Mapping[str, Any], *, now: datetime, explain: bool = False) -> Evaluation:
        for silence, compiled in self.silences:
            if silence.active_at(now) and compiled.match(subject):
                return Evaluation(
                    "suppress", None, silence, f"silenced by silence #{silence.id}: {silence.comment}"[:300]
                )
        passed: list[tuple[str, str]] = []
        for compiled in self.rules:
            if compiled.match(subject):
                spec = compiled.spec
                return Evaluation(spec.action, spec, None, f"rule {spec.name!r} matched", tuple(passed))
            if explain:
                passed.append((compiled.spec.name, compiled.why_not(subject)))
        return Evaluation(
            self.default_action,
            None,
            None,
            f"no rule matched; the organization's default is {self.default_action}",
            tuple(passed),
        )


def rule_spec_from_dict(
    data: Mapping[str, Any], *, where: str = "rule", rule_id: int | None = None
) -> RuleSpec:
    """Validate one rule given as plain data (YAML import, forms); raises ConditionError/ValueError."""
    if not isinstance(data, Mapping):
        raise ConditionError(f"{where} must be a mapping")
    name = str(data.get("name") or "").strip()
    if not name or len(name) > 120:
        raise ConditionError(f"{where}: name is required (at most 120 characters)")
    action = str(data.get("action") or "")
    if action not in ACTIONS:
        raise ConditionError(f"{where} ({name}): action must be one of {', '.join(ACTIONS)}")
    match_mode = str(data.get("match", data.get("match_mode", MATCH_ALL)))
    if match_mode not in (MATCH_ALL, MATCH_ANY):
        raise ConditionError(f"{where} ({name}): match must be 'all' or 'any'")
    raw_conditions = data.get("conditions") or []
    if not isinstance(raw_conditions, Sequence) or isinstance(raw_conditions, (str, bytes)):
        raise ConditionError(f"{where} ({name}): conditions must be a list")
    if len(raw_conditions) > 50:
        raise ConditionError(f"{where} ({name}): at most 50 conditions")
    conditions = tuple(
        parse_condition(c, f"{where} ({name}), condition {i + 1}") for i, c in enumerate(raw_conditions)
    )
    # Absent means the product default (the model's and the editor's), not "no dedup window".
    dedup: Any = data.get("dedup_window_minutes")
    dedup = DEFAULT_DEDUP_WINDOW_MINUTES if dedup in (None, "") else dedup
    cap: Any = data.get("max_investigations_per_hour")
    try:
        dedup = int(dedup)
        cap = None if cap in (None, "") else int(cap)
    except (TypeError, ValueError):
        raise ConditionError(f"{where} ({name}): dedup window and hourly cap must be whole numbers") from None
    if not 0 <= dedup <= 7 * 24 * 60 or (cap is not None and not 0 <= cap <= 100000):
        raise ConditionError(f"{where} ({name}): dedup window 0 to 10080 minutes, hourly cap 0 to 100000")
    return RuleSpec(
        id=rule_id,
        name=name,
        conditions=conditions,
        action=action,
        match_mode=match_mode,
        enabled=bool(data.get("enabled", True)),
        target_cluster=str(data.get("target_cluster") or "")[:253],
        dedup_window_minutes=dedup,
        max_investigations_per_hour=cap,
        notify_channel=str(data.get("notify_channel") or "")[:200],
    )


def subject_from_signal(signal, integration_name: str = "") -> dict[str, Any]:
    """The fields conditions read, from a Signal (saved or not)."""
    return {
        "source": signal.source,
        "integration": integration_name or (signal.integration.name if signal.integration_id else ""),
        "alertname": signal.alertname,
        "severity": signal.severity,
        "status": signal.status,
        "cluster": signal.cluster,
        "namespace": signal.namespace,
        "pod": signal.pod,
        "workload": signal.workload,
        "node": signal.node,
        "summary": signal.summary,
        "description": signal.description,
        "labels": signal.labels or {},
        "annotations": signal.annotations or {},
    }
