"""Helpers every analyzer family shares: the "changed recently" window, human formatting of bytes,
resource amounts, durations, ages and event repeat counts, status-condition lookup, log-line quoting,
and the controllers that create the pods in scope (whose FailedCreate events say why pods are refused).
"""

from __future__ import annotations

import re
from typing import Any

from investigations.engine.context import Context
from investigations.engine.evidence import ClusterView, human_age

RECENT = 6 * 3600  # "changed recently"


def fmt_bytes(value: float | None) -> str:
    """Bytes → 27.7Gi / 512Mi, rounded like a person would say it."""
    if value is None:
        return "?"
    gib = value / 1024**3
    if gib >= 1:
        return f"{round(gib)}Gi" if abs(gib - round(gib)) < 0.05 else f"{gib:.1f}Gi"
    mib = value / 1024**2
    return f"{round(mib)}Mi"


def fmt_amount(resource: str, value: float | None) -> str:
    if value is None:
        return "?"
    if resource == "cpu":
        return f"{value:g}" if value >= 1 and float(value).is_integer() else f"{round(value * 1000)}m"
    if resource in ("memory", "ephemeral-storage") or resource.startswith("hugepages"):
        return fmt_bytes(value)
    return f"{value:g}"


def fmt_duration(seconds: float) -> str:
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m{secs:02d}s"
    return f"{minutes}m{secs:02d}s"


def time_ago(view: ClusterView, timestamp: Any) -> str:
    age = view.age_seconds(timestamp)
    return f"{human_age(age)} ago" if age is not None else "at an unknown time"


def event_count_text(event: dict) -> str:
    count = event.get("count") or (event.get("series") or {}).get("count")
    return f" (x{count})" if count and int(count) > 1 else ""


def status_condition(obj: dict, kind: str) -> dict:
    return next((c for c in (obj.get("status") or {}).get("conditions") or [] if c.get("type") == kind), {})


def quote_line(line: str, limit: int = 220) -> str:
    line = line.strip()
    return line if len(line) <= limit else line[:limit] + "…"


def quote_around(line: str, pattern: re.Pattern[str], limit: int = 240) -> str:
    """A long line (JSON logs) quoted around what matters: the part where `pattern` matches."""
    line = line.strip()
    match = pattern.search(line)
    if len(line) <= limit or match is None:
        return quote_line(line, limit)
    end = min(len(line), match.end() + 20)
    start = max(0, end - limit)
    return ("…" if start else "") + line[start:end] + ("…" if end < len(line) else "")


def creators_in_scope(ctx: Context) -> list[dict]:
    """The controllers that create the in-scope pods: workloads and what they own (ReplicaSets, Jobs)."""
    view = ctx.view
    creators: list[dict] = []

    def add(obj: dict | None) -> None:
        if obj is not None and all(obj is not c for c in creators):
            creators.append(obj)

    workloads = list(ctx.in_scope_workloads())
    target = view.get(ctx.target.kind, ctx.namespace, ctx.target.name) if ctx.target.known else None
    if target is not None and target.get("kind") in (
        "Deployment",
        "StatefulSet",
        "DaemonSet",
        "Job",
        "CronJob",
        "ReplicaSet",
    ):
        workloads.insert(0, target)
    for workload in workloads:
        add(workload)
        for child in view.owned_by(workload):
            if child.get("kind") in ("ReplicaSet", "Job"):
                add(child)
    return creators
