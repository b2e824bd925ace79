"""The records of the change timeline: one change, one field's before → after, the timeline."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from typing import Any

from investigations.engine.evidence import Ref, parse_time
from investigations.engine.managed_fields import Edit

NOT_RECORDED = "(not recorded)"
ABSENT = "(none)"


@dataclasses.dataclass
class FieldChange:
    """One field, before → after; "(not recorded)" when the cluster keeps no earlier value."""

    field: str
    before: Any = NOT_RECORDED
    after: Any = None

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "before": display(self.before), "after": display(self.after)}

    def text(self) -> str:
        return f"{self.field}: {display(self.before)} → {display(self.after)}"


@dataclasses.dataclass(eq=False)
class TimedChange:
    """One thing that happened to one object: when, who, what, and the fields it changed."""

    resource: Ref
    time: str  # ISO; "" when not recorded
    who: str
    what: str
    details: list[FieldChange] = dataclasses.field(default_factory=list)
    containers: set[str] = dataclasses.field(default_factory=set)
    touches_cause: bool = False
    relative: str = ""
    # how it was found, and what the merge step needs
    source: str = ""  # rollout | edit | scale-edit | drift | created | scale-event | rescale
    edit: Edit | None = None
    replica_sets: tuple[str, ...] = ()
    scaled: Ref | None = None

    @property
    def moment(self) -> datetime | None:
        return parse_time(self.time)

    def as_dict(self) -> dict[str, Any]:
        return {
            "resource": self.resource.as_dict(),
            "time": self.time,
            "relative": self.relative,
            "who": self.who or NOT_RECORDED,
            "what": self.what,
            "details": [d.as_dict() for d in self.details],
            "touches_cause": self.touches_cause,
        }


@dataclasses.dataclass
class Timeline:
    """The changes, and what their relative times are counted from."""

    changes: list[TimedChange]  # newest first
    basis: str  # "alert" | "capture"
    basis_time: str

    def as_dicts(self) -> list[dict[str, Any]]:
        return [c.as_dict() for c in self.changes]

    def basis_dict(self) -> dict[str, str]:
        return {"basis": self.basis, "time": self.basis_time}


def display(value: Any, limit: int = 300) -> str:
    """A value as the page and the JSON show it: text, compact JSON for structures, "(none)" when absent."""
    if value is None:
        return ABSENT
    if isinstance(value, str):
        text = value
    elif isinstance(value, dict | list):
        text = json.dumps(value, separators=(",", ":"), sort_keys=True, default=str)
    else:
        text = str(value).lower() if isinstance(value, bool) else str(value)
    return text if len(text) <= limit else text[:limit] + "…"
