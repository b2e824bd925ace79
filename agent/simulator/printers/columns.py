"""Cell formatting shared by the printers: durations, nested fields, joined lists."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..logs import parse_time

Obj = dict[str, Any]


def human_duration(seconds: float) -> str:
    """k8s.io/apimachinery duration.HumanDuration."""
    if seconds < -1:
        return "<invalid>"
    s = max(int(seconds), 0)
    minutes, hours, days = s // 60, s // 3600, s // 86400
    if s < 120:
        return f"{s}s"
    if minutes < 10:
        return f"{minutes}m{s % 60}s" if s % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{days}d{hours % 24}h" if hours % 24 else f"{days}d"
    if days < 365 * 2:
        return f"{days}d"
    years = days // 365
    if days < 365 * 8:
        return f"{years}y{days % 365}d" if days % 365 else f"{years}y"
    return f"{years}y"


def since(timestamp: str | None, now: datetime) -> str:
    moment = parse_time(timestamp or "")
    return human_duration((now - moment).total_seconds()) if moment else "<unknown>"


def age(obj: Obj, now: datetime) -> str:
    return since((obj.get("metadata") or {}).get("creationTimestamp"), now)


def name_of(obj: Obj) -> str:
    return (obj.get("metadata") or {}).get("name", "")


def dig(obj: Any, *keys: str, default: Any = None) -> Any:
    for key in keys:
        obj = obj.get(key) if isinstance(obj, dict) else None
    return default if obj is None else obj


def join(values: list[str], empty: str = "<none>") -> str:
    return ",".join(v for v in values if v) or empty


def template_containers(obj: Obj) -> list[Obj]:
    return dig(obj, "spec", "template", "spec", "containers", default=[])


def match_labels(selector: Obj | None) -> str:
    labels = (selector or {}).get("matchLabels") or {}
    return join([f"{k}={v}" for k, v in labels.items()])
