"""Move a scenario in time so that its capture happened now.

A scenario is frozen at `x-capture.capturedAt`, often months ago. Served as it is, a ConfigMap edited
ten minutes before the capture looks five hundred days old to anything that compares with the wall
clock (the portal, the engine's "changed recently", the demo's "41 minutes before the alert").
Shifting every RFC 3339 timestamp by the same offset keeps every interval inside the scenario and
puts its "now" at the real now.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

_TIMESTAMP = re.compile(r"^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def parse_time(value: str) -> datetime | None:
    if not _TIMESTAMP.match(value):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def offset_to_now(captured_at: str | None, now: datetime | None = None) -> timedelta | None:
    """How far to move a scenario captured at `captured_at` so that it was captured `now`."""
    captured = parse_time(captured_at) if captured_at else None
    if captured is None:
        return None
    return (now or datetime.now(UTC)) - captured


def shift(value: Any, offset: timedelta) -> Any:
    """A copy of `value` with every RFC 3339 timestamp string moved by `offset` (same format)."""
    if isinstance(value, dict):
        return {key: shift(item, offset) for key, item in value.items()}
    if isinstance(value, list):
        return [shift(item, offset) for item in value]
    if isinstance(value, str):
        match = _TIMESTAMP.match(value)
        moved = parse_time(value) if match else None
        # "0001-01-01T00:00:00Z" is Go's zero time ("never", e.g. Alertmanager's endsAt): keep it.
        if moved is None or match is None or moved.year < 1970:
            return value
        moved = (moved + offset).astimezone(UTC)
        fraction = match.group(3) or ""
        text = moved.strftime("%Y-%m-%dT%H:%M:%S")
        if fraction:
            text += "." + f"{moved.microsecond:06d}"[: len(fraction) - 1]
        return text + "Z"
    return value
