"""Label and field selectors, parsed and matched the way the API server does."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import ApiError

# ---------------------------------------------------------------- label selectors

_KEY = r"[A-Za-z0-9](?:[-A-Za-z0-9_./]*[A-Za-z0-9])?"
_VALUE = r"(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?)?"
_SET_RE = re.compile(rf"^\s*(?P<key>{_KEY})\s+(?P<op>in|notin)\s*\((?P<values>[^()]*)\)\s*$")
_EXISTS_RE = re.compile(rf"^\s*(?P<neg>!?)\s*(?P<key>{_KEY})\s*$")
_CMP_RE = re.compile(rf"^\s*(?P<key>{_KEY})\s*(?P<op>==|!=|=|>|<)\s*(?P<value>{_VALUE})\s*$")


@dataclass(frozen=True)
class LabelRequirement:
    key: str
    op: str  # "=", "!=", "in", "notin", "exists", "!", ">", "<"
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        if self.op == "exists":
            return present
        if self.op == "!":
            return not present
        if self.op in ("=", "in"):
            return present and value in self.values
        if self.op in ("!=", "notin"):
            return not present or value not in self.values
        # ">" / "<": both sides must be integers
        try:
            number, bound = int(value or ""), int(self.values[0])
        except ValueError:
            return False
        return number > bound if self.op == ">" else number < bound


def _split_top_level(text: str) -> list[str]:
    """Split on commas that are not inside parentheses."""
    parts, depth, current = [], 0, []
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def parse_label_selector(text: str | None) -> tuple[LabelRequirement, ...]:
    """Parse `a=b,c!=d,e in (x,y),f notin (z),g,!h`; empty means everything."""
    if not text or not text.strip():
        return ()
    requirements = []
    for raw in _split_top_level(text):
        if not raw.strip():
            raise ApiError.bad_request(
                f"unable to parse requirement: found '', expected: identifier in {text!r}"
            )
        if m := _SET_RE.match(raw):
            values = tuple(v.strip() for v in m["values"].split(",") if v.strip())
            requirements.append(LabelRequirement(m["key"], m["op"], values))
        elif m := _CMP_RE.match(raw):
            op = "=" if m["op"] == "==" else m["op"]
            if op in (">", "<") and not re.fullmatch(r"-?\d+", m["value"]):
                raise ApiError.bad_request(
                    f"unable to parse requirement: for 'Gt', 'Lt' operators, "
                    f"the value must be an integer: {raw.strip()!r}"
                )
            requirements.append(LabelRequirement(m["key"], op, (m["value"],)))
        elif m := _EXISTS_RE.match(raw):
            requirements.append(LabelRequirement(m["key"], "!" if m["neg"] else "exists"))
        else:
            raise ApiError.bad_request(f"unable to parse requirement: {raw.strip()!r}")
    return tuple(requirements)


def labels_match(requirements: tuple[LabelRequirement, ...], labels: Mapping[str, str] | None) -> bool:
    labels = labels or {}
    return all(r.matches(labels) for r in requirements)


# ---------------------------------------------------------------- field selectors


@dataclass(frozen=True)
class FieldRequirement:
    field: str
    value: str
    negate: bool

    def matches(self, actual: str) -> bool:
        return (actual != self.value) if self.negate else (actual == self.value)


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value)


def parse_field_selector(text: str | None) -> tuple[FieldRequirement, ...]:
    """Parse `a=b,c!=d` (also `==`); backslash escapes `,` `=` and `!` in values."""
    if not text or not text.strip():
        return ()
    requirements = []
    for raw in re.split(r"(?<!\\),", text):
        m = re.fullmatch(r"\s*([^=!\s]+)\s*(==|!=|=)(.*)", raw)
        if not m:
            raise ApiError.bad_request(f"invalid selector: '{text}'; can't understand '{raw}'")
        requirements.append(FieldRequirement(m[1], _unescape(m[3].strip()), m[2] == "!="))
    return tuple(requirements)


def _path(*keys: str) -> Callable[[Mapping[str, Any]], str]:
    def get(obj: Mapping[str, Any]) -> str:
        value: Any = obj
        for key in keys:
            value = value.get(key) if isinstance(value, Mapping) else None
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    return get


def _event_source(obj: Mapping[str, Any]) -> str:
    return _path("source", "component")(obj) or _path("reportingComponent")(obj)


_EVENT_FIELDS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    **{
        f"involvedObject.{f}": _path("involvedObject", f)
        for f in ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")
    },
    "reason": _path("reason"),
    "reportingComponent": _path("reportingComponent"),
    "source": _event_source,
    "type": _path("type"),
}

# Field labels per kind beyond metadata.name / metadata.namespace, as the API server registers them.
# Events are matched on their core/v1 form whichever API group was asked.
KIND_FIELDS: dict[str, dict[str, Callable[[Mapping[str, Any]], str]]] = {
    "Pod": {
        "spec.nodeName": _path("spec", "nodeName"),
        "spec.restartPolicy": _path("spec", "restartPolicy"),
        "spec.schedulerName": _path("spec", "schedulerName"),
        "spec.serviceAccountName": _path("spec", "serviceAccountName"),
        "spec.hostNetwork": lambda o: _path("spec", "hostNetwork")(o) or "false",
        "status.phase": _path("status", "phase"),
        "status.podIP": _path("status", "podIP"),
        "status.nominatedNodeName": _path("status", "nominatedNodeName"),
    },
    "Event": {
        **_EVENT_FIELDS,
        # events.k8s.io/v1 names for the same fields
        **{
            f"regarding.{f}": _path("involvedObject", f)
            for f in ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")
        },
        "reportingController": _path("reportingComponent"),
        "deprecatedSource": _event_source,
    },
    "Node": {"spec.unschedulable": lambda o: _path("spec", "unschedulable")(o) or "false"},
    "Namespace": {"status.phase": _path("status", "phase")},
    "ReplicaSet": {"status.replicas": lambda o: _path("status", "replicas")(o) or "0"},
    "ReplicationController": {"status.replicas": lambda o: _path("status", "replicas")(o) or "0"},
    "Job": {"status.successful": lambda o: _path("status", "succeeded")(o) or "0"},
    "Secret": {"type": _path("type")},
}


def field_getters(kind: str, namespaced: bool) -> dict[str, Callable[[Mapping[str, Any]], str]]:
    getters = {"metadata.name": _path("metadata", "name")}
    if namespaced:
        getters["metadata.namespace"] = _path("metadata", "namespace")
    getters.update(KIND_FIELDS.get(kind, {}))
    return getters


def compile_field_selector(
    requirements: tuple[FieldRequirement, ...], kind: str, namespaced: bool
) -> Callable[[Mapping[str, Any]], bool]:
    """A predicate over raw objects; unknown field labels are a 400 like the real API."""
    getters = field_getters(kind, namespaced)
    for requirement in requirements:
        if requirement.field not in getters:
            raise ApiError.bad_request(f"field label not supported: {requirement.field}")

    def predicate(obj: Mapping[str, Any]) -> bool:
        return all(r.matches(getters[r.field](obj)) for r in requirements)

    return predicate
