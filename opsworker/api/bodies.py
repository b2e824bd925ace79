"""Request bodies, declared once: strict JSON types (no "45" for 45, no true for 1), unknown
fields refused. Meaning (conditions, regexes, known clusters) is checked by the owning service."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from ninja import Field, Schema
from pydantic import BeforeValidator, ConfigDict, StrictBool, StrictInt, StrictStr, StringConstraints

from alerts.models import Decision


def _integral(value: Any) -> Any:
    """JSON has one number type: 45.0 is 45; true is not a number."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _text(max_length: int) -> Any:
    return Annotated[StrictStr, StringConstraints(max_length=max_length)]


# The bounds come before the validator, or pydantic leaves them out of the JSON schema.
Minutes = Annotated[StrictInt, Field(ge=0, le=7 * 24 * 60), BeforeValidator(_integral)]
PerHour = Annotated[StrictInt, Field(ge=0, le=100_000), BeforeValidator(_integral)]
Position = Annotated[StrictInt, Field(ge=1, le=100_000), BeforeValidator(_integral)]
Conditions = Annotated[list[dict[str, Any]], Field(max_length=50)]
Action = Literal[tuple(Decision.values)]  # type: ignore[valid-type]


class Body(Schema):
    model_config = ConfigDict(extra="forbid")


class InvestigationStartIn(Body):
    cluster: _text(100)
    namespace: _text(253) = ""
    kind: _text(40)
    name: _text(253)


class RuleIn(Body):
    """A whole rule (POST, PUT); `position` is 1-based and moves the rule there."""

    name: _text(120)
    action: Action
    description: _text(5000) = ""
    enabled: StrictBool = True
    match_mode: Literal["all", "any"] = "all"
    conditions: Conditions = []
    target_cluster: _text(253) = ""
    dedup_window_minutes: Minutes = 30
    max_investigations_per_hour: PerHour | None = None
    notify_channel: _text(200) = ""
    position: Position | None = None


class RulePatch(Body):
    """Only the fields sent change (PATCH); a field sent as null is refused unless it may be empty."""

    name: _text(120) = None
    action: Action = None
    description: _text(5000) = None
    enabled: StrictBool = None
    match_mode: Literal["all", "any"] = None
    conditions: Conditions = None
    target_cluster: _text(253) = None
    dedup_window_minutes: Minutes = None
    max_investigations_per_hour: PerHour | None = None
    notify_channel: _text(200) = None
    position: Position | None = None


class SilenceIn(Body):
    """Silence the signals matching the conditions from `starts_at` (default now) to `ends_at`."""

    conditions: Conditions
    match_mode: Literal["all", "any"] = "all"
    starts_at: datetime | None = None
    ends_at: datetime
    comment: _text(5000)


class RulesImportIn(Body):
    """A rules file as exported: replaces every rule and the default action, or changes nothing."""

    yaml: Annotated[StrictStr, StringConstraints(max_length=1_000_000)]


class RulesExportOut(Schema):
    yaml: str


class DefaultActionIn(Body):
    default_action: Action
