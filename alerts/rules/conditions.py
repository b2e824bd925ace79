"""Condition fields and operators, validation, and compilation to fast predicates.

Regexes use RE2 (google-re2): matching is linear in the input, so no pattern a user types can hang
the webhook (Python's `re` backtracks exponentially on patterns like `(a+)+$`). Patterns RE2 cannot
express (backreferences, look-around) are refused on save with RE2's own message.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from typing import Any

import re2

FIXED_FIELDS = {
    "source": "Source",
    "integration": "Integration name",
    "alertname": "Alert name",
    "severity": "Severity",
    "status": "Status",
    "cluster": "Cluster",
    "namespace": "Namespace",
    "pod": "Pod",
    "workload": "Workload",
    "node": "Node",
    "summary": "Summary",
    "description": "Description",
}
PREFIXED_FIELDS = {"label": "Label", "annotation": "Annotation"}

OPERATORS = {
    "equals": "equals",
    "not_equals": "does not equal",
    "in": "is one of",
    "not_in": "is none of",
    "regex": "matches regex",
    "not_regex": "does not match regex",
    "contains": "contains",
    "exists": "exists",
    "not_exists": "does not exist",
    "severity_at_least": "severity at least",
}
VALUELESS = {"exists", "not_exists"}
LIST_OPERATORS = {"in", "not_in"}
SEVERITY_RANK = {"info": 1, "warning": 2, "critical": 3}
MAX_VALUE_LENGTH = 2000
MAX_LIST_ITEMS = 200


class ConditionError(ValueError):
    """A condition that cannot be saved; the message says which part is wrong and why."""


@dataclasses.dataclass(frozen=True)
class Condition:
    field: str
    operator: str
    value: Any = None

    def as_dict(self) -> dict[str, Any]:
        data = {"field": self.field, "operator": self.operator}
        if self.operator not in VALUELESS:
            data["value"] = self.value
        return data

    def describe(self) -> str:
        if self.operator in VALUELESS:
            return f"{self.field} {OPERATORS[self.operator]}"
        value = ", ".join(self.value) if isinstance(self.value, list) else self.value
        return (
            f"{self.field} {OPERATORS[self.operator]} {value!r}"
            if self.operator not in LIST_OPERATORS
            else (f"{self.field} {OPERATORS[self.operator]} [{value}]")
        )


def field_label(field: str) -> str:
    prefix, _, key = field.partition(":")
    if key and prefix in PREFIXED_FIELDS:
        return f"{PREFIXED_FIELDS[prefix]} {key}"
    return FIXED_FIELDS.get(field, field)


def parse_condition(data: Mapping[str, Any], where: str = "condition") -> Condition:
    """Validate a condition dict (from a form, YAML or JSON) into a Condition."""
    if not isinstance(data, Mapping):
        raise ConditionError(f"{where} must be a mapping with field, operator and value")
    field = str(data.get("field") or "").strip()
    operator = str(data.get("operator") or "").strip()
    prefix, sep, key = field.partition(":")
    if sep:
        if prefix not in PREFIXED_FIELDS or not key.strip() or len(key) > 316:
            raise ConditionError(f"{where}: field {field!r} — use label:<key> or annotation:<key>")
        field = f"{prefix}:{key.strip()}"
    elif field not in FIXED_FIELDS:
        raise ConditionError(
            f"{where}: unknown field {field!r}; choose one of {', '.join(FIXED_FIELDS)}, "
            "label:<key>, annotation:<key>"
        )
    if operator not in OPERATORS:
        raise ConditionError(f"{where}: unknown operator {operator!r}; choose one of {', '.join(OPERATORS)}")
    value = data.get("value")
    if operator in VALUELESS:
        value = None
    elif operator in LIST_OPERATORS:
        if isinstance(value, str):
            value = [item.strip() for item in value.split(",")]
        if not isinstance(value, list) or not value:
            raise ConditionError(f"{where}: {OPERATORS[operator]!r} needs a list of values (comma-separated)")
        value = [str(item) for item in value if str(item) != ""]
        if not value or len(value) > MAX_LIST_ITEMS:
            raise ConditionError(f"{where}: give between 1 and {MAX_LIST_ITEMS} values")
    else:
        if value is None or (isinstance(value, (list, dict))):
            raise ConditionError(f"{where}: {OPERATORS[operator]!r} needs a single value")
        value = str(value)
        if value == "":
            raise ConditionError(f"{where}: the value is empty")
    if isinstance(value, str) and len(value) > MAX_VALUE_LENGTH:
        raise ConditionError(f"{where}: the value is longer than {MAX_VALUE_LENGTH} characters")
    if operator == "severity_at_least":
        if field != "severity":
            raise ConditionError(f"{where}: 'severity at least' only applies to the severity field")
        if value not in SEVERITY_RANK:
            raise ConditionError(f"{where}: severity must be one of info, warning, critical")
    if operator in ("regex", "not_regex"):
        compile_regex(str(value), where)
    return Condition(field, operator, value)


def compile_regex(pattern: str, where: str = "condition"):
    options = re2.Options()
    options.max_mem = 8 << 20  # bound memory of huge alternations too
    options.log_errors = False  # the message goes to the person who typed it, not to stderr
    try:
        return re2.compile(pattern, options)
    except re2.error as error:
        raise ConditionError(f"{where}: invalid regular expression: {regex_error_text(error)}") from None


_RE2_LACKS = re.compile(r"^(invalid perl operator: \(\?<?[=!]|invalid escape sequence: \\[1-9])")


def regex_error_text(error: Exception) -> str:
    """RE2's reason as text (it raises with bytes: `b'missing ): …'`), with a hint for what it lacks."""
    reason = error.args[0] if error.args else ""
    if isinstance(reason, bytes):
        reason = reason.decode("utf-8", "replace")
    reason = str(reason).strip() or "not a valid pattern"
    if _RE2_LACKS.match(reason):
        reason += " (RE2 has no look-around or backreferences)"
    return reason


def subject_value(subject: Mapping[str, Any], field: str) -> str | None:
    """The field's value in a subject dict (see engine.subject_from_signal); None when absent."""
    prefix, sep, key = field.partition(":")
    if sep:
        container = subject.get("labels" if prefix == "label" else "annotations") or {}
        value = container.get(key)
        return None if value is None else str(value)
    value = subject.get(field)
    return value if value else None


Predicate = Callable[[Mapping[str, Any]], bool]


def compile_condition(condition: Condition) -> Predicate:
    """A predicate over a subject dict. Missing fields: positive operators are false, negative true."""
    field, operator, value = condition.field, condition.operator, condition.value

    def get(subject: Mapping[str, Any]) -> str | None:
        return subject_value(subject, field)

    if operator == "equals":
        return lambda s: get(s) == value
    if operator == "not_equals":
        return lambda s: get(s) != value
    if operator in LIST_OPERATORS:
        members = frozenset(value)
        if operator == "in":
            return lambda s: get(s) in members
        return lambda s: get(s) not in members
    if operator in ("regex", "not_regex"):
        pattern = compile_regex(value)
        if operator == "regex":
            return lambda s: (v := get(s)) is not None and pattern.search(v) is not None
        return lambda s: (v := get(s)) is None or pattern.search(v) is None
    if operator == "contains":
        needle = value.casefold()
        return lambda s: (v := get(s)) is not None and needle in v.casefold()
    if operator == "exists":
        return lambda s: get(s) is not None
    if operator == "not_exists":
        return lambda s: get(s) is None
    if operator == "severity_at_least":
        floor = SEVERITY_RANK[value]
        return lambda s: SEVERITY_RANK.get(get(s) or "", 0) >= floor
    raise ConditionError(f"unknown operator {operator!r}")
