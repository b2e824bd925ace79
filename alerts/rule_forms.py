"""Forms of the rule editor and silences: rule options, condition rows (validated row by row so an
error is shown where it was typed), default action, YAML import, and the silence window."""

from __future__ import annotations

import dataclasses
import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.text import capfirst

from alerts.models import Decision, MatchMode
from alerts.rules.conditions import (
    FIXED_FIELDS,
    OPERATORS,
    PREFIXED_FIELDS,
    VALUELESS,
    ConditionError,
    parse_condition,
)

# The field <select>: fixed fields, then "label"/"annotation" which take a key in a second input.
FIELD_CHOICES = [*FIXED_FIELDS.items(), *((prefix, f"{label}…") for prefix, label in PREFIXED_FIELDS.items())]
OPERATOR_CHOICES = list(OPERATORS.items())
MAX_ROWS = 50
_ROW_ID = re.compile(r"^[a-z0-9]{1,16}$")


def new_row_id() -> str:
    return secrets.token_hex(4)


@dataclasses.dataclass
class ConditionRow:
    """One condition row as typed (re-rendered as is, with its error next to it)."""

    id: str
    field: str = "namespace"  # a FIXED_FIELDS key or a PREFIXED_FIELDS prefix
    key: str = ""  # the label/annotation key
    operator: str = "equals"
    value: str = ""
    error: str = ""

    @property
    def full_field(self) -> str:
        return f"{self.field}:{self.key.strip()}" if self.field in PREFIXED_FIELDS else self.field

    @property
    def is_blank(self) -> bool:
        return not self.value.strip() and not self.key.strip() and self.operator not in VALUELESS

    def as_data(self) -> dict[str, Any]:
        return {"field": self.full_field, "operator": self.operator, "value": self.value}

    @classmethod
    def from_condition(cls, condition: dict[str, Any]) -> ConditionRow:
        prefix, sep, key = str(condition.get("field", "")).partition(":")
        value = condition.get("value")
        if isinstance(value, list):
            value = ", ".join(map(str, value))
        return cls(
            id=new_row_id(),
            field=prefix,
            key=key if sep else "",
            operator=str(condition.get("operator", "equals")),
            value="" if value is None else str(value),
        )


@dataclasses.dataclass
class ConditionRows:
    """The rows of a posted form: what was typed, the valid conditions and the errors per row."""

    rows: list[ConditionRow]
    conditions: list[dict[str, Any]]

    @property
    def errors(self) -> dict[str, str]:
        return {row.id: row.error for row in self.rows if row.error}

    @property
    def valid(self) -> bool:
        return not self.errors


def rows_from_post(data, *, add_row: bool = False, skip_blank: bool = False) -> ConditionRows:
    """Read the parallel lists row_id/field/key/operator/value and validate each row on its own.

    `skip_blank` (the live preview): a row not filled in yet is left out instead of flagged.
    """
    ids = data.getlist("row_id")[:MAX_ROWS]
    columns = {name: data.getlist(name) for name in ("field", "key", "operator", "value")}
    rows, conditions, seen = [], [], set()
    for index, row_id in enumerate(ids):
        if not _ROW_ID.match(row_id) or row_id in seen:
            row_id = new_row_id()
        seen.add(row_id)

        def column(name: str, index: int = index) -> str:
            values = columns[name]
            return values[index][:2000] if index < len(values) else ""

        row = ConditionRow(row_id, column("field"), column("key"), column("operator"), column("value"))
        if skip_blank and row.is_blank:
            rows.append(row)
            continue
        try:
            condition = parse_condition(row.as_data(), f"condition {index + 1}")
        except ConditionError as error:
            # The row is shown next to its message, so drop the "condition N: " prefix.
            row.error = capfirst(str(error).split(": ", 1)[-1])
        else:
            conditions.append(condition.as_dict())
        rows.append(row)
    if add_row:
        rows.append(ConditionRow(new_row_id()))
    return ConditionRows(rows, conditions)


def rows_from_conditions(conditions: list[dict[str, Any]]) -> list[ConditionRow]:
    return [ConditionRow.from_condition(c) for c in conditions]


class RuleForm(forms.Form):
    """A rule's options; its conditions come from the rows (rows_from_post)."""

    name = forms.CharField(
        max_length=120, help_text="Shown on every signal it decides, e.g. “Prod criticals”."
    )
    description = forms.CharField(
        required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2}), help_text="Why it exists."
    )
    enabled = forms.BooleanField(required=False, initial=True)
    match_mode = forms.ChoiceField(label="Match", choices=MatchMode.choices, initial=MatchMode.ALL)
    action = forms.ChoiceField(choices=Decision.choices, initial=Decision.INVESTIGATE)
    target_cluster = forms.CharField(
        required=False,
        max_length=253,
        help_text="Cluster to investigate in; empty: the signal's cluster, else its integration's.",
    )
    dedup_window_minutes = forms.IntegerField(
        label="Dedup window (minutes)",
        min_value=0,
        max_value=7 * 24 * 60,
        initial=30,
        help_text="The same alert name + namespace + resource within this window joins the open one.",
    )
    max_investigations_per_hour = forms.IntegerField(
        label="Max investigations per hour",
        required=False,
        min_value=0,
        max_value=100000,
        help_text="Cost guard; excess signals are recorded with the reason. Empty: no cap.",
    )
    notify_channel = forms.CharField(
        label="Notification channel",
        required=False,
        max_length=200,
        help_text="Overrides the default channel.",
    )

    def rule_data(self, conditions: list[dict[str, Any]]) -> dict[str, Any]:
        return {**self.cleaned_data, "conditions": conditions}


class DefaultActionForm(forms.Form):
    action = forms.ChoiceField(choices=Decision.choices)


class RuleImportForm(forms.Form):
    text = forms.CharField(
        label="YAML",
        required=False,
        widget=forms.Textarea(attrs={"rows": 16, "spellcheck": "false", "class": "mono"}),
    )
    file = forms.FileField(label="…or upload a file", required=False)

    MAX_BYTES = 1_000_000

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("file")
        if upload is not None:
            if upload.size > self.MAX_BYTES:
                raise forms.ValidationError("the file is larger than 1 MB")
            try:
                cleaned["text"] = upload.read().decode("utf-8")
            except UnicodeDecodeError:
                raise forms.ValidationError("the file is not UTF-8 text") from None
        if not (cleaned.get("text") or "").strip():
            raise forms.ValidationError("paste the YAML or choose a file")
        return cleaned


DURATION_CHOICES = [
    ("1h", "1 hour"),
    ("2h", "2 hours"),
    ("4h", "4 hours"),
    ("8h", "8 hours"),
    ("24h", "1 day"),
    ("168h", "1 week"),
    ("end", "until the end time below"),
]


def _utc_now_input() -> str:
    return timezone.now().astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


class SilenceForm(forms.Form):
    """Comment, match mode and the window; times are typed and shown in UTC like the rest of the app."""

    comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, help_text="Why; shown to everyone."
    )
    match_mode = forms.ChoiceField(label="Match", choices=MatchMode.choices, initial=MatchMode.ALL)
    starts_at = forms.DateTimeField(
        label="Starts (UTC)",
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="Empty: now.",
    )
    duration = forms.ChoiceField(choices=DURATION_CHOICES, initial="2h")
    ends_at = forms.DateTimeField(
        label="Ends (UTC)",
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="Used when the duration is “until the end time”.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["starts_at"].initial = _utc_now_input

    @staticmethod
    def _utc(value: datetime | None) -> datetime | None:
        if value is None:
            return None
        # The inputs say UTC: re-read the wall time as UTC whatever the server's zone is.
        return value.replace(tzinfo=None).replace(tzinfo=UTC)

    def clean(self):
        cleaned = super().clean()
        starts = self._utc(cleaned.get("starts_at")) or timezone.now()
        duration = cleaned.get("duration")
        if duration == "end":
            ends = self._utc(cleaned.get("ends_at"))
            if ends is None:
                self.add_error("ends_at", "give the end time, or choose a duration")
                return cleaned
        elif duration:
            ends = starts + timedelta(hours=int(duration.rstrip("h")))
        else:
            return cleaned
        cleaned["window"] = (starts, ends)
        return cleaned
